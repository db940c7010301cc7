"""Sample data: a photo shipped with scikit-image (no download needed)."""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLE_NAME = "chelsea"


def sample_image() -> np.ndarray:
    """Chelsea the cat, 300x451 RGB uint8, from scikit-image's bundled data."""
    from skimage import data

    return data.chelsea()


def load_sample() -> list[tuple[Any, dict[str, Any], str]]:
    return [(sample_image(), {"name": SAMPLE_NAME, "rgb": True}, "image")]
