"""COCO datasets opened to correct (see :mod:`.opened`): every ``annotations/*.json``, one split
each; a class the person changed gets one RLE annotation in place of its own, the others keep
theirs as they were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_files
from ..errors import DatasetError
from .coco import image_annotations
from .export import DatasetFormat
from .items import Classes
from .opened_base import DatasetEntry, OpenedDataset, checked, coco_files, read_json, sidecar_colors
from .rle import counts_to_mask, decode_counts
from .writer import voc_palette


class CocoDataset(OpenedDataset):
    format = DatasetFormat.COCO

    def __init__(self, root: Path) -> None:
        self.root = root
        self._documents: dict[Path, dict[str, Any]] = {}
        self._where: dict[str, tuple[Path, dict[str, Any]]] = {}
        categories: dict[int, dict[str, Any]] = {}
        for path in coco_files(root):
            document = read_json(path)
            for key in ("images", "annotations", "categories"):
                if not isinstance(document.get(key), list):
                    raise DatasetError(f"{path} has no {key!r} list: not a COCO annotation file.")
            self._documents[path] = document
            for c in document["categories"]:
                categories.setdefault(int(c["id"]), c)
        ids = sorted(categories)
        self._value = {cid: k for k, cid in enumerate(ids, start=1)}
        self._category = {k: cid for cid, k in self._value.items()}
        colors = sidecar_colors(root, len(ids))
        self.classes = Classes(
            tuple(str(categories[c]["name"]) for c in ids),
            tuple(_color_of(categories[c], k, colors) for k, c in enumerate(ids)),
        )
        self.entries = []
        for path, document in self._documents.items():
            split = path.stem.removeprefix("instances_")
            for image in document["images"]:
                name = Path(str(image["file_name"])).stem
                if name in self._where:
                    raise DatasetError(f"{path}: image {name!r} is listed twice in the dataset.")
                self._where[name] = (path, image)
                self.entries.append(DatasetEntry(name, self._image_file(path, image), split))

    def _image_file(self, annotations: Path, image: dict[str, Any]) -> Path:
        split = annotations.stem.removeprefix("instances_")
        file_name = str(image["file_name"])
        for folder in (self.root / "images" / split, self.root / "images", self.root):
            if (folder / file_name).is_file():
                return folder / file_name
        raise DatasetError(
            f"{annotations}: the image {file_name} (id {image.get('id')}) is not in "
            f"{self.root / 'images' / split}, {self.root / 'images'} or {self.root}."
        )

    def _annotations_of(self, name: str) -> tuple[Path, dict[str, Any], list[dict[str, Any]]]:
        path, image = self._where[name]
        anns = [a for a in self._documents[path]["annotations"] if a["image_id"] == image["id"]]
        return path, image, anns

    def labels_file(self, name: str) -> Path:
        self.entry(name)
        return self._where[name][0]

    def read_labels(self, name: str) -> np.ndarray:
        self.entry(name)
        path, image, anns = self._annotations_of(name)
        h, w = int(image["height"]), int(image["width"])
        labels = np.zeros((h, w), np.uint8 if len(self.classes.names) < 256 else np.uint16)
        for a in anns:
            value = self._value.get(int(a["category_id"]))
            if value is None:
                raise DatasetError(
                    f"{path}: annotation {a.get('id')} has category {a['category_id']}, which "
                    "the file does not list."
                )
            labels[_mask_of(a, h, w, path)] = value
        return self._check_shape(name, labels, path)

    def save_labels(self, name: str, labels: np.ndarray) -> None:
        path, image = self._where[self.entry(name).name]
        before = self.read_labels(name)
        labels = checked(labels, before.shape, len(self.classes.names), path)
        edited = before != labels
        changed = {int(v) for v in np.unique(np.concatenate([before[edited], labels[edited]]))}
        changed.discard(0)
        document = self._documents[path]
        replaced = {self._category[v] for v in changed}
        kept = [a for a in document["annotations"] if
                a["image_id"] != image["id"] or int(a["category_id"]) not in replaced]  # fmt: skip
        next_id = max((int(a.get("id", 0)) for a in document["annotations"]), default=0) + 1
        new = []
        for a in image_annotations(np.where(np.isin(labels, list(changed)), labels, 0),
                                   image["id"], polygons=False):  # fmt: skip
            a["category_id"] = self._category[a["category_id"]]
            a["id"], next_id = next_id, next_id + 1
            new.append(a)
        updated = {**document, "annotations": kept + new}
        write_files({path: json.dumps(updated, separators=(",", ":")).encode()})
        self._documents[path] = updated


def _mask_of(annotation: dict[str, Any], h: int, w: int, path: Path) -> np.ndarray:
    """An annotation's pixels: RLE (compressed or not) or polygons (pixel (x, y) covers
    [x, x + 1), as pycocotools draws them: the pixels whose centre is inside)."""
    seg = annotation.get("segmentation")
    where = f"{path}: annotation {annotation.get('id')}"
    try:
        if isinstance(seg, dict):
            size = [int(v) for v in seg["size"]]
            if size != [h, w]:
                raise DatasetError(f"{where} is a mask of {size[0]}x{size[1]}, its image {h}x{w}.")
            counts = seg["counts"]
            runs = decode_counts(counts) if isinstance(counts, str) else np.asarray(counts)
            return counts_to_mask(runs, h, w)
        if isinstance(seg, list):
            return _polygons_mask(seg, h, w)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{where}: its segmentation cannot be read ({exc}).") from exc
    raise DatasetError(f"{where} has no segmentation (RLE or polygons).")


def _polygons_mask(polygons: list, h: int, w: int) -> np.ndarray:
    from skimage.draw import polygon as fill

    mask = np.zeros((h, w), bool)
    for flat in polygons:
        xy = np.asarray(flat, np.float64).reshape(-1, 2)
        if len(xy) < 3:
            continue
        # Pixel (r, c) is inside when its centre (r + 0.5, c + 0.5) is: shift to indices.
        rr, cc = fill(xy[:, 1] - 0.5, xy[:, 0] - 0.5, shape=(h, w))
        mask[rr, cc] ^= True  # even-odd: a ring with a hole joined in, or several parts
    return mask


def _color_of(category: dict, k: int, sidecar: list | None) -> tuple[int, int, int]:
    color = category.get("color")
    if isinstance(color, list) and len(color) == 3:
        return (int(color[0]), int(color[1]), int(color[2]))
    if sidecar is not None:
        return sidecar[k]
    r, g, b = voc_palette()[(k + 1) % 256]
    return (int(r), int(g), int(b))
