"""Tests of qt/correct_widget.py's dock in a real napari viewer, driven with the mouse and keys
on the canvas (needs an X server): the labels layer it corrects, its edits computed off the GUI
thread and written as one undo, hand-edit tracking, closing. Its gestures:
test_correct_gestures.py; its counts: test_correct_counts.py."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels
from qtpy.QtCore import Qt

from napari_gluonseg.core.edits.likely import likely_classes
from napari_gluonseg.core.files.read_export import read_provenance
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.layers.kept_scores import kept_scores
from napari_gluonseg.layers.results import export_layer
from napari_gluonseg.qt.correct_gestures import Within

from .helpers import SHAPE, canvas, ctrl_click, look_at, plugin_labels, scores

SHOWN_VIEWER = True  # the canvas maps the mouse as on a desktop


def test_without_a_labels_layer_selected_the_dock_says_what_to_select(viewer, correct):
    from napari_gluonseg.qt.correct_widget import NO_LAYER

    assert correct._status.value == NO_LAYER
    viewer.add_image(np.zeros(SHAPE), name="photo")  # selected: not labels
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    assert correct._status.value == ""
    viewer.layers.selection.active = viewer.layers["photo"]
    assert correct._status.value == NO_LAYER
    correct._status.value = ""
    correct._clean.native.click()  # a button that would do nothing says why
    assert correct._status.value == NO_LAYER and (layer.data == 4).all()


def test_closing_the_dock_takes_its_gestures_off_the_layers(qtbot, viewer):
    dock, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Correct labels")
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    viewer.add_image(np.zeros(SHAPE), name="photo")
    for _ in range(5):  # each selection hands the dock a new proxy of the layer
        viewer.layers.selection.active = viewer.layers["photo"]
        viewer.layers.selection.active = layer
    assert layer.mouse_drag_callbacks.count(widget._on_press) == 1  # attached once
    dock.titleBarWidget().close_button.click()  # napari's own close button
    qtbot.wait(50)
    assert widget._on_press not in layer.mouse_drag_callbacks
    viewer.cursor.position = (20, 5)
    look_at(viewer, 20, 5)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_R)
    assert (layer.data == 4).all()  # R no longer relabels


@pytest.mark.threads
def test_a_gesture_is_computed_off_the_gui_thread_and_never_overwrites_a_stroke_made_meanwhile(
    qtbot, viewer, correct, monkeypatch
):
    """At 12 MP a relabel ran 1.1-2.4 s in the GUI thread: it is computed in a worker and
    written in one step; a brush stroke made while it computed is kept (nothing is written)."""
    import threading

    from napari_gluonseg.layers.corrections import LayerCorrector

    data = np.full(SHAPE, 4, np.int32)
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    correct._within.value = Within.REGION.value
    entered, go, threads = threading.Event(), threading.Event(), []
    prepare = LayerCorrector.prepare

    def slow(self, *args):
        prepared = prepare(self, *args)  # the edit is computed: the person paints now
        threads.append(threading.current_thread())
        entered.set()
        go.wait(30)
        return prepared

    monkeypatch.setattr(LayerCorrector, "prepare", slow)
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)
    qtbot.waitUntil(entered.is_set, timeout=10_000)
    assert threads[0] is not threading.main_thread()
    assert (layer.data == 4).all()  # the GUI went on: nothing written yet
    layer.selected_label, layer.brush_size = 2, 3
    layer.paint((5, 5), 2)  # the person paints while it computes
    go.set()
    qtbot.waitUntil(lambda: not correct._computing, timeout=10_000)
    assert layer.data[5, 5] == 2 and (layer.data[30:, 40:] == 4).all()
    assert "changed while the correction was computed" in correct._status.value

    entered.clear()
    ctrl_click(qtbot, viewer, 30, 50)  # again, untouched meanwhile: written in one edit
    go.set()
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: not correct._computing and "relabelled" in correct._status.value)
    assert (layer.data[30:, 40:] != 4).all() and layer.data[5, 5] == 2
    layer.undo()
    assert (layer.data[30:, 40:] == 4).all() and layer.data[5, 5] == 2


def test_a_stack_is_corrected_in_the_plane_shown(qtbot, viewer, correct):
    data = np.full((3, *SHAPE), 4, np.int32)
    data[..., 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores((3,)))
    viewer.dims.set_point(0, 1)
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(correct.menu, Qt.Key.Key_1)
    assert (layer.data[1, :, :30] == 3).all()
    np.testing.assert_array_equal(layer.data[[0, 2]], data[[0, 2]])


def test_undone_brush_strokes_no_longer_count_and_a_redo_counts_again(viewer, correct):
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    layer.mode, layer.brush_size = "paint", 5
    layer.paint((5, 5), 1)
    painted = int((layer.data == 1).sum())
    tracker = hand_tracker(layer)
    assert tracker.provenance()["pixels_set_by_hand"] == painted > 0
    layer.undo()
    assert tracker.provenance()["pixels_set_by_hand"] == 0
    layer.redo()
    assert tracker.provenance()["pixels_set_by_hand"] == painted


def test_exports_say_what_was_set_by_hand_and_reopen_with_their_scores(
    qtbot, viewer, correct, tmp_path
):
    from napari_gluonseg._reader import read_labels_export

    data = np.full(SHAPE, 4, np.int32)
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data, scores())
    layer.mode = "paint"
    layer.paint((5, 5), 1)
    paths = export_layer(layer, tmp_path, "png", keep_scores=True)
    provenance = read_provenance(paths["provenance"])
    assert provenance["pixels_set_by_hand"] == int((layer.data == 1).sum())
    assert provenance["pixels_changed_by_tool"] == {"paint": int((layer.data == 1).sum())}
    ((data, kwargs, _),) = read_labels_export(str(paths["labels"]))
    reopened = viewer.add_layer(Labels(data, **kwargs))
    grid = kept_scores(reopened)
    assert grid is not None and np.array_equal(grid.grid.probs, scores().probs)
    reopened.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 45)
    region = (slice(0, 40), slice(30, 60)), np.ones((40, 30), bool)
    ((k, p),) = likely_classes(scores(), (), *region, k=1)
    assert correct.menu.actions()[0].text() == f"&1  tree  {p:.0%}  (now)" and k == 4
