"""Pascal VOC segmentation and CVAT's "Segmentation mask 1.1", one layout: ``JPEGImages/``,
``SegmentationClass/{name}.png``, ``ImageSets/Segmentation/{split}.txt`` and ``labelmap.txt``
(``name:r,g,b::``, which CVAT and datumaro read).

- VOC: an index PNG with VOC's palette, class ``k`` (label value) at index ``k - 1``, 255
  for unlabeled pixels (VOC's "void", listed last in the label map as ``ignored`` in VOC's
  void colour, as datumaro does, so that colour readers know it), at most 255 classes.
- CVAT: an RGB PNG in the scheme's colours, black for unlabeled pixels (the ``background`` of
  CVAT's label map), so colours must be distinct and not black; the split lists are CVAT's
  subsets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .items import Classes, SourceItem
from .writer import (
    UNLABELED_NAME,
    DatasetWriter,
    check_distinct_colors,
    check_name_not_background,
    png_bytes,
    voc_palette,
    write_bytes,
)

VOID = 255
VOID_NAME = "ignored"  # datumaro's name for VOC's void index, in its colour (224, 224, 192)
LABELMAP = "labelmap.txt"
MASKS = "SegmentationClass"
IMAGES = "JPEGImages"
SPLITS = Path("ImageSets", "Segmentation")


class VocWriter(DatasetWriter):
    name = "Pascal VOC"
    max_classes = 255

    def check(self, classes: Classes) -> None:
        super().check(classes)
        _check_label_map_names(classes, self.name)
        for k, name in enumerate(classes.names, start=1):
            if name.strip().lower() == VOID_NAME:
                raise DatasetError(
                    f"Class {k} is called {name!r}, the name VOC's label map gives its void "
                    "index (unlabeled pixels): rename it in the scheme."
                )

    def image_path(self, root: Path, item: SourceItem) -> Path:
        return root / IMAGES / f"{item.name}{item.image.suffix.lower()}"

    def write_labels(self, root: Path, item: SourceItem, labels: np.ndarray) -> None:
        index = np.where(labels == 0, VOID, labels.astype(np.int64) - 1).astype(np.uint8)
        write_bytes(root / MASKS / f"{item.name}.png", png_bytes(index, voc_palette()))

    def finish(self, root: Path, classes: Classes, items: list[SourceItem]) -> None:
        palette = [tuple(int(v) for v in c) for c in voc_palette()]
        names = (*classes.names, VOID_NAME)
        _write_label_map(root, names, [*palette[: len(classes.names)], palette[VOID]], False)
        _write_splits(root, items)


class CvatMaskWriter(DatasetWriter):
    name = "CVAT Segmentation mask 1.1"

    def check(self, classes: Classes) -> None:
        super().check(classes)
        _check_label_map_names(classes, self.name)
        check_distinct_colors(classes, self.name)
        check_name_not_background(classes, self.name)

    def image_path(self, root: Path, item: SourceItem) -> Path:
        return root / IMAGES / f"{item.name}{item.image.suffix.lower()}"

    def start(self, classes: Classes) -> None:
        self._colors = np.array([(0, 0, 0), *classes.colors], np.uint8)

    def write_labels(self, root: Path, item: SourceItem, labels: np.ndarray) -> None:
        write_bytes(root / MASKS / f"{item.name}.png", png_bytes(self._colors[labels]))

    def finish(self, root: Path, classes: Classes, items: list[SourceItem]) -> None:
        _write_label_map(root, classes.names, list(classes.colors), with_background=True)
        _write_splits(root, items)


def _check_label_map_names(classes: Classes, fmt: str) -> None:
    for k, name in enumerate(classes.names, start=1):
        if ":" in name or "\n" in name:
            raise DatasetError(
                f"Class {k}, {name!r}: {fmt}'s {LABELMAP} separates its fields by ':', so a "
                "name cannot hold one. Rename it in the scheme."
            )


def _write_label_map(
    root: Path, names: tuple[str, ...], colors: list, with_background: bool
) -> None:
    lines = ["# label:color_rgb:parts:actions"]
    if with_background:
        lines.append(f"{UNLABELED_NAME}:0,0,0::")
    lines += [f"{n}:{c[0]},{c[1]},{c[2]}::" for n, c in zip(names, colors, strict=True)]
    write_bytes(root / LABELMAP, ("\n".join(lines) + "\n").encode())


def _write_splits(root: Path, items: list[SourceItem]) -> None:
    for split in sorted({i.split for i in items}):
        names = sorted(i.name for i in items if i.split == split)
        write_bytes(root / SPLITS / f"{split}.txt", ("\n".join(names) + "\n").encode())
