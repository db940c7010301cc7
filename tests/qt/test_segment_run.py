"""Tests of qt/segment_widget.py's runs (needs an X server): the choices that reach the run,
the layers it writes, a run in the GUI thread or a worker, a failed run."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from napari.layers import Image, Labels
from napari.utils.notifications import notification_manager
from qtpy.QtCore import Qt

from napari_gluonseg.layers.data import METADATA_KEY
from napari_gluonseg.qt import segment_widget, threads
from napari_gluonseg.qt.regions import image_region

from ..conftest import BICYCLE
from .helpers import (
    BICYCLE_NAME,
    camera_of,
    canvas_size,
    errors_since,
    fast_widget,
    open_dock,
    run_and_wait,
    widget_info,
)


# The defaults end to end: a worker, onnxruntime (the session's export of the untrained weights),
# resolution auto. Bicycle everywhere in the dock: test_segment_last_run.py.
@pytest.mark.threads
@pytest.mark.usefixtures("use_onnx_home")
def test_run_adds_labels_and_probability_layers(qtbot, viewer, dog_layer, untrained_params):
    widget = open_dock(viewer, "Semantic segmentation")
    assert widget.controls.image.value is dog_layer  # the active image layer by default
    widget.controls.weights.value = untrained_params
    widget.controls.classes.value = [BICYCLE_NAME]
    run_and_wait(qtbot, widget)

    labels = viewer.layers["dog classes"]
    assert isinstance(labels, Labels) and labels.data.shape == dog_layer.data.shape[:2]
    provenance = labels.metadata[METADATA_KEY]["provenance"]
    assert provenance["engine"] == "onnxruntime" and provenance["scale"] == "auto"
    np.testing.assert_array_equal(labels.scale, dog_layer.scale)
    np.testing.assert_array_equal(labels.translate, dog_layer.translate)
    # World (12, 22) is pixel (4, 4): its label has its class's palette colour and name on hover.
    label = int(labels.data[4, 4])
    info = widget_info()
    np.testing.assert_allclose(
        labels.colormap.map(label)[:3], np.array(info.colors[label - 1]) / 255, atol=1e-6
    )
    status = labels.get_status(position=(12.0, 22.0), world=True)
    text = status["coordinates"] if isinstance(status, dict) else str(status)
    assert f"{label}" in text and f"class_name: {info.class_names[label - 1]}" in text

    prob = viewer.layers["dog P(bicycle)"]
    assert isinstance(prob, Image) and prob.blending == "additive"
    assert tuple(prob.contrast_limits) == (0.0, 1.0)
    assert prob.data.min() >= 0.0 and prob.data.max() <= 1.0
    assert "not the zoo's pretrained weights" in widget._status.value  # honest about weights


@pytest.mark.usefixtures("fresh_model_cache")
def test_a_pyramid_pooling_model_runs_in_the_dock_on_onnxruntime(
    qtbot, viewer, dog_layer, untrained_weights
):
    """PSPNet ran with MXNet only before the package built its graphs (no MXNet needed now)."""
    widget = fast_widget(viewer)
    widget.controls.model.value = "psp_resnet50_ade"
    widget.controls.weights.value = untrained_weights("psp_resnet50_ade")
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"]
    assert labels.data.shape == dog_layer.data.shape[:2] and labels.data.min() >= 1
    provenance = labels.metadata[METADATA_KEY]["provenance"]
    assert provenance["engine"] == "onnxruntime" and provenance["model"] == "psp_resnet50_ade"


def test_resolution_and_augmentation_choices_reach_the_run(
    qtbot, viewer, dog_layer, untrained_params
):
    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.weights.value = untrained_params
    widget.controls.engine.value = "onnxruntime"
    widget.controls.resolution.value = "full (image size, tiled)"
    widget.controls.augment.value = "flip"
    run_and_wait(qtbot, widget)
    provenance = viewer.layers["dog classes"].metadata[METADATA_KEY]["provenance"]
    assert provenance["scale"] == 1.0 and provenance["working_size"] == [72, 96]
    assert provenance["flip"] is True and provenance["tta_scales"] is None


def test_threshold_and_subset_from_the_widget(qtbot, viewer, dog_layer, untrained_params):
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    widget.controls.classes.value = ["wall", "sky"]
    widget.controls.only_picked.value = True
    widget.controls.min_confidence.value = 0.55
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"].data
    assert set(np.unique(labels)) <= {0, 1, 3}
    provenance = viewer.layers["dog classes"].metadata[METADATA_KEY]["provenance"]
    assert provenance["classes"] == ["wall", "sky"] and provenance["min_confidence"] == 0.55


def test_label_scheme_drives_labels_names_and_colours(qtbot, viewer, dog_layer, bicycle_params):
    from napari_gluonseg.core.models.scheme import EXAMPLES

    widget = fast_widget(viewer)
    widget.controls.weights.value = bicycle_params
    widget.controls.scheme.value = "street_ade20k"  # a shipped scheme, typed by name
    picker = widget.controls.classes
    assert picker._all[:3] == ["road", "sidewalk", "building"]  # the scheme's labels
    widget.controls.scheme.value = EXAMPLES / "street_ade20k.csv"
    assert picker._all[:3] == ["road", "sidewalk", "building"]
    widget.controls.classes.value = ["bicycle"]
    viewer.window.add_dock_widget(widget)
    viewer.add_points([[1, 1]])  # napari resets docked widgets' choices on layer changes
    assert list(picker._select.choices) == picker._all  # still the scheme's
    assert widget.controls.classes.value == ["bicycle"]
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"]
    assert np.all(labels.data == 12)
    assert labels.features["class_name"][12] == "bicycle"
    np.testing.assert_allclose(
        labels.colormap.map(12)[:3], np.array([0x77, 0x0B, 0x20]) / 255, atol=1e-6
    )
    assert "dog P(bicycle)" in viewer.layers
    viewer.cursor.position = (12.0, 22.0)
    assert widget._probe.value.startswith("at (4, 4): bicycle 99%")


def test_the_network_sees_what_napari_shows(qtbot, viewer, small_dog, bicycle_params):
    twelve = np.round(small_dog.astype(np.float64) * 4095 / 255).astype(np.uint16)
    layer = viewer.add_image(twelve, name="scan", rgb=True, contrast_limits=(0, 4095))
    widget = fast_widget(viewer)
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    provenance = viewer.layers["scan classes"].metadata[METADATA_KEY]["provenance"]
    assert provenance["intensity_range"] == [0.0, 4095.0]  # not / 65535: near black
    layer.contrast_limits = (100, 3000)
    widget.controls.full_range.value = True  # the option restores the dtype's full range
    run_and_wait(qtbot, widget)
    provenance = viewer.layers["scan classes"].metadata[METADATA_KEY]["provenance"]
    assert provenance["intensity_range"] is None


def test_rerun_updates_layers_in_place(qtbot, viewer, dog_layer, untrained_params, bicycle_params):
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    run_and_wait(qtbot, widget)
    first = viewer.layers["dog classes"]
    n_layers = len(viewer.layers)
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert len(viewer.layers) == n_layers
    assert viewer.layers["dog classes"] is first
    assert np.all(first.data == BICYCLE + 1)


def test_after_a_run_the_labels_are_the_active_layer_for_the_correct_dock(
    qtbot, viewer, dog_layer, untrained_params
):
    """The last map added took the selection, so the Correct dock said "Select a labels
    layer" right after a run."""
    from napari_gluonseg.qt.correct_widget import NO_LAYER

    correct = open_dock(viewer, "Correct labels")
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    widget.controls.show_confidence.value = True
    widget.controls.classes.value = ["sky"]
    run_and_wait(qtbot, widget)
    assert "dog P(sky)" in viewer.layers and "dog confidence" in viewer.layers
    assert viewer.layers.selection.active.name == "dog classes"
    assert correct._status.value != NO_LAYER
    widget.controls.classes.value = ["sky", "wall"]  # a map asked for after the run
    qtbot.waitUntil(lambda: "dog P(wall)" in viewer.layers, timeout=30_000)
    qtbot.wait(20)
    assert viewer.layers.selection.active.name == "dog classes"


