"""COCO: ``annotations/instances_{split}.json`` and ``images/{split}/``. Each class present in
an image is one annotation: its mask as compressed RLE (pycocotools' own string), or, with
``polygons``, as polygons on the pixel edges (:mod:`.polygons`, holes joined in), with its area
and box. Category ids are the label values (1, 2, ...); each category carries its colour."""

from __future__ import annotations

import datetime
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .items import Classes, SourceItem
from .polygons import Convention, class_polygons
from .rle import class_counts, encode_counts, label_runs
from .writer import DatasetWriter, write_bytes


class CocoWriter(DatasetWriter):
    name = "COCO"

    def __init__(self, polygons: bool = False) -> None:
        self.polygons = polygons
        self._images: dict[str, list[dict[str, Any]]] = {}
        self._annotations: dict[str, list[tuple[int, list[dict[str, Any]]]]] = {}
        self._lock = threading.Lock()  # images are written by several threads

    def image_path(self, root: Path, item: SourceItem) -> Path:
        return root / "images" / item.split / f"{item.name}{item.image.suffix.lower()}"

    def write_labels(self, root: Path, item: SourceItem, labels: np.ndarray) -> None:
        image_id = item.index + 1
        h, w = labels.shape
        image = {"id": image_id, "file_name": self.image_path(root, item).name,
                 "width": w, "height": h}  # fmt: skip
        annotations = image_annotations(labels, image_id, self.polygons)
        with self._lock:
            self._images.setdefault(item.split, []).append(image)
            self._annotations.setdefault(item.split, []).append((image_id, annotations))

    def finish(self, root: Path, classes: Classes, items: list[SourceItem]) -> None:
        categories = [
            {"id": k, "name": name, "supercategory": "", "color": list(color)}
            for k, (name, color) in enumerate(zip(classes.names, classes.colors, strict=True), 1)
        ]
        next_id = 1
        for split in sorted(self._images):
            annotations = [a for _, group in sorted(self._annotations[split], key=lambda g: g[0])
                           for a in group]  # fmt: skip
            for a in annotations:
                a["id"], next_id = next_id, next_id + 1
            document = {
                "info": _info(),
                "licenses": [],
                "images": sorted(self._images[split], key=lambda i: i["id"]),
                "annotations": annotations,
                "categories": categories,
            }
            path = root / "annotations" / f"instances_{split}.json"
            write_bytes(path, json.dumps(document, separators=(",", ":")).encode())


def image_annotations(labels: np.ndarray, image_id: int, polygons: bool) -> list[dict[str, Any]]:
    """One annotation per class present in ``labels`` (ids left for the caller to set)."""
    h, w = labels.shape
    runs = label_runs(labels)
    rings = class_polygons(labels, Convention.CORNERS) if polygons else {}
    out = []
    for value in np.unique(runs[0]).tolist():
        if value == 0:
            continue
        counts = class_counts(runs, value, labels.size)
        area = int(counts[1::2].sum())
        ys, xs = _extent(runs, value, h)
        segmentation: Any
        if polygons:
            segmentation = [[round(float(v), 2) for v in r.ravel()] for r in rings[value]]
        else:
            segmentation = {"size": [h, w], "counts": encode_counts(counts)}
        out.append({
            "id": 0, "image_id": image_id, "category_id": int(value),
            "segmentation": segmentation, "area": area,
            "bbox": [xs[0], ys[0], xs[1] - xs[0], ys[1] - ys[0]], "iscrowd": 0,
        })  # fmt: skip
    return out


def _extent(runs: tuple, value: int, h: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(top, bottom + 1), (left, right + 1) of a value's pixels, from the column-major runs
    (a run that crosses into the next column covers every row)."""
    values, starts, ends = runs
    mine = values == value
    first, last = starts[mine], ends[mine] - 1
    c0, c1 = first // h, last // h
    crosses = c0 != c1
    top = np.where(crosses, 0, first % h).min()
    bottom = np.where(crosses, h - 1, last % h).max()
    return (int(top), int(bottom) + 1), (int(c0.min()), int(c1.max()) + 1)


def _info() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "description": "Written by napari-gluonseg",
        "version": version("napari-gluonseg"),
        "date_created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
