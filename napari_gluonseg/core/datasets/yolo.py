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
from .polygons import Convention, class_polygons
from .writer import DatasetWriter, write_bytes

DATA_YAML = "data.yaml"


def polygon_lines(labels: np.ndarray) -> list[str]:
    """``class x1 y1 ...`` for each connected part of each class in ``labels`` (0: none)."""
    h, w = labels.shape
    # Vertices are pixel centres (whole numbers): each x / w and y / h spelled once, then looked
    # up (formatting half a million numbers one by one took a fifth of a 12 MP image's time).
    x_text = np.array(["%.7g" % (x / w) for x in range(w)], dtype=object)
    y_text = np.array(["%.7g" % (y / h) for y in range(h)], dtype=object)
    lines = []
    for value, rings in sorted(class_polygons(labels, Convention.CENTRES).items()):
        for ring in rings:
            xy = ring.astype(np.int64)
            words = np.empty(2 * len(xy), dtype=object)
            words[0::2], words[1::2] = x_text[xy[:, 0]], y_text[xy[:, 1]]
            lines.append(f"{value - 1} " + " ".join(words.tolist()))
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