def test_rectangle_in_shapes_layer_limits_the_run(qtbot, viewer, dog_layer, bicycle_params):
    # World (15..30, 25..40) is data rows/cols 10..40 of the image (scale 0.5, translate 10, 20).
    viewer.add_shapes([np.array([[15, 25], [15, 40], [30, 40], [30, 25]])], shape_type="rectangle")
    widget = fast_widget(viewer)
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    widget.controls.region.value = "rectangle (Shapes layer)"
    widget.controls.classes.value = [BICYCLE_NAME]
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"].data
    inside = np.zeros(labels.shape, bool)
    inside[10:41, 10:41] = True
    assert np.all(labels[inside] == BICYCLE + 1) and np.all(labels[~inside] == 0)
    # The probe knows where the region is: world (20, 30) is data (20, 20), inside it.
    viewer.cursor.position = (20.0, 30.0)
    assert widget._probe.value.startswith("at (20, 20): bicycle")


def test_current_slice_and_field_of_view(qtbot, viewer, small_dog, bicycle_params):
    stack = viewer.add_image(np.stack([small_dog, small_dog]), name="stack", rgb=True)
    viewer.dims.set_current_step(0, 1)
    widget = fast_widget(viewer)
    widget.controls.image.value = stack
    widget.controls.weights.value = bicycle_params
    widget.controls.region.value = "current slice"
    run_and_wait(qtbot, widget)
    labels = viewer.layers["stack classes"].data
    assert np.all(labels[1] == BICYCLE + 1) and np.all(labels[0] == 0)

    # Field of view: zoom in on the middle of plane 0; only what the canvas shows is written.
    viewer.dims.set_current_step(0, 0)
    camera_of(viewer).center = (36.0, 48.0)
    camera_of(viewer).zoom = canvas_size(viewer)[0] / 30.0  # 30 image rows visible
    widget.controls.region.value = "field of view"
    region = image_region(viewer, stack, "field of view")
    assert region[0] == slice(0, 1) and region[1].stop - region[1].start <= 32
    widget.controls.target.value = viewer.layers["stack classes"]
    widget.controls.merge.value = "overwrite the region"
    run_and_wait(qtbot, widget)
    written = np.zeros(labels.shape, bool)
    written[region] = True
    written[1] = True  # from the first run
    assert np.all(labels[written] == BICYCLE + 1) and np.all(labels[~written] == 0)


