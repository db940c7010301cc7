"""core/learn/samples.py: the rows one corrected image gives a fit."""

import numpy as np
import pytest

from napari_gluonseg.core.errors import LearningError
from napari_gluonseg.core.learn.samples import HAND_WEIGHT, grid_samples, neighbourhood_mean

ALL = (np.arange(3), np.arange(4))  # a 3x4 grid on a 3x4 image: each cell its pixel


def test_unlabeled_pixels_are_no_rows_and_hand_set_ones_weigh_more():
    features = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    labels = np.zeros((3, 4), np.uint8)
    labels[0, :] = 2  # class 1
    labels[2, 3] = 5  # class 4
    hand = np.zeros((3, 4), bool)
    hand[2, 3] = True
    rows = grid_samples(features, ALL, labels, image=7, hand=hand, neighbourhood=1)
    assert list(rows.targets) == [1, 1, 1, 1, 4]
    assert rows.features.shape == (5, 2) and list(rows.features[-1]) == [11.0, 23.0]
    assert list(rows.weights) == [1, 1, 1, 1, HAND_WEIGHT] and set(rows.image) == {7}


def test_labels_of_a_stack_are_refused():
    with pytest.raises(LearningError, match=r"one 2-D plane"):
        grid_samples(np.zeros((2, 3, 4), np.float32), ALL, np.zeros((2, 3, 4), np.uint8), 0)


def test_cells_in_the_padding_are_no_rows():
    features = np.ones((2, 3, 4), np.float32)
    rows = grid_samples(features, (np.array([0, 1, -1]), np.arange(4)), np.ones((3, 4), int), 0)
    assert len(rows) == 8


def test_each_rows_features_are_the_mean_over_the_cells_around_it_in_the_grid():
    rng = np.random.default_rng(0)
    grid = rng.normal(size=(2, 7, 9)).astype(np.float32)
    for size in (3, 5):
        half = size // 2
        expected = np.stack(
            [
                [
                    grid[:, max(i - half, 0) : i + half + 1, max(j - half, 0) : j + half + 1].mean(
                        axis=(1, 2)
                    )
                    for j in range(9)
                ]
                for i in range(7)
            ]
        ).transpose(2, 0, 1)
        np.testing.assert_allclose(neighbourhood_mean(grid, size), expected, atol=1e-6)
    pixels = (np.arange(7), np.arange(9))
    rows = grid_samples(grid, pixels, np.ones((7, 9), np.uint8), 0)  # the default: 3 cells
    np.testing.assert_allclose(rows.features, neighbourhood_mean(grid, 3).reshape(2, -1).T)
