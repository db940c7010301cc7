"""What every dataset format's writer does (:class:`DatasetWriter`), and the small pieces they
share: PNG bytes, the VOC palette, checks of what a format can hold."""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError
from .items import Classes, SourceItem, check_unique_names

UNLABELED_NAME = "background"  # what CVAT and VOC's label maps call the unlabeled colour


class DatasetWriter(ABC):
    """One format: the checks of the classes, where each image goes, each image's labels,
    and the files that list them all, written last."""

    name: str
    max_classes: int | None = None
    names_without_spaces = False

    def check(self, classes: Classes) -> None:
        """DatasetError naming the class or count the format cannot hold."""
        check_unique_names(classes.names, "")
        if self.max_classes is not None and len(classes.names) > self.max_classes:
            raise DatasetError(
                f"{len(classes.names)} classes do not fit {self.name}, which holds at most "
                f"{self.max_classes}."
            )
        for k, name in enumerate(classes.names, start=1):
            if not name.strip():
                raise DatasetError(f"Class {k} has an empty name, which {self.name} cannot hold.")
            if self.names_without_spaces and (len(name.split()) != 1):
                raise DatasetError(
                    f"Class {k}, {name!r}: {self.name}'s class list cannot hold a name with "
                    "spaces. Export with short names (the name up to its first comma, spaces "
                    "as underscores)."
                )

    def start(self, classes: Classes) -> None:  # noqa: B027 (most formats need nothing)
        """Called once, after :meth:`check`, before the first image."""

    @abstractmethod
    def image_path(self, root: Path, item: SourceItem) -> Path:
        """Where ``item``'s image goes in the dataset."""

    @abstractmethod
    def write_labels(self, root: Path, item: SourceItem, labels: np.ndarray) -> None:
        """Write ``item``'s labels (values of :class:`Classes`, 0 unlabeled)."""

    @abstractmethod
    def finish(self, root: Path, classes: Classes, items: list[SourceItem]) -> None:
        """The files that describe the whole set (class lists, split lists, annotations)."""


def png_bytes(array: np.ndarray, palette: np.ndarray | None = None) -> bytes:
    """A PNG of a 2-D uint8/uint16 or (H, W, 3) uint8 array; with ``palette`` (256 x 3), a
    palette ("P") image whose index is the array's value."""
    from PIL import Image

    image = Image.fromarray(array) if palette is None else _as_palette(array, palette)
    buffer = io.BytesIO()
    # zlib level 1: a 12 MP mask in 0.12 s instead of 0.25-0.4 s at the default 6, for files
    # about twice as large (a few hundred kB); a dataset is written once per export.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _as_palette(array: np.ndarray, palette: np.ndarray) -> Any:
    from PIL import Image

    image = Image.new("P", (array.shape[1], array.shape[0]))
    image.putpalette(palette.astype(np.uint8).ravel().tolist())
    image.frombytes(np.ascontiguousarray(array, np.uint8).tobytes())
    return image


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def voc_palette(n: int = 256) -> np.ndarray:
    """Pascal VOC's colour map (``bitget`` of the index spread over the three channels)."""
    out = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out[i] = (r, g, b)
    return out


def check_distinct_colors(classes: Classes, fmt: str) -> None:
    """Colour-coded masks tell classes apart by colour: none black (unlabeled), no two alike."""
    first: dict[tuple[int, int, int], int] = {}
    for k, color in enumerate(classes.colors, start=1):
        hex_color = "#{:02x}{:02x}{:02x}".format(*color)
        if color == (0, 0, 0):
            raise DatasetError(
                f"Class {k}, {classes.names[k - 1]!r}, is black ({hex_color}), the colour "
                f"{fmt} masks keep for unlabeled pixels: give it another colour in the scheme."
            )
        if color in first:
            raise DatasetError(
                f"Classes {first[color]} and {k} are both {hex_color}: {fmt} masks tell "
                "classes apart by colour. Give one another colour in the scheme."
            )
        first[color] = k


def check_name_not_background(classes: Classes, fmt: str) -> None:
    for k, name in enumerate(classes.names, start=1):
        if name.strip().lower() == UNLABELED_NAME:
            raise DatasetError(
                f"Class {k} is called {name!r}, the name {fmt} keeps for unlabeled pixels: "
                "rename it in the scheme."
            )
