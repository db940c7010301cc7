"""Tests of qt/segment_widget.py's dock itself in a real napari viewer (needs an X server):
its controls and layout, the settings a reopened dock keeps, and the runs it refuses before
running. Its runs: test_segment_run.py, test_segment_edits.py, test_segment_stop.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from magicgui.widgets import Container
from napari.utils.notifications import notification_manager

from napari_gluonseg.qt.segment_widget import SegmentWidget

from .helpers import BICYCLE_NAME, errors_since, open_dock


def test_plugin_widget_and_sample_through_npe2(viewer):
    viewer.open_sample("napari-gluonseg", "chelsea")
    assert viewer.layers[0].rgb and viewer.layers[0].data.shape == (300, 451, 3)
    _, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Semantic segmentation")
    assert isinstance(widget, SegmentWidget)
    assert widget.controls.image.value is viewer.layers["chelsea"]


def test_a_reopened_dock_keeps_the_weights_file_and_settings_chosen(
    qtbot, viewer, untrained_params
):
    dock, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Semantic segmentation")
    widget.controls.weights.value = untrained_params
    widget.controls.engine.value = "onnxruntime"
    widget.controls.min_confidence.value = 0.3
    dock.titleBarWidget().close_button.click()  # napari's own close button
    qtbot.wait(10)
    again = open_dock(viewer, "Semantic segmentation")  # napari's Plugins menu makes it anew
    assert Path(again.controls.weights.value) == Path(untrained_params)
    assert again.controls.engine.value == "onnxruntime"
    assert again.controls.min_confidence.value == 0.3
    assert again.controls.image.value is None or again.controls.image.value in viewer.layers


def test_the_dock_fits_a_1280x720_screen_with_a_long_message_and_advanced_open(qtbot, make_viewer):
    viewer = make_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1280, 720)
    dock, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Semantic segmentation")
    qtbot.wait(50)
    width = dock.width()
    widget.controls.advanced_toggle.changed.emit(True)
    url = "http://127.0.0.1:9/gluon/models/" + "fcn_resnet50_ade-3479525a" * 4 + ".zip"
    widget._status.value = "failed: could not download " + url + "\n  advice" * 40
    qtbot.wait(50)
    assert window.height() <= 720 and dock.width() <= width + 2  # neither taller nor wider
    status = widget._status.native
    assert status.verticalScrollBar().maximum() > 0  # the rest of the message scrolls
    weights = widget.controls.weights.native
    assert not weights.visibleRegion().isEmpty() or _scrolls_to(widget, weights)
    assert widget._status.native.toPlainText().endswith("advice")  # selectable, whole


def _scrolls_to(widget, child) -> bool:
    """Whether the dock's scroll area can bring ``child`` into view (it is then visible)."""
    from qtpy.QtWidgets import QScrollArea

    area = widget.native if isinstance(widget.native, QScrollArea) else None
    area = area or widget.native.findChild(QScrollArea)
    if area is None:
        return False
    area.ensureWidgetVisible(child)
    return not child.visibleRegion().isEmpty()


def test_dock_fits_a_small_window_with_run_near_the_top(viewer):
    widget = open_dock(viewer, "Semantic segmentation")
    advanced = widget.controls.advanced.native
    assert advanced.isHidden()  # model, weights, engine... folded away
    assert widget.native.sizeHint().height() <= 620  # a 1280x720 window has room for it
    rows = [i for i, w in enumerate(widget) if isinstance(w, Container) and widget._run in w]
    assert rows == [7]  # image, region, write into, merge, classes, only picked, maps, Run
    widget.controls.advanced_toggle.clicked.emit()
    assert not advanced.isHidden()


def test_class_picker_search_keeps_selection(viewer):
    widget = open_dock(viewer, "Semantic segmentation")
    picker = widget.controls.classes
    picker.set_filter("bicy")
    assert list(picker._select.choices) == [BICYCLE_NAME]
    picker._select.value = [BICYCLE_NAME]
    picker.set_filter("sky")
    assert set(picker._select.choices) == {"sky", "skyscraper", BICYCLE_NAME}  # chosen stays
    picker._select.value = ["sky", BICYCLE_NAME]
    picker.set_filter("")
    assert picker.value == ["sky", BICYCLE_NAME]
    widget.controls.model.value = "fcn_resnet101_voc"  # VOC keeps 'bicycle', has no 'sky'
    assert picker.value == []  # ADE's full name 'bicycle, bike, ...' is not a VOC class


def test_non_image_layer_cannot_be_run(qtbot, viewer):
    viewer.add_labels(np.zeros((32, 32), np.uint8), name="masks")
    widget = open_dock(viewer, "Semantic segmentation")
    assert [c for c in widget.controls.image.choices if c is not None] == []  # labels not offered
    start = len(notification_manager.records)
    widget._status.value = "done: dog classes"  # what an earlier run said
    widget._run.clicked.emit()
    assert not widget.running
    assert any("Choose an image layer" in m for m in errors_since(start))
    # The dock says it too: it said "done" while only a notification told why nothing ran.
    assert widget._status.value.startswith("not run: Choose an image layer")


def test_region_errors_are_notified_and_nothing_runs(qtbot, viewer, dog_layer):
    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.region.value = "rectangle (Shapes layer)"
    start = len(notification_manager.records)
    widget._run.clicked.emit()
    assert not widget.running
    assert any("Draw a rectangle" in m for m in errors_since(start))
    wrong = viewer.add_labels(np.zeros((5, 5), np.uint8), name="small")
    widget.controls.region.value = "whole image"
    widget.controls.image.value = dog_layer
    widget.controls.target.value = wrong
    widget._run.clicked.emit()
    assert not widget.running
    assert any("choose labels of the image's shape" in m for m in errors_since(start))


def test_widget_option_conflicts_are_refused_before_running(qtbot, viewer, dog_layer):
    from napari_gluonseg.core.models.scheme import EXAMPLES

    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.only_picked.value = True
    start = len(notification_manager.records)
    widget._run.clicked.emit()
    assert not widget.running and any("Pick at least one class" in m for m in errors_since(start))
    widget.controls.scheme.value = EXAMPLES / "indoor_ade20k.yaml"
    widget._run.clicked.emit()
    assert not widget.running and any("exclude each other" in m for m in errors_since(start))
