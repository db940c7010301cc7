"""VOC (index PNGs) and CVAT "Segmentation mask 1.1" (colour PNGs) datasets opened to correct
(see :mod:`.opened`): the classes of ``labelmap.txt`` (VOC's 21 without one); a mask saved back
in its own mode and palette."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_files
from ..errors import DatasetError
from .export import DatasetFormat
from .items import Classes
from .opened_base import (
    IMAGE_SUFFIXES,
    DatasetEntry,
    OpenedDataset,
    checked,
    read_png,
    sidecar_colors,
)
from .voc import IMAGES, LABELMAP, MASKS, SPLITS, VOID, VOID_NAME
from .writer import UNLABELED_NAME, png_bytes, voc_palette


class MaskDataset(OpenedDataset):
    def __init__(self, root: Path, fmt: DatasetFormat) -> None:
        self.root, self.format = root, fmt
        entries = _label_map(root)
        if fmt is DatasetFormat.CVAT:
            entries = [e for e in entries if e[0].lower() != UNLABELED_NAME or e[1] != (0, 0, 0)]
        else:
            entries = [e for e in entries if e[0] != VOID_NAME]
        colors = sidecar_colors(root, len(entries))
        self.classes = Classes(tuple(n for n, _ in entries),
                               tuple(colors or [c for _, c in entries]))  # fmt: skip
        self._code = {c: k for k, (_, c) in enumerate(entries, start=1)}
        self.entries = []
        images = {p.stem: p for p in sorted((root / IMAGES).glob("*"))
                  if p.suffix.lower() in IMAGE_SUFFIXES}  # fmt: skip
        seen: set[str] = set()
        for split_file in sorted((root / SPLITS).glob("*.txt")):
            for line in split_file.read_text(encoding="utf-8").split():
                if line in seen or not (root / MASKS / f"{line}.png").is_file():
                    continue
                if line not in images:
                    raise DatasetError(
                        f"{split_file} lists {line}, whose image is not in {root / IMAGES}."
                    )
                seen.add(line)
                self.entries.append(DatasetEntry(line, images[line], split_file.stem))

    def labels_file(self, name: str) -> Path:
        return self._mask_path(name)

    def _mask_path(self, name: str) -> Path:
        self.entry(name)
        return self.root / MASKS / f"{name}.png"

    def read_labels(self, name: str) -> np.ndarray:
        path = self._mask_path(name)
        data = read_png(path)
        if data.ndim == 2:  # index PNG: class k at index k - 1, VOC's void 255 unlabeled
            n = len(self.classes.names)
            if int(data[data != VOID].max(initial=0)) >= n:
                bad = int(data[data != VOID].max())
                raise DatasetError(f"{path} holds index {bad}; {self.root / LABELMAP} lists {n}.")
            labels = np.where(data == VOID, 0, data.astype(np.int64) + 1)
        else:
            labels = self._from_colors(data[..., :3], path)
        dtype = np.uint8 if len(self.classes.names) < 256 else np.uint16
        return self._check_shape(name, labels.astype(dtype), path)

    def _from_colors(self, rgb: np.ndarray, path: Path) -> np.ndarray:
        codes = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[
            ..., 2]  # fmt: skip
        found, inverse = np.unique(codes, return_inverse=True)
        lookup = np.zeros(len(found), np.int64)
        for i, code in enumerate(found.tolist()):
            color = (code >> 16, (code >> 8) & 255, code & 255)
            if color == (0, 0, 0):
                continue
            if color not in self._code:
                count = int((inverse == i).sum())
                raise DatasetError(
                    f"{path}: {count} pixels of colour #{code:06x}, which "
                    f"{self.root / LABELMAP} gives no class."
                )
            lookup[i] = self._code[color]
        return lookup[inverse].reshape(codes.shape)

    def save_labels(self, name: str, labels: np.ndarray) -> None:
        path = self._mask_path(name)
        before = self.read_labels(name)
        labels = checked(labels, before.shape, len(self.classes.names), path)
        from PIL import Image

        with Image.open(path) as im:
            mode, palette = im.mode, im.getpalette()
        if mode == "P":
            index = np.where(labels == 0, VOID, labels.astype(np.int64) - 1).astype(np.uint8)
            pal = np.asarray(palette or voc_palette().ravel().tolist(), np.uint8).reshape(-1, 3)
            data = png_bytes(index, np.resize(pal, (256, 3)) if len(pal) < 256 else pal[:256])
        elif mode == "L":
            data = png_bytes(np.where(labels == 0, VOID, labels - 1).astype(np.uint8))
        else:
            table = np.zeros((len(self.classes.names) + 1, 3), np.uint8)
            for color, k in self._code.items():
                table[k] = color
            data = png_bytes(table[labels])
        write_files({path: data})


def _label_map(root: Path) -> list[tuple[str, tuple[int, int, int]]]:
    """``labelmap.txt``'s (name, colour) lines, in order; VOC's 21 classes where there is none."""
    path = root / LABELMAP
    if not path.is_file():
        from .voc_classes import VOC_CLASSES

        rgb = voc_palette()
        return [(n, (int(rgb[i, 0]), int(rgb[i, 1]), int(rgb[i, 2])))
                for i, n in enumerate(VOC_CLASSES)]  # fmt: skip
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(":")
        try:
            values = tuple(int(v) for v in fields[1].split(","))
            if len(values) != 3 or not all(0 <= v < 256 for v in values):
                raise ValueError
        except (IndexError, ValueError):
            raise DatasetError(
                f"{path}, line {number}: {line!r} is not name:r,g,b:parts:actions."
            ) from None
        out.append((fields[0], (values[0], values[1], values[2])))
    return out
