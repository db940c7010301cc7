"""Cityscapes datasets opened to correct (see :mod:`.opened`): the classes of
``label_colors.txt`` (``r g b name``; its ``unlabeled`` is id 0), the images of
``leftImg8bit/{split}/{city}/``, the labels of ``gtFine/.../*_gtFine_labelIds.png`` (label value
= id). Saving rewrites the image's labelIds; its instanceIds keep their instance ids where the
class did not change (edited pixels take the class id: "stuff"), and its colour picture is
redrawn where there is one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_files
from ..errors import DatasetError
from .cityscapes import LABEL_COLORS, UNLABELED
from .export import DatasetFormat
from .items import Classes
from .opened_base import IMAGE_SUFFIXES, DatasetEntry, OpenedDataset, checked, read_png
from .writer import png_bytes

IMAGES, LABELS = "leftImg8bit", "gtFine"


class CityscapesDataset(OpenedDataset):
    format = DatasetFormat.CITYSCAPES

    def __init__(self, root: Path) -> None:
        self.root = root
        self.classes = _label_colors(root / LABEL_COLORS)
        self.entries = []
        self._masks: dict[str, Path] = {}
        for image in sorted((root / IMAGES).glob("*/*/*")):
            if image.suffix.lower() not in IMAGE_SUFFIXES or "_leftImg8bit" not in image.name:
                continue
            name = image.name[: image.name.index("_leftImg8bit")]
            split, city = image.parent.parent.name, image.parent.name
            mask = root / LABELS / split / city / f"{name}_gtFine_labelIds.png"
            if not mask.is_file():
                continue  # an image without labels (Cityscapes' test split): nothing to correct
            if name in self._masks:
                raise DatasetError(f"{image}: the name {name} is in the dataset twice.")
            self._masks[name] = mask
            self.entries.append(DatasetEntry(name, image, split))
        for mask in sorted((root / LABELS).glob("*/*/*_gtFine_labelIds.png")):
            name = mask.name.removesuffix("_gtFine_labelIds.png")
            if name not in self._masks:
                raise DatasetError(f"{mask} has no image in {root / IMAGES}.")

    def labels_file(self, name: str) -> Path:
        self.entry(name)
        return self._masks[name]

    def read_labels(self, name: str) -> np.ndarray:
        self.entry(name)
        path = self._masks[name]
        ids = read_png(path)
        if ids.ndim != 2 or int(ids.max(initial=0)) > len(self.classes.names):
            top = int(ids.max(initial=0))
            raise DatasetError(
                f"{path} holds id {top}; {self.root / LABEL_COLORS} lists "
                f"{len(self.classes.names)} classes after {UNLABELED!r}."
            )
        return self._check_shape(name, ids.astype(np.uint8), path)

    def save_labels(self, name: str, labels: np.ndarray) -> None:
        before = self.read_labels(name)
        path = self._masks[name]
        labels = checked(labels, before.shape, len(self.classes.names), path).astype(np.uint8)
        stem = str(path)[: -len("_labelIds.png")]
        files = {path: png_bytes(labels)}
        instances = Path(f"{stem}_instanceIds.png")
        if instances.is_file():
            kept = read_png(instances).astype(np.int64)
            ids = np.where(labels == before, kept, labels).astype(np.uint16)
            files[instances] = png_bytes(ids)
        color = Path(f"{stem}_color.png")
        if color.is_file():
            palette = np.zeros((256, 3), np.uint8)
            palette[1 : len(self.classes.colors) + 1] = self.classes.colors
            files[color] = png_bytes(labels, palette)
        write_files(files)


def _label_colors(path: Path) -> Classes:
    """The classes of ``label_colors.txt``, in id order after ``unlabeled`` (id 0)."""
    if not path.is_file():
        raise DatasetError(
            f"{path} is missing: it names the classes of a Cityscapes folder ({LABEL_COLORS}, "
            "'r g b name' per line, as datumaro writes it)."
        )
    names: list[str] = []
    colors: list[tuple[int, int, int]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields or line.lstrip().startswith("#"):
            continue
        try:
            r, g, b = (int(v) for v in fields[:3])
            name = fields[3]
        except (ValueError, IndexError):
            raise DatasetError(f"{path}, line {number}: {line!r} is not 'r g b name'.") from None
        if not names and not colors and name == UNLABELED:
            continue  # id 0
        names.append(name)
        colors.append((r, g, b))
    return Classes(tuple(names), tuple(colors))
