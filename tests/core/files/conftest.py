"""A result with kept scores, shared by the export's writing and reading tests."""

import numpy as np
import pytest

from napari_gluonseg import segment_image


@pytest.fixture
def stack_result(small_dog, untrained_params):
    """A 2-plane stack's result with its kept scores (odd size, a class subset)."""
    stack = np.stack([small_dog[:71, :93], small_dog[1:, 3:]])
    return segment_image(
        stack,
        weights=untrained_params,
        engine="onnxruntime",
        scale=1.0,
        classes=["wall", "sky", "tree"],
    )
