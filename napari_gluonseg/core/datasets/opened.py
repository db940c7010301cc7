"""Datasets made elsewhere, opened to correct: COCO (RLE or polygons), Pascal VOC (index
masks), CVAT's "Segmentation mask 1.1" (colour masks), Cityscapes (id PNGs) and YOLO
segmentation (polygons), each image read as labels of the dataset's classes (value ``k`` is
class ``k``, 0 unlabeled) and saved back in the dataset's own format, the image's own files
replaced atomically, nothing else changed:

- COCO: the classes whose pixels the person left as they were keep their annotations as they
  were (polygons, instances, overlaps); a class that changed gets one RLE annotation in place
  of its own. The JSON is rewritten (same content elsewhere, compact layout).
- VOC / CVAT: the image's mask PNG is rewritten in its own mode and palette.
- Cityscapes: labelIds rewritten, instanceIds kept where the class is (:mod:`.opened_cityscapes`).
- YOLO: the lines of the classes left alone kept, the changed classes' parts written anew.

Where annotations overlap, the one listed later is on top in the labels (as pycocotools'
drawing order would show them).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DatasetError
from .cityscapes import LABEL_COLORS
from .export import DatasetFormat
from .opened_base import IMAGE_SUFFIXES, DatasetEntry, OpenedDataset, coco_files, mask_mode
from .opened_cityscapes import CityscapesDataset
from .opened_coco import CocoDataset
from .opened_masks import MaskDataset
from .opened_yolo import YoloDataset
from .voc import MASKS, SPLITS
from .yolo import DATA_YAML

__all__ = [
    "IMAGE_SUFFIXES", "DatasetEntry", "OpenedDataset", "detect_format", "open_dataset",
]  # fmt: skip


def detect_format(path: str | os.PathLike) -> DatasetFormat | None:
    """The format of the dataset folder ``path``, None for a folder of none of them."""
    root = Path(path)
    if not root.is_dir():
        return None
    if coco_files(root):
        return DatasetFormat.COCO
    if (root / DATA_YAML).is_file() and (root / "labels").is_dir():
        return DatasetFormat.YOLO
    if (root / LABEL_COLORS).is_file() and (root / "gtFine").is_dir():
        return DatasetFormat.CITYSCAPES
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
    if fmt is DatasetFormat.CITYSCAPES:
        return CityscapesDataset(Path(path))
    if fmt is DatasetFormat.YOLO:
        return YoloDataset(Path(path))
    raise DatasetError(
        f"{path} is not a dataset this package opens: a COCO folder (annotations/*.json), "
        f"a VOC or CVAT mask folder ({MASKS}/ and {SPLITS}/), a Cityscapes folder (gtFine/ "
        f"and {LABEL_COLORS}) or a YOLO segmentation folder (labels/ and {DATA_YAML})."
    )
