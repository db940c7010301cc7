"""Tests of qt/correct_gestures.py in the "Correct labels" dock, driven with the mouse and keys
on the canvas (needs an X server): the likely-classes menu, the runner-up key, the relabel's
extent, the class brush."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPoint, Qt

from napari_gluonseg.core.edits.likely import likely_classes
from napari_gluonseg.core.run.scores import ScoreGrid
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.qt.correct_gestures import BrushRule, MouseTool, Within

from .helpers import SHAPE, camera_of, canvas, ctrl_click, drag_to, look_at, plugin_labels, scores

SHOWN_VIEWER = True  # the canvas maps the mouse as on a desktop


def test_ctrl_click_lists_likely_classes_a_key_relabels_and_ctrl_z_restores(qtbot, viewer, correct):
    data = np.full(SHAPE, 4, np.int32)  # "floor" everywhere: wrong
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    menu = correct.menu
    assert menu is not None
    items = [a.text() for a in menu.actions()]
    region = (slice(0, 40), slice(0, 30)), np.ones((40, 30), bool)
    (k1, p1), (k2, p2) = likely_classes(scores(), (), *region, k=2)
    assert (k1, k2) == (2, 1) and items[:2] == [f"&1  sky  {p1:.0%}", f"&2  building  {p2:.0%}"]
    qtbot.keyClick(menu, Qt.Key.Key_2)  # the second choice: building
    assert (layer.data[:, :30] == 2).all() and (layer.data[:, 30:] == 5).all()
    # Hover text follows: napari's status names the class under the cursor.
    status = layer.get_status((20, 10), view_direction=None, dims_displayed=[0, 1])
    assert "building" in str(status)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)  # one undoable edit


def test_relabel_where_the_class_is_likely_splits_a_merged_region_along_the_scores(
    qtbot, viewer, correct
):
    data = np.full(SHAPE, 4, np.int32)  # one "floor" region over sky (left), tree (right)
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    correct._within.value = Within.LIKELY.value
    correct._threshold.value = 0.5
    ctrl_click(qtbot, viewer, 20, 10)
    assert correct.menu.actions()[0].text().startswith("&1  tree")  # 35% over the region
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)  # tree: likely on the right half only
    assert (layer.data[:, 34:] == 5).all() and (layer.data[:, :26] == 4).all()
    assert "where its probability is 0.50 or more" in correct._status.value
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)  # one undoable edit
    correct._within.value = Within.REGION.value
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)
    # The whole region: the undone relabel no longer counts as an edit.
    assert (layer.data == 5).all()


def test_a_region_relabelled_once_can_be_relabelled_again_and_undone_edits_are_undone(
    qtbot, viewer, correct
):
    data = np.full(SHAPE, 4, np.int32)
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(correct.menu, Qt.Key.Key_2)  # building
    assert (layer.data[:, :30] == 2).all()
    ctrl_click(qtbot, viewer, 20, 10)  # the person changes their mind: sky after all
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)
    assert (layer.data[:, :30] == 3).all() and (layer.data[:, 30:] == 5).all()
    assert correct._status.value == f"{30 * 40} pixels relabelled sky"
    tracker = hand_tracker(layer)
    assert tracker.provenance()["pixels_changed_by_tool"] == {"relabel": 30 * 40}
    assert tracker.provenance()["pixels_set_by_hand"] == 0  # picked here, not painted
    for _ in range(2):
        qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)
    assert tracker.provenance()["pixels_changed_by_tool"] == {}  # undone: no edit left
    viewer.cursor.position = (20, 5)
    look_at(viewer, 20, 5)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_R)  # the runner-up of floor: sky
    assert (layer.data[:, :30] == 3).all()
    assert correct._hand.value == (
        f"set by hand: 0 pixels, relabelled here: {30 * 40} (runner-up {30 * 40})"
    )


def test_by_default_a_relabel_gives_back_only_the_part_the_scores_put_in_the_class(
    qtbot, viewer, correct
):
    """A region labelled sky over its whole width, where the scores see a tree on the right:
    picking tree there relabels the right part alone (the benchmark's partial regions)."""
    data = np.full(SHAPE, 3, np.int32)  # sky everywhere
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    assert correct._within.value == Within.FOLLOW.value
    ctrl_click(qtbot, viewer, 20, 50)
    texts = [a.text() for a in correct.menu.actions()]
    tree = next(i for i, t in enumerate(texts) if "tree" in t)
    qtbot.keyClick(correct.menu, getattr(Qt.Key, f"Key_{tree + 1}"))
    assert (layer.data[:, 34:] == 5).all() and (layer.data[:, :26] == 3).all()
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)
    correct._within.value = Within.REGION.value
    ctrl_click(qtbot, viewer, 20, 50)
    qtbot.keyClick(correct.menu, getattr(Qt.Key, f"Key_{tree + 1}"))
    assert (layer.data == 5).all()  # the whole region, as asked


