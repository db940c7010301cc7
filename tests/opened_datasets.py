"""Small datasets of the formats this package opens to correct (COCO, Pascal VOC, CVAT masks,
Cityscapes with short names, YOLO),
written by :func:`~napari_gluonseg.core.datasets.export.write_dataset` from photos of odd sizes
(97x131, 120x83) whose labels hold a square with a hole (and an island in it), a one-pixel
line and an unlabeled band: what the reader and the Review dock's tests open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from napari_gluonseg.core.datasets.export import LabelledImage, write_dataset
from napari_gluonseg.core.datasets.items import Classes

OPENED_FORMATS = ("coco", "voc", "cvat", "cityscapes", "yolo")
CLASSES = Classes(("sky", "building, edifice", "tree"), ((6, 230, 230), (180, 120, 120),
                                                         (4, 200, 3)))  # fmt: skip
SHAPES = {"p0": (97, 131), "p1": (120, 83)}


def classes_of(fmt: str) -> Classes:
    """The classes a dataset of ``fmt`` holds (Cityscapes': the short names)."""
    return CLASSES.short() if fmt == "cityscapes" else CLASSES


def scene(shape: tuple[int, int], shift: int) -> np.ndarray:
    """Labels 0-3: sky above, a building square with a tree hole holding a building island,
    a one-pixel line of tree, an unlabeled band along the top."""
    h, w = shape
    labels = np.ones(shape, np.uint8)
    labels[h // 2 :] = 3
    labels[:3] = 0
    labels[10 + shift : 40 + shift, 10:40] = 2
    labels[18 + shift : 32 + shift, 18:32] = 3  # the hole
    labels[24 + shift : 26 + shift, 24:26] = 2  # an island in it
    labels[h - 10, 2 : w - 2] = 1  # a one-pixel line
    return labels


def make_dataset(folder: Path, fmt: str) -> tuple[Path, dict[str, np.ndarray]]:
    """A dataset of ``fmt`` in ``folder / fmt``, and each image's labels by name."""
    photos = folder / "photos"
    photos.mkdir(exist_ok=True)
    truth, images = {}, []
    for n, (name, shape) in enumerate(SHAPES.items()):
        rng = np.random.default_rng(n)
        path = photos / f"{name}.png"
        Image.fromarray(rng.integers(0, 255, (*shape, 3), np.uint8)).save(path)
        truth[name] = scene(shape, n * 5)
        images.append(LabelledImage(name, path, truth[name]))
    root = folder / fmt
    write_dataset(images, CLASSES, root, fmt, val_fraction=0.5, short_names=fmt == "cityscapes")
    return root, truth
