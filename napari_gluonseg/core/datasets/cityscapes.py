"""Cityscapes: ``leftImg8bit/{split}/{city}/{name}_leftImg8bit.*`` and
``gtFine/{split}/{city}/{name}_gtFine_{labelIds,instanceIds,color}.png`` (color: a palette
PNG), with
``label_colors.txt`` (``r g b name``: names without spaces) listing the classes. The id of class
``k`` is the label value ``k``, 0 being Cityscapes' ``unlabeled``; every class is "stuff"
(instance id = class id), so ``instanceIds`` repeats ``labelIds`` in 16 bits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .items import Classes, SourceItem
from .writer import DatasetWriter, check_distinct_colors, png_bytes, write_bytes

CITY = "gluonseg"  # Cityscapes groups images by city: one folder for all
LABEL_COLORS = "label_colors.txt"
UNLABELED = "unlabeled"


class CityscapesWriter(DatasetWriter):
    name = "Cityscapes"
    max_classes = 255  # ids in an 8-bit labelIds PNG, 0 unlabeled
    names_without_spaces = True

    def check(self, classes: Classes) -> None:
        super().check(classes)
        check_distinct_colors(classes, self.name)
        from ..errors import DatasetError

        for k, name in enumerate(classes.names, start=1):
            if name == UNLABELED:
                raise DatasetError(
                    f"Class {k} is called {UNLABELED!r}, Cityscapes' id 0: rename it."
                )

    def start(self, classes: Classes) -> None:
        self._palette = np.zeros((256, 3), np.uint8)
        self._palette[1 : len(classes.colors) + 1] = classes.colors

    def image_path(self, root: Path, item: SourceItem) -> Path:
        name = f"{item.name}_leftImg8bit{item.image.suffix.lower()}"
        return root / "leftImg8bit" / item.split / CITY / name

    def write_labels(self, root: Path, item: SourceItem, labels: np.ndarray) -> None:
        stem = root / "gtFine" / item.split / CITY / f"{item.name}_gtFine"
        ids = labels.astype(np.uint8)
        write_bytes(Path(f"{stem}_labelIds.png"), png_bytes(ids))
        write_bytes(Path(f"{stem}_instanceIds.png"), png_bytes(ids.astype(np.uint16)))
        # The colour picture as a palette PNG: the same colours to anyone who looks or reads it
        # as RGB, written 3x faster than RGB (it is for people; the ids are what tools read).
        write_bytes(Path(f"{stem}_color.png"), png_bytes(ids, self._palette))

    def finish(self, root: Path, classes: Classes, items: list[SourceItem]) -> None:
        lines = [f"0 0 0 {UNLABELED}"]
        lines += [f"{c[0]} {c[1]} {c[2]} {n}" for n, c in zip(classes.names, classes.colors,
                                                              strict=True)]  # fmt: skip
        write_bytes(root / LABEL_COLORS, ("\n".join(lines) + "\n").encode())
