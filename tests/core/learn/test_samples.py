"""core/learn/samples.py: the rows one corrected image gives a fit."""

import numpy as np
import pytest

from napari_gluonseg.core.errors import LearningError
from napari_gluonseg.core.learn.samples import HAND_WEIGHT, grid_samples

ALL = (np.arange(3), np.arange(4))  # a 3x4 grid on a 3x4 image: each cell its pixel


def test_unlabeled_pixels_are_no_rows_and_hand_set_ones_weigh_more():
    features = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    labels = np.zeros((3, 4), np.uint8)
    labels[0, :] = 2  # class 1
    labels[2, 3] = 5  # class 4
    hand = np.zeros((3, 4), bool)
    hand[2, 3] = True
    rows = grid_samples(features, ALL, labels, image=7, hand=hand)
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
