"""YOLO segmentation (Ultralytics): ``images/{split}/``, ``labels/{split}/{name}.txt`` with a
line ``class x1 y1 x2 y2 ...`` per connected part of a class (class ``k - 1`` for label value
``k``; coordinates divided by the width and height), and ``data.yaml`` naming the classes.

Vertices are on the centres of a part's boundary pixels (:mod:`.polygons`), as OpenCV's
``fillPoly``, which Ultralytics and supervision draw polygons with, expects: filled, they give
the part back. A hole is joined to its part by a cut of zero width (YOLO has no holes); a part
one pixel wide becomes a ring out and back along it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from .items import TRAIN, VAL, Classes, SourceItem
from .polygons import Convention, part_polygons
from .writer import DatasetWriter, write_bytes

DATA_YAML = "data.yaml"


def polygon_lines(labels: np.ndarray) -> list[str]:
    """``class x1 y1 ...`` for each connected part of each class in ``labels`` (0: none)."""
    h, w = labels.shape
    scale = np.array([w, h], np.float64)
    lines = []
    for value in np.unique(labels).tolist():
        if value == 0:
            continue
        for ring in part_polygons(labels == value, Convention.CENTRES):
            coords = " ".join(f"{v:.7g}" for v in (ring / scale).ravel())
            lines.append(f"{value - 1} {coords}")
    return lines


class YoloWriter(DatasetWriter):
    name = "YOLO segmentation"

    def image_path(self, root: Path, item: SourceItem) -> Path:
        return root / "images" / item.split / f"{item.name}{item.image.suffix.lower()}"

    def write_labels(self, root: Path, item: SourceItem, labels: np.ndarray) -> None:
        lines = polygon_lines(labels)
        text = "\n".join(lines) + ("\n" if lines else "")
        write_bytes(root / "labels" / item.split / f"{item.name}.txt", text.encode())

    def finish(self, root: Path, classes: Classes, items: list[SourceItem]) -> None:
        splits = {i.split for i in items}
        val = VAL if VAL in splits else TRAIN  # Ultralytics needs both keys
        data = {"path": ".", "train": f"images/{TRAIN}", "val": f"images/{val}",
                "names": dict(enumerate(classes.names))}  # fmt: skip
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        write_bytes(root / DATA_YAML, text.encode())
