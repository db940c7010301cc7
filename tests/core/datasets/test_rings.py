"""core/datasets/rings.py: marching squares over every class at once gives, for each class,
the rings scikit-image's find_contours gives for its mask (the same points, in the order of a
closed walk), and each hole goes to the part around it; polygons.py's rings drawn back as
OpenCV's fillPoly draws them (opened_yolo's reading) give the labels back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage
from skimage.measure import find_contours

from napari_gluonseg.core.datasets.polygons import Convention, class_polygons
from napari_gluonseg.core.datasets.rings import class_rings


def _as_sets(rings):
    return sorted(tuple(sorted(map(tuple, np.round(r, 2).tolist()))) for r in rings)


def _check_like_find_contours(labels: np.ndarray) -> None:
    found = class_rings(labels)
    assert set(found) == set(np.unique(labels).tolist()) - {0}
    for value, rings in found.items():
        reference = find_contours(np.pad((labels == value).astype(float), 1), 0.5)
        ends = [*rings.starts[1:], len(rings.points)]
        mine = [rings.points[a:b] for a, b in zip(rings.starts, ends, strict=True)]
        assert _as_sets(mine) == _as_sets([c[:-1] - 1 for c in reference])
        for ring in mine:  # a closed walk: each step to a neighbouring edge's midpoint
            steps = np.abs(np.diff(np.vstack([ring, ring[:1]]), axis=0)).sum(axis=1)
            assert np.allclose(steps, 1.0)
        parts = ndimage.label(labels == value)[1]
        assert int(rings.outer.sum()) == parts


SCENES = {
    "one pixel": np.array([[1]], np.uint8),
    "a row": np.array([[1, 1, 0, 2, 2, 1]], np.uint8),
    "a checkerboard (saddles)": (np.indices((7, 9)).sum(axis=0) % 2 + 1).astype(np.uint8),
    "one class everywhere": np.full((4, 5), 3, np.uint8),
    "nested holes": np.pad(
        np.pad(np.pad(np.ones((3, 3), np.uint8), 2, constant_values=2), 2, constant_values=1), 1
    ),
}


@pytest.mark.parametrize("name", SCENES)
def test_the_rings_are_find_contours_rings(name):
    _check_like_find_contours(SCENES[name])


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)),
              elements=st.integers(0, 3)))  # fmt: skip
def test_any_labels_give_find_contours_rings(labels):
    _check_like_find_contours(labels)


def _fill_centres(rings, shape) -> np.ndarray:
    """Rings drawn as fillPoly draws them (the inside and the outline): YOLO's readers."""
    from skimage.draw import line, polygon

    mask = np.zeros(shape, bool)
    for ring in rings:
        xy = np.round(ring).astype(np.int64)
        rr, cc = polygon(xy[:, 1], xy[:, 0], shape=shape)
        mask[rr, cc] = True
        for (x0, y0), (x1, y1) in zip(xy, np.roll(xy, -1, axis=0), strict=True):
            rr, cc = line(y0, x0, y1, x1)
            mask[rr, cc] = True
    return mask


def test_centre_polygons_drawn_back_give_the_labels():
    rng = np.random.default_rng(3)
    field = ndimage.gaussian_filter(rng.random((97, 131)), 2.5)
    labels = np.digitize(field, [0.45, 0.5, 0.55]).astype(np.uint8)
    labels[40:60, 40:80], labels[45:55, 50:60], labels[48:51, 53:56] = 1, 0, 1  # hole, island
    labels[5, 5:40], labels[30, 30] = 2, 3  # a one-pixel line, a lone pixel
    wrong = 0
    for value, rings in class_polygons(labels, Convention.CENTRES).items():
        wrong += int((_fill_centres(rings, labels.shape) != (labels == value)).sum())
    assert wrong == 0  # the cuts into holes run through the part's own pixels


def test_a_part_with_many_holes_and_islands_is_drawn_back_exactly():
    """Holes in holes, holes side by side on one row, islands: each cut runs along a pixel
    row through the part's own pixels, so no cut crosses another hole."""
    labels = np.ones((60, 90), np.uint8)
    for k in range(6):  # holes side by side on the same rows
        labels[10:20, 5 + 14 * k : 12 + 14 * k] = 0
    labels[30:55, 10:80] = 0  # a big hole...
    labels[35:50, 15:75] = 1  # ...with an island...
    labels[40:45, 20:30], labels[40:45, 40:50] = 0, 0  # ...holding two holes
    labels[42, 22] = 1  # and an island in one of them
    (rings,) = class_polygons(labels, Convention.CENTRES).values()
    np.testing.assert_array_equal(_fill_centres(rings, labels.shape), labels == 1)