def test_region_run_adds_its_maps_and_refuses_foreign_class_tables(
    qtbot, viewer, dog_layer, bicycle_params
):
    from napari_gluonseg.core.models.scheme import EXAMPLES

    viewer.add_shapes([np.array([[15, 25], [15, 40], [30, 40], [30, 25]])], shape_type="rectangle")
    widget = fast_widget(viewer)
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    widget.controls.region.value = "rectangle (Shapes layer)"
    widget.controls.show_margin.value = True
    widget.controls.classes.value = ["sky"]
    run_and_wait(qtbot, widget)
    margin = viewer.layers["dog margin"]
    assert margin.data.shape == (31, 31)  # the region's size, placed over it
    np.testing.assert_allclose(margin.translate, (15.0, 25.0))
    assert viewer.layers["dog P(sky)"].data.shape == (31, 31)
    # The same layer with a scheme's labels: values would change meaning, so it is refused.
    before = viewer.layers["dog classes"].data.copy()
    widget.controls.scheme.value = EXAMPLES / "street_ade20k.csv"
    widget.controls.classes.value = []
    start = len(notification_manager.records)
    run_and_wait(qtbot, widget)
    assert any("labels other classes" in m for m in errors_since(start))
    np.testing.assert_array_equal(viewer.layers["dog classes"].data, before)


def test_core_error_shown_as_notification(qtbot, viewer, dog_layer, tmp_path):
    bad = tmp_path / "broken.params"
    bad.write_bytes(b"not weights")
    widget = fast_widget(viewer)
    widget.controls.weights.value = bad
    start = len(notification_manager.records)
    run_and_wait(qtbot, widget)
    messages = errors_since(start)
    assert any("Cannot load weights file" in m and str(bad) in m for m in messages)
    assert widget._status.value.startswith("failed: Cannot load weights file")
    assert [ly.name for ly in viewer.layers] == ["dog"]


def test_failed_run_shows_its_whole_message_in_the_dock(qtbot, viewer, dog_layer):
    widget = open_dock(
        viewer, "Semantic segmentation"
    )  # no weights file: the zoo's, and this machine is offline
    run_and_wait(qtbot, widget)
    status = widget._status.value
    assert status.startswith("failed: ") and "fcn_resnet50_ade" in status
    assert "MXNET_HOME" in status or "models" in status  # where the weights go, in full
    flags = widget._status.native.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse


def test_nothreads_runs_the_core_in_the_gui_thread_with_the_same_outcome(
    qtbot, viewer, dog_layer, bicycle_params, monkeypatch
):

    monkeypatch.setenv(threads.NOTHREADS_VARIABLE, "1")
    seen = set()
    real = segment_widget._compute

    def recording(*args):
        seen.add(threading.current_thread())
        return (yield from real(*args))

    monkeypatch.setattr(segment_widget, "_compute", recording)
    widget = fast_widget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.controls.weights.value = bicycle_params
    widget._run.clicked.emit()
    assert widget._worker is None  # computed before the click returned; applying goes on
    qtbot.waitUntil(lambda: not widget.running, timeout=60_000)
    assert seen == {threading.main_thread()}
    assert np.all(viewer.layers["dog classes"].data == BICYCLE + 1)


@pytest.mark.threads
def test_applying_a_result_gives_the_event_loop_turns(qtbot, viewer, untrained_params):
    from qtpy.QtCore import QTimer

    photo = np.random.default_rng(0).integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    viewer.add_image(photo, name="photo")
    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.weights.value = untrained_params
    widget.controls.engine.value = "onnxruntime"
    widget.controls.show_confidence.value = True
    widget.controls.classes.value = ["wall"]
    seen = []  # the status line at every heartbeat
    timer = QTimer()
    timer.timeout.connect(lambda: seen.append(widget._status.value))
    timer.start(5)
    run_and_wait(qtbot, widget)
    timer.stop()
    # The result goes in one layer per turn of the event loop, and the heartbeat saw the steps
    # in between: the GUI never waited for all of them at once.
    assert {m for m in seen if m.startswith("photo ")}  # e.g. "photo P(wall)", then the next
    assert viewer.layers["photo confidence"].data.shape == (1500, 2000)
