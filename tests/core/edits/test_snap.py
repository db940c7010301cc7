"""Snap to image edges: superpixels that follow the image, the edges between them, and the
snap that moves a boundary onto an edge the image shows."""

import numpy as np
import pytest

from napari_gluonseg.core.edits.corrections import apply
from napari_gluonseg.core.edits.snap import cell_edges, snap_to_cells, superpixels


@pytest.mark.parametrize("grey", [False, True])
def test_superpixels_follow_the_image_edges_and_snapping_moves_a_boundary_onto_them(grey):
    rng = np.random.default_rng(0)
    truth = np.zeros((60, 80), np.uint8)
    truth[:, 37:] = 1  # the true boundary at column 37
    image = np.where(truth[..., None] == 1, (200, 40, 40), (30, 90, 200)).astype(np.float32)
    image += rng.normal(0, 8, image.shape)
    cells = superpixels(image[..., 0] if grey else image, cell_pixels=100)  # red: 200 vs 30
    assert 30 <= cells.max() + 1 <= 70
    for cell in np.unique(cells):  # no cell straddles the edge
        assert len(np.unique(truth[cells == cell])) == 1
    labels = truth + 1
    labels[:, 33:37] = 2  # the pre-annotation's boundary 4 px off
    protected = np.zeros(labels.shape, bool)
    protected[10, 35] = True
    out = labels.copy()
    apply(out, snap_to_cells(labels, cells, protected))
    assert out[10, 35] == 2 and (out != truth + 1).sum() == 1


def test_snapping_with_edges_leaves_boundaries_the_image_does_not_show():
    rng = np.random.default_rng(1)
    truth = np.zeros((60, 120), np.uint8)
    truth[:, 37:] = 1  # visible edge at column 37 (blue | red)
    truth[:, 83:] = 2  # invisible edge at column 83: class 2 is red like class 1
    colour = np.array([(30, 90, 200), (200, 40, 40), (202, 41, 40)], np.float32)
    image = colour[truth] + rng.normal(0, 4, (*truth.shape, 3))
    cells = superpixels(image, cell_pixels=100)
    labels = truth + 1
    labels[:, 33:37] = 2  # both boundaries 4 px off
    labels[:, 83:87] = 2
    edges = cell_edges(image, cells)
    assert len(np.unique(edges.a * 10_000 + edges.b)) == len(edges.a)  # each pair once
    assert ((edges.a != edges.b) & (edges.contrast >= 0) & (edges.contrast <= 3**0.5)).all()
    out = labels.copy()
    apply(out, snap_to_cells(labels, cells, edges=edges))
    assert (out[:, :37] == 1).all()  # the visible edge: snapped onto it
    np.testing.assert_array_equal(out[:, 60:], labels[:, 60:])  # the invisible one: left alone
    blind = labels.copy()
    apply(blind, snap_to_cells(labels, cells))  # without edges every cell votes
    assert (blind[:, 60:] != labels[:, 60:]).any()


def test_snapping_leaves_cells_near_a_tie():
    labels = np.zeros((4, 4), np.uint8)
    labels[:, 2:] = 1
    cells = np.zeros((4, 4), np.int32)  # one cell, half and half
    assert snap_to_cells(labels, cells) == []
