"""What an opened dataset is (:class:`OpenedDataset`: its classes, images, labels read and
saved) and the small readers its formats share; :mod:`.opened` opens one."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import strict_image_reads
from ..errors import DatasetError
from .export import SIDECAR, DatasetFormat, image_size
from .items import Classes

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class DatasetEntry:
    """One image of an opened dataset: its name there, its file and its split."""

    name: str
    image: Path
    split: str


class OpenedDataset(ABC):
    """A dataset opened to correct (see the module's notes)."""

    format: DatasetFormat
    root: Path
    classes: Classes
    entries: list[DatasetEntry]

    def entry(self, name: str) -> DatasetEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise DatasetError(f"No image {name!r} in the dataset {self.root}.")

    @abstractmethod
    def read_labels(self, name: str) -> np.ndarray:
        """The labels of image ``name`` (uint8 or uint16, the image's height and width)."""

    @abstractmethod
    def labels_file(self, name: str) -> Path:
        """The file image ``name``'s labels are read from (and saved to)."""

    @abstractmethod
    def save_labels(self, name: str, labels: np.ndarray) -> None:
        """Write ``labels`` back as image ``name``'s, in the dataset's format."""

    def _check_shape(self, name: str, labels: np.ndarray, source: Path) -> np.ndarray:
        size = image_size(self.entry(name).image)
        if size is not None and labels.shape != size:
            raise DatasetError(
                f"{source} is {labels.shape[0]}x{labels.shape[1]}, its image "
                f"{self.entry(name).image} {size[0]}x{size[1]}: the mask is of another image."
            )
        return labels


def coco_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "annotations").glob("*.json") if p.is_file())


def checked(labels: np.ndarray, shape: tuple, n_classes: int, path: Path) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != shape:
        raise DatasetError(f"Labels of shape {labels.shape} cannot replace {path}'s {shape}.")
    if labels.dtype.kind not in "ui" or int(labels.min(initial=0)) < 0:
        raise DatasetError(f"Labels of {labels.dtype} cannot be saved to {path}.")
    top = int(labels.max(initial=0))
    if top > n_classes:
        raise DatasetError(
            f"Label value {top} is not a class of the dataset {path} ({n_classes} classes)."
        )
    return labels


def sidecar_colors(root: Path, n: int) -> list | None:
    """The scheme's colours where this package wrote the set (its sidecar), else None."""
    path = root / SIDECAR
    if not path.is_file():
        return None
    colors = read_json(path).get("colors")
    if not isinstance(colors, list) or len(colors) != n:
        return None
    return [tuple(bytes.fromhex(str(c).lstrip("#"))[:3]) for c in colors]


def read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise DatasetError(f"{path} does not hold a JSON object.")
    return document


def read_png(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with strict_image_reads(), Image.open(path) as im:
            im.load()
            return np.array(im)
    except Exception as exc:  # a damaged file: zlib.error, OSError...
        raise DatasetError(f"Cannot read the mask {path}: {exc}") from exc


def mask_mode(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as im:
        return im.mode
