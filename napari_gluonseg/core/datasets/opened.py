"""Datasets made elsewhere, opened to correct: COCO (RLE or polygons), Pascal VOC (index
masks) and CVAT's "Segmentation mask 1.1" (colour masks), each image read as labels of the
dataset's classes (value ``k`` is class ``k``, 0 unlabeled) and saved back in the dataset's own
format, one file replaced atomically, nothing else changed:

- COCO: the classes whose pixels the person left as they were keep their annotations as they
  were (polygons, instances, overlaps); a class that changed gets one RLE annotation in place
  of its own. The JSON is rewritten (same content elsewhere, compact layout).
- VOC / CVAT: the image's mask PNG is rewritten in its own mode and palette.

Where annotations overlap, the one listed later is on top in the labels (as pycocotools'
drawing order would show them).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DatasetError
from .export import DatasetFormat
from .opened_base import IMAGE_SUFFIXES, DatasetEntry, OpenedDataset, coco_files, mask_mode
from .opened_coco import CocoDataset
from .opened_masks import MaskDataset
from .voc import MASKS, SPLITS

__all__ = [
    "IMAGE_SUFFIXES", "DatasetEntry", "OpenedDataset", "detect_format", "open_dataset",
]  # fmt: skip


def detect_format(path: str | os.PathLike) -> DatasetFormat | None:
    """The format of the dataset folder ``path`` (COCO, VOC or CVAT masks), None for another."""
    root = Path(path)
    if not root.is_dir():
        return None
    if coco_files(root):
        return DatasetFormat.COCO
    masks = root / MASKS
    if masks.is_dir() and (root / SPLITS).is_dir():
        first = next(iter(sorted(masks.glob("*.png"))), None)
        return DatasetFormat.CVAT if first is not None and mask_mode(first) == "RGB" else (
            DatasetFormat.VOC)  # fmt: skip
    return None


def open_dataset(path: str | os.PathLike) -> OpenedDataset:
    """Open the dataset folder ``path``; DatasetError naming what is missing or wrong."""
    fmt = detect_format(path)
    if fmt is DatasetFormat.COCO:
        return CocoDataset(Path(path))
    if fmt in (DatasetFormat.VOC, DatasetFormat.CVAT):
        return MaskDataset(Path(path), fmt)
    raise DatasetError(
        f"{path} is not a dataset this package opens: a COCO folder (annotations/*.json), "
        f"or a VOC or CVAT mask folder ({MASKS}/ and {SPLITS}/)."
    )
