"""A review folder with corrections, to learn from: four photos of two textures (stripes on the
left, noise on the right) segmented by an untrained network, three of them corrected as the
Review dock saves them. Shared by tests/core/learn and tests/cli as the ``reviewed`` fixture."""

import numpy as np
import pytest
from PIL import Image

from napari_gluonseg.core.batch import folder as batch
from napari_gluonseg.core.batch.review import ReviewSession
from napari_gluonseg.core.files.read_export import read_export

RUN = {"scale": 1.0, "engine": "onnxruntime"}


def photo(seed, shape=(96, 128)):
    """Left half dark stripes, right half bright noise: two textures a head can tell apart."""
    rng = np.random.default_rng(seed)
    img = np.zeros((*shape, 3), np.uint8)
    half = shape[1] // 2
    img[:, :half] = np.where((np.arange(shape[0]) // 4 % 2)[:, None, None], 200, 30)
    img[:, half:] = rng.integers(0, 255, (shape[0], shape[1] - half, 3))
    return img


def truth(shape=(96, 128)):
    labels = np.zeros(shape, np.uint8)
    labels[:, : shape[1] // 2] = 3  # class 2 of the table
    labels[:, shape[1] // 2 :] = 5  # class 4
    return labels


@pytest.fixture
def reviewed(tmp_path, untrained_params, use_onnx_home):
    """A batch's folder of four images, three of them corrected (saved as the Review dock does)."""
    images, results = tmp_path / "images", tmp_path / "results"
    images.mkdir()
    for n in range(4):
        Image.fromarray(photo(n)).save(images / f"p{n}.png")
    batch.segment_folder(images, results, weights=untrained_params, **RUN)
    session = ReviewSession(images, results, by_uncertainty=False)
    for item in session.items[:3]:
        export = read_export(item.labels)
        session.write_corrections(
            item, truth(), export.class_names, export.colors, export.provenance
        )
    return images, results
