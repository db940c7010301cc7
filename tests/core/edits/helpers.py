"""Kept scores for the tests of core/edits: four classes on an 11x16 grid."""

import numpy as np

from napari_gluonseg.core.run.scores import ScoreGrid


def four_classes(h=40, w=60):
    """Four classes on an 11x16 grid: class 2 likely on the left, class 3 on the right."""
    gh, gw = 11, 16
    p = np.full((1, 4, gh, gw), 0.1, np.float32)
    p[0, 2, :, : gw // 2] = 0.7
    p[0, 3, :, gw // 2 :] = 0.7
    p[0, 1, :, gw // 2 :] = 0.15
    p /= p.sum(axis=1, keepdims=True)
    return ScoreGrid(p.astype(np.float16), (), (h, w), (0, 1, 2, 3))
