"""Shared by tests/core/datasets, tests/cli and tests/qt as the ``results_to_export`` fixture:
a batch's results folder of photos of odd sizes (97x131, 120x83, 64x64, 75x200) whose labels
hold regions of five classes named as ADE20K names them (commas, spaces), a hole with a part
inside it, a one-pixel line and an unlabeled band; and the formats' reference readers, run in
their own venv (.venv-readers, ``make readers``, which ``make test`` runs) on a written dataset."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from napari_gluonseg.core.datasets.items import Classes
from napari_gluonseg.core.files.export import write_labels

ROOT = Path(__file__).resolve().parents[1]
READER = Path(__file__).parent / "core" / "datasets" / "reference_read.py"
NAMES = ("wall", "building, edifice", "sky", "floor, flooring", "tree")
COLORS = ((120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3))
CLASSES = Classes(NAMES, COLORS)
SHAPES = ((97, 131), (120, 83), (64, 64), (75, 200))


def scene(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """Labels 0-5: smooth regions of all five classes, an unlabeled band along the top, a
    square of class 2 with a hole of class 4 holding an island of class 2, a one-pixel line."""
    h, w = shape
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.random(shape), 4)
    labels = (np.digitize(field, np.quantile(field, [0.2, 0.4, 0.6, 0.8])) + 1).astype(np.uint8)
    labels[:4] = 0
    labels[10:30, 10:30] = 2
    labels[15:25, 15:25] = 4
    labels[19:21, 19:21] = 2
    labels[h // 2, 5 : w - 5] = 3
    return labels


@pytest.fixture
def results_to_export(tmp_path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    """(images folder, results folder, each image's labels by its stem)."""
    images, out = tmp_path / "images", tmp_path / "results"
    images.mkdir()
    truth = {}
    for n, shape in enumerate(SHAPES):
        rng = np.random.default_rng(n)
        Image.fromarray(rng.integers(0, 255, (*shape, 3), np.uint8)).save(images / f"p{n}.png")
        truth[f"p{n}"] = scene(n, shape)
        write_labels(truth[f"p{n}"], NAMES, COLORS, {}, out, f"p{n}")
    return images, out, truth


def readers_python() -> Path:
    path = Path(os.environ.get("GLUONSEG_READERS_PYTHON", ROOT / ".venv-readers/bin/python"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: `make readers` (make test runs it) builds the readers.")
    return path


def read_with_reference(fmt: str, root: Path, tmp_path: Path):
    """What the format's reference reader sees: (class names, index 0 unlabeled; each image's
    labels as indices into them, by name; each image's split)."""
    out = tmp_path / f"reference-{fmt}.npz"
    done = subprocess.run(
        [str(readers_python()), str(READER), fmt, str(root), str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as data:
        names = json.loads(str(data["names"]))
        items = {k.removeprefix("item/"): data[k] for k in data.files if k.startswith("item/")}
        splits = json.loads(str(data["splits"]))
    return names, items, splits


def as_names(labels: np.ndarray, names) -> np.ndarray:
    """Each pixel's class name ('' unlabeled): labels of value k are ``names[k - 1]``."""
    return np.array(["", *names], dtype=object)[labels]
