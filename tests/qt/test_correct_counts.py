"""Tests of qt/correct_counts.py in the "Correct labels" dock (needs an X server): the speckle
preview before Clean, and the counts of pixels set by hand and relabelled, counted again after
an edit or Ctrl+Z."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt

from napari_gluonseg.qt.correct_gestures import Within

from .helpers import SHAPE, canvas, ctrl_click, plugin_labels, scores

SHOWN_VIEWER = True  # the canvas maps the mouse as on a desktop


def test_clean_speckles_previews_then_cleans_in_one_undo_leaving_hand_set_ones(
    qtbot, viewer, correct
):
    data = np.full(SHAPE, 3, np.int32)
    data[5:7, 5:7] = 1  # a speckle
    data[20:23, 40:43] = 2  # another
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.selected_label, layer.mode = 4, "paint"
    layer.paint((30, 10), 4)  # a hand-painted disc: small, but the person's
    hand = layer.data == 4
    before = layer.data.copy()
    correct._min_size.value = 20
    assert correct._preview.value == "2 speckles, 13 pixels would change"
    correct._clean.native.click()
    assert correct._status.value == "cleaned 2 speckles (13 pixels)"
    assert (layer.data[5:7, 5:7] == 3).all() and (layer.data[20:23, 40:43] == 3).all()
    assert (layer.data[hand] == 4).all()
    assert correct._preview.value.startswith("0 speckles")
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    layer.selected_label, layer.brush_size = 1, 3
    layer.paint((6, 8), 1)  # by hand, onto the first speckle: now the person's, left alone
    # counted again once the edits pause
    qtbot.waitUntil(lambda: correct._preview.value == "1 speckles, 9 pixels would change")


def test_the_dock_counts_again_after_ctrl_z_and_says_why_a_pick_changed_nothing(
    qtbot, viewer, correct
):
    """After Ctrl+Z the "relabelled here" count stayed; a pick on a region painted by hand
    said "0 pixels relabelled" and no more."""
    data = np.full(SHAPE, 4, np.int32)
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    correct._within.value = Within.REGION.value
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)
    assert correct._hand.value.startswith(
        f"set by hand: 0 pixels, relabelled here: {SHAPE[0] * SHAPE[1]}"
    )
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: correct._hand.value == "set by hand: 0 pixels, relabelled here: 0")

    layer.mode, layer.selected_label = "fill", 2  # napari's fill: the region is the person's
    layer.fill((20, 10), 2)
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)
    assert (layer.data == 2).all()
    assert correct._status.value.startswith("0 pixels relabelled")
    assert "set by hand" in correct._status.value