def test_r_gives_the_region_under_the_cursor_its_runner_up(qtbot, viewer, correct):
    data = np.full(SHAPE, 3, np.int32)  # sky on the left: the model's top class there
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores())
    viewer.cursor.position = (20, 5)
    look_at(viewer, 20, 5)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_R)
    assert (layer.data[:, :30] == 2).all() and (layer.data[:, 30:] == 5).all()
    assert hand_tracker(layer).provenance()["pixels_changed_by_tool"] == {"runner-up": 30 * 40}


def test_a_relabel_leaves_hand_set_pixels_and_can_stop_at_the_field_of_view(qtbot, viewer, correct):
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    layer.mode = "paint"
    layer.paint((5, 5), 1)  # napari's brush, size 10: a disc of hand-set pixels
    painted = layer.data == 1
    assert hand_tracker(layer).provenance()["pixels_set_by_hand"] == painted.sum() > 0
    correct._within.value = "field of view"
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 30, 40)  # zoom 8: the view shows rows ~[-8, 68), cols [-10, 90)
    camera_of(viewer).zoom = 8.0
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)  # tree, the top class on the right
    assert (layer.data[painted] == 1).all()
    assert (layer.data[~painted] == 5).sum() > 0


def test_a_class_brush_drag_set_to_likely_paints_only_where_the_class_is_likely(
    qtbot, viewer, correct
):
    layer = plugin_labels(viewer, np.zeros(SHAPE, np.int32), scores())
    layer.selected_label = 3  # sky: likely on the left half only
    layer.brush_size = 6
    correct._brush.value = BrushRule.LIKELY.value  # unlabelled pixels: "close" would paint them all
    correct._mouse.value = MouseTool.CLASS_BRUSH.value
    assert layer.mode == "pan_zoom"
    start = look_at(viewer, 20, 30, zoom=8.0)
    native = canvas(viewer)
    qtbot.mousePress(native, Qt.MouseButton.LeftButton, pos=start - QPoint(8 * 20, 0))
    for dx in range(-20, 21, 5):  # a stroke along row 20 from column 10 to 50
        drag_to(native, start + QPoint(8 * dx, 0))
        qtbot.wait(5)
    qtbot.mouseRelease(native, Qt.MouseButton.LeftButton, pos=start + QPoint(8 * 20, 0))
    painted = layer.data == 3
    assert painted[:, 10:26].any() and not painted[:, 34:].any()
    assert not painted[:15].any() and not painted[26:].any()
    changed = hand_tracker(layer).provenance()["pixels_changed_by_tool"]
    assert changed == {"class brush": int(painted.sum())}
    layer.undo()
    assert not layer.data.any()  # one stroke, one undo
    correct._mouse.value = MouseTool.NAPARI.value
    assert layer.mouse_pan  # napari's tools: a drag moves the camera again


def test_the_class_brush_paints_where_the_class_comes_close_to_the_label_or_where_it_is_likely(
    viewer, correct
):
    """By default the brush follows the ratio the corrections benchmark measures: P(class) /
    P(the label there) of at least FOLLOW_RATIO (a wrong label is the argmax, so the truth is
    below it and an absolute 0.5 never paints it). 'where the class is likely': P >= threshold."""
    p = np.full((1, 5, 11, 16), 0.02, np.float32)
    p[:, 2, :, :8], p[:, 1, :, :8] = 0.6, 0.3  # left: sky 60%, building 30%
    p[:, 4, :, 8:], p[:, 2, :, 8:] = 0.5, 0.2  # right: tree 50%, sky 20% (close behind)
    p[:, 0, :, 8:] = 0.001  # wall: far behind the tree
    p /= p.sum(axis=1, keepdims=True)
    data = np.zeros(SHAPE, np.int32)
    data[:, :30], data[:, 30:] = 2, 5  # building | tree: as the run labelled them
    layer = plugin_labels(viewer, data, ScoreGrid(p.astype(np.float16), (), SHAPE, (0, 1, 2, 3, 4)))
    stroke = np.zeros(SHAPE, bool)
    stroke[18:23, 5:55] = True
    assert correct._brush.value == BrushRule.CLOSE.value  # the default
    layer.selected_label = 3  # sky
    correct.paint_class(layer, (), stroke)
    np.testing.assert_array_equal(layer.data == 3, stroke)  # both halves: sky comes close
    layer.undo()
    correct._brush.value = BrushRule.LIKELY.value
    correct.paint_class(layer, (), stroke)
    painted = layer.data == 3
    assert painted[18:23, 5:26].all() and not painted[:, 34:].any()  # the left only
    assert "probability" in correct._status.value
    layer.undo()
    correct._brush.value = BrushRule.CLOSE.value
    layer.selected_label = 1  # wall: far behind the tree on the right
    correct.paint_class(layer, (), stroke)
    assert not (layer.data == 1)[:, 34:].any()
