"""Tests of qt/edge_snap.py in the "Correct labels" dock (needs an X server): snapping
boundaries onto the edges of the photo the labels came from, as one undoable edit."""

from __future__ import annotations

import numpy as np
import pytest

from napari_gluonseg.layers.data import METADATA_KEY
from napari_gluonseg.layers.hand_edits import hand_tracker

from .helpers import SHAPE, plugin_labels, scores

SHOWN_VIEWER = True  # the canvas maps the mouse as on a desktop


@pytest.mark.parametrize("threads", [False, pytest.param(True, marks=pytest.mark.threads)])
def test_snap_to_image_edges_moves_a_boundary_onto_the_edge_in_one_undoable_edit(
    qtbot, viewer, correct, threads
):
    rng = np.random.default_rng(0)
    truth = np.full(SHAPE, 3, np.int32)
    truth[:, 37:] = 5  # sky | tree, the edge at column 37
    photo = np.where(truth[..., None] == 5, (40, 160, 40), (120, 180, 250)).astype(np.float32)
    photo = np.clip(photo + rng.normal(0, 6, photo.shape), 0, 255).astype(np.uint8)
    viewer.add_image(photo, name="photo")
    labels = truth.copy()
    labels[:, 33:37] = 5  # the pre-annotation's boundary 4 px off
    layer = plugin_labels(viewer, labels.copy(), scores())
    layer.selected_label, layer.brush_size, layer.mode = 4, 1, "paint"
    layer.paint((10, 35), 4)  # a pixel set by hand (floor): it stays
    before = layer.data.copy()
    correct._snap.button.native.click()
    qtbot.waitUntil(lambda: correct._status.value.startswith("snapped"), timeout=60_000)
    wrong = layer.data != truth
    assert wrong.sum() == 1 and wrong[10, 35]
    assert hand_tracker(layer).provenance()["pixels_changed_by_tool"]["snap"] == 4 * 40 - 1
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)  # one undo takes the snap back


@pytest.mark.parametrize("source_named", [True, False])
def test_snap_reads_the_photo_the_labels_came_from_not_a_map_shown_above_it(
    qtbot, viewer, correct, source_named
):
    """It took the topmost image of the labels' shape: the run's own confidence map once shown.
    The labels name their source image; without that name, the plugin's own maps are passed."""
    truth = np.full(SHAPE, 3, np.int32)
    truth[:, 37:] = 5
    photo = np.where(truth[..., None] == 5, (40, 160, 40), (120, 180, 250)).astype(np.uint8)
    viewer.add_image(photo, name="photo")
    labels = truth.copy()
    labels[:, 33:37] = 5
    layer = plugin_labels(viewer, labels, scores())
    if source_named:
        layer.metadata[METADATA_KEY] = {"role": "labels", "source_image": "photo"}
    stripes = np.zeros(SHAPE, np.float32)
    stripes[:, 20:] = 1.0  # an edge where the photo has none
    viewer.add_image(
        stripes, name="photo confidence",
        metadata={METADATA_KEY: {"role": "confidence", "source_image": "photo"}},
    )  # fmt: skip
    viewer.layers.selection.active = viewer.layers["photo classes"]
    correct._snap.button.native.click()
    qtbot.waitUntil(lambda: correct._status.value.startswith("snapped"), timeout=60_000)
    assert "'photo'" in correct._status.value
    np.testing.assert_array_equal(layer.data, truth)
