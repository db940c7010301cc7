"""Datasets made elsewhere, opened to correct: COCO (RLE or polygons), Pascal VOC (index
masks) and CVAT's "Segmentation mask 1.1" (colour masks), each image read as labels of the
dataset's classes (value ``k`` is class ``k``, 0 unlabeled) and saved back in the dataset's own
format, one file replaced atomically, nothing else changed:

- COCO: the classes whose pixels the person left as they were keep their annotations as they
  were (polygons, instances, overlaps); a class that changed gets one RLE annotation in place
  of its own. The JSON is rewritten (same content elsewhere, compact layout).
- VOC / CVAT: the image's mask PNG is rewritten in its own mode and palette.

Where annotations overlap, the one listed later is on top in the labels (as pycocotools'
drawing order would show them).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import strict_image_reads, write_files
from ..errors import DatasetError
from .coco import image_annotations
from .export import SIDECAR, DatasetFormat, image_size
from .items import Classes
from .rle import counts_to_mask, decode_counts
from .voc import IMAGES, LABELMAP, MASKS, SPLITS, VOID, VOID_NAME
from .writer import UNLABELED_NAME, png_bytes, voc_palette

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


def detect_format(path: str | Path) -> DatasetFormat | None:
    """The format of the dataset folder ``path`` (COCO, VOC or CVAT masks), None for another."""
    root = Path(path)
    if not root.is_dir():
        return None
    if _coco_files(root):
        return DatasetFormat.COCO
    masks = root / MASKS
    if masks.is_dir() and (root / SPLITS).is_dir():
        first = next(iter(sorted(masks.glob("*.png"))), None)
        return DatasetFormat.CVAT if first is not None and _mode(first) == "RGB" else (
            DatasetFormat.VOC)  # fmt: skip
    return None


def open_dataset(path: str | Path) -> OpenedDataset:
    """Open the dataset folder ``path``; DatasetError naming what is missing or wrong."""
    fmt = detect_format(path)
    if fmt is DatasetFormat.COCO:
        return CocoDataset(Path(path))
    if fmt in (DatasetFormat.VOC, DatasetFormat.CVAT):
        return MaskDataset(Path(path), fmt)
    raise DatasetError(
        f"{path} is not a dataset this package opens: a COCO folder (annotations/*.json), "
        f"or a VOC or CVAT mask folder ({MASKS}/ and {SPLITS}/)."
    )


# --- COCO ---------------------------------------------------------------------------------


def _coco_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "annotations").glob("*.json") if p.is_file())


class CocoDataset(OpenedDataset):
    format = DatasetFormat.COCO

    def __init__(self, root: Path) -> None:
        self.root = root
        self._documents: dict[Path, dict[str, Any]] = {}
        self._where: dict[str, tuple[Path, dict[str, Any]]] = {}
        categories: dict[int, dict[str, Any]] = {}
        for path in _coco_files(root):
            document = _read_json(path)
            for key in ("images", "annotations", "categories"):
                if not isinstance(document.get(key), list):
                    raise DatasetError(f"{path} has no {key!r} list: not a COCO annotation file.")
            self._documents[path] = document
            for c in document["categories"]:
                categories.setdefault(int(c["id"]), c)
        ids = sorted(categories)
        self._value = {cid: k for k, cid in enumerate(ids, start=1)}
        self._category = {k: cid for cid, k in self._value.items()}
        colors = _sidecar_colors(root, len(ids))
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
        labels = _checked(labels, before.shape, len(self.classes.names), path)
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


# --- VOC and CVAT masks --------------------------------------------------------------------


class MaskDataset(OpenedDataset):
    def __init__(self, root: Path, fmt: DatasetFormat) -> None:
        self.root, self.format = root, fmt
        entries = _label_map(root)
        if fmt is DatasetFormat.CVAT:
            entries = [e for e in entries if e[0].lower() != UNLABELED_NAME or e[1] != (0, 0, 0)]
        else:
            entries = [e for e in entries if e[0] != VOID_NAME]
        colors = _sidecar_colors(root, len(entries))
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

    def _mask_path(self, name: str) -> Path:
        self.entry(name)
        return self.root / MASKS / f"{name}.png"

    def read_labels(self, name: str) -> np.ndarray:
        path = self._mask_path(name)
        data = _read_png(path)
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
        labels = _checked(labels, before.shape, len(self.classes.names), path)
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

        return [(n, tuple(int(v) for v in voc_palette()[i])) for i, n in enumerate(VOC_CLASSES)]
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(":")
        try:
            rgb = tuple(int(v) for v in fields[1].split(","))
            if len(rgb) != 3 or not all(0 <= v < 256 for v in rgb):
                raise ValueError
        except (IndexError, ValueError):
            raise DatasetError(
                f"{path}, line {number}: {line!r} is not name:r,g,b:parts:actions."
            ) from None
        out.append((fields[0], (rgb[0], rgb[1], rgb[2])))
    return out


# --- shared ---------------------------------------------------------------------------------


def _checked(labels: np.ndarray, shape: tuple, n_classes: int, path: Path) -> np.ndarray:
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


def _sidecar_colors(root: Path, n: int) -> list | None:
    """The scheme's colours where this package wrote the set (its sidecar), else None."""
    path = root / SIDECAR
    if not path.is_file():
        return None
    colors = _read_json(path).get("colors")
    if not isinstance(colors, list) or len(colors) != n:
        return None
    return [tuple(bytes.fromhex(str(c).lstrip("#"))[:3]) for c in colors]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise DatasetError(f"{path} does not hold a JSON object.")
    return document


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with strict_image_reads(), Image.open(path) as im:
            im.load()
            return np.array(im)
    except Exception as exc:  # a damaged file: zlib.error, OSError...
        raise DatasetError(f"Cannot read the mask {path}: {exc}") from exc


def _mode(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as im:
        return im.mode
