"""The dock widget in a real napari viewer (needs an X server: make test runs Xvfb)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from magicgui.widgets import Container
from napari.layers import Image, Labels
from napari.utils.notifications import notification_manager
from qtpy.QtCore import Qt

from napari_gluonseg.core.errors import SegmentationCancelled
from napari_gluonseg.core.events import Progress, Stage
from napari_gluonseg.layers.corrections import hand_tracker, kept_scores
from napari_gluonseg.layers.data import METADATA_KEY
from napari_gluonseg.qt import dialogs, segment_widget, threads
from napari_gluonseg.qt.controls import Resolution
from napari_gluonseg.qt.regions import image_region
from napari_gluonseg.qt.segment_widget import SegmentWidget

from ..conftest import BICYCLE
from .helpers import camera_of, canvas_size, open_dock

BICYCLE_NAME = "bicycle, bike, wheel, cycle"


@pytest.fixture
def viewer(make_viewer):
    return make_viewer()


@pytest.fixture
def dog_layer(viewer, small_dog):
    return viewer.add_image(small_dog, name="dog", scale=(0.5, 0.5), translate=(10, 20))


def fast_widget(viewer) -> SegmentWidget:
    """A dock for runs that are not about the engine or the resolution: at the image's own size
    (72x96), not at 390x520 (the default: see the tests marked threads)."""
    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.engine.value = "onnxruntime"
    widget.controls.resolution.value = Resolution.FULL
    return widget


def run_and_wait(qtbot, widget: SegmentWidget, timeout_ms: int = 120_000) -> None:
    widget._status.value = ""
    widget._run.clicked.emit()
    # The click started a run (no pre-run refusal): it is going, or (computed in the GUI
    # thread) already said how it ended.
    assert widget.running or widget._status.value
    qtbot.waitUntil(lambda: not widget.running, timeout=timeout_ms)


def errors_since(start: int) -> list[str]:
    return [str(n.message) for n in notification_manager.records[start:]]


# The defaults end to end: a worker, onnxruntime (the session's export of the untrained weights),
# resolution auto. Bicycle everywhere in the dock: test_probe_and_probabilities_on_demand_*.
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


def test_probe_and_probabilities_on_demand_without_rerun(qtbot, viewer, dog_layer, bicycle_params):
    widget = fast_widget(viewer)
    widget.controls.weights.value = bicycle_params
    widget.controls.show_confidence.value = True
    widget.controls.show_margin.value = True
    run_and_wait(qtbot, widget)
    assert {"dog classes", "dog confidence", "dog margin"} <= {
        layer.name for layer in viewer.layers
    }
    expected = np.exp(10) / (np.exp(10) + 149)
    np.testing.assert_allclose(viewer.layers["dog confidence"].data, expected, rtol=1e-5)
    assert viewer.layers["dog margin"].data.min() > 0.9  # bicycle everywhere: no hesitation

    # The probe follows the mouse: world (12, 22) is pixel (4, 4) of the scaled, moved image.
    viewer.cursor.position = (12.0, 22.0)
    assert widget._probe.value.startswith("at (4, 4): bicycle 99%, ")
    assert widget._probe.value.count("%") == 5
    assert not widget._probe.native.isHidden()  # shown, as its text came
    viewer.cursor.position = (-50.0, -50.0)  # off the image: nothing to say
    assert widget._probe.value == "" and widget._probe.native.isHidden()

    # Picking a class after the run adds its map from the kept scores: no new run.
    ran = []
    widget._run.changed.connect(lambda *_: ran.append(1))
    widget.controls.classes.value = ["wall"]  # at once, synchronously: no worker, no run
    assert not widget.running and not ran
    wall = viewer.layers["dog P(wall)"]
    np.testing.assert_allclose(wall.data, 1 / (np.exp(10) + 149), rtol=2e-3)  # float16 grid
    np.testing.assert_array_equal(wall.scale, dog_layer.scale)


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


def widget_info():
    from napari_gluonseg import model_info

    return model_info("fcn_resnet50_ade")


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


@pytest.mark.parametrize("choice", [dialogs.EditedChoice.NEW_LAYER, dialogs.EditedChoice.CANCEL])
def test_hand_edits_are_kept_unless_user_says_overwrite(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch, choice
):
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"]
    labels.paint((5, 5), 3, refresh=True)  # a hand correction with the brush
    edited = labels.data.copy()
    asked = []
    monkeypatch.setattr(
        segment_widget.dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, **_: asked.append(name) or choice,
    )
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert asked == ["dog classes"]
    np.testing.assert_array_equal(labels.data, edited)  # the edits survive
    extra = [ly for ly in viewer.layers if ly.name.startswith("dog classes") and ly is not labels]
    if choice is dialogs.EditedChoice.NEW_LAYER:
        assert len(extra) == 1 and np.all(extra[0].data == BICYCLE + 1)
        widget.controls.weights.value = untrained_params
        run_and_wait(qtbot, widget)  # the copy is now the plugin's layer: updated in place
        again = [ly for ly in viewer.layers if ly.name.startswith("dog classes")]
        assert again == [labels, extra[0]] and asked == ["dog classes"]
        assert not np.all(extra[0].data == BICYCLE + 1)
    else:
        assert extra == []


def test_a_rerun_can_keep_exactly_the_pixels_set_by_hand(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch
):
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"]
    assert kept_scores(labels) is not None  # the run's scores travel with its layer
    labels.mode = "paint"
    labels.paint((5, 5), 3, refresh=True)
    hand = hand_tracker(labels).hand_set()
    offered = []
    monkeypatch.setattr(
        segment_widget.dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, hand_set=None: (
            offered.append(hand_set) or dialogs.EditedChoice.KEEP_HAND_SET
        ),
    )
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert offered == [int(hand.sum())] and hand.sum() > 0
    assert (labels.data[hand] == 3).all() and (labels.data[~hand] == BICYCLE + 1).all()


def test_overwrite_only_when_chosen(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch
):
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"]
    labels.paint((5, 5), 3, refresh=True)
    monkeypatch.setattr(
        segment_widget.dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, **_: dialogs.EditedChoice.OVERWRITE,
    )
    edited = labels.data.copy()
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert np.all(labels.data == BICYCLE + 1)
    labels.undo()  # Ctrl+Z takes the whole overwrite back
    np.testing.assert_array_equal(labels.data, edited)


@pytest.mark.threads
def test_cancel_mid_run_adds_nothing(qtbot, viewer, small_dog, untrained_params, held_run):
    viewer.add_image(np.stack([small_dog] * 8), name="movie", rgb=True)
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=1)
    widget._run.clicked.emit()
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)  # the second plane is being inferred
    widget._cancel.clicked.emit()
    held.release()
    qtbot.waitUntil(lambda: not widget.running, timeout=60_000)
    assert widget._status.value == "cancelled"
    assert [ly.name for ly in viewer.layers] == ["movie"]
    assert widget._run.enabled and not widget._cancel.enabled


@pytest.mark.threads
@pytest.mark.usefixtures("fresh_model_cache")
def test_cancel_during_the_preparation_ends_it_and_frees_the_next_run(
    qtbot, viewer, dog_layer, untrained_params, monkeypatch
):
    """napari's worker stops a generator on Cancel without closing it: the preparation's
    ``finally`` (end the exporter's child process, release the per-file lock) must still run,
    at once, or every later run waits for a preparation that never ends."""
    from napari_gluonseg.core.models.engines import onnx

    ended = threading.Event()

    def endless_export(spec, weights_path, dest):
        try:
            while True:  # MXNet's exporter, as long as it takes
                yield Progress(Stage.LOAD, 0, 10, "one-time preparation of the weights (test)")
                time.sleep(0.05)
        finally:
            ended.set()

    monkeypatch.setenv(onnx.EXPORTER_VARIABLE, "mxnet")
    monkeypatch.setattr(onnx, "iter_export", endless_export)
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    widget._run.clicked.emit()
    qtbot.waitUntil(lambda: "one-time preparation" in widget._status.value, timeout=30_000)
    widget._cancel.clicked.emit()
    qtbot.waitUntil(lambda: not widget.running, timeout=10_000)
    assert ended.wait(5), "the preparation was abandoned, not ended"
    assert widget._status.value == "cancelled"
    assert not any(lock.locked() for lock in onnx._export_locks.values())
    monkeypatch.delenv(onnx.EXPORTER_VARIABLE)  # the next run builds the graph: it must finish
    run_and_wait(qtbot, widget, timeout_ms=60_000)
    assert widget._status.value.startswith("done")


@pytest.mark.threads
@pytest.mark.usefixtures("use_onnx_home")
def test_cancel_ends_the_network_call_running_not_after_it(
    qtbot, viewer, untrained_params, monkeypatch
):
    """At full resolution one window takes seconds: Cancel ends onnxruntime's call at once
    (RunOptions.terminate) instead of waiting for the window."""
    from napari_gluonseg.core.models.engines.onnx import OnnxNetwork

    entered, outcomes = threading.Event(), []
    logits = OnnxNetwork.logits

    def watched(net, batch):
        entered.set()
        try:
            out = logits(net, batch)
        except Exception as exc:
            outcomes.append(str(exc))
            raise
        outcomes.append("finished")
        return out

    monkeypatch.setattr(OnnxNetwork, "logits", watched)
    rng = np.random.default_rng(0)
    viewer.add_image(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8), name="big")
    widget = fast_widget(viewer)  # full resolution: one 1200x1600 window
    widget.controls.weights.value = untrained_params
    widget._run.clicked.emit()
    qtbot.waitUntil(entered.is_set, timeout=60_000)
    time.sleep(0.3)  # well inside the window's forward pass (seconds on any CPU)
    widget._cancel.clicked.emit()
    qtbot.waitUntil(lambda: not widget.running, timeout=60_000)
    assert widget._status.value == "cancelled"
    assert len(outcomes) == 1 and "terminate" in outcomes[0]
    assert [ly.name for ly in viewer.layers] == ["big"]
    viewer.layers["big"].data = viewer.layers["big"].data[:96, :128]  # seconds, not 20 s
    run_and_wait(qtbot, widget)  # the next run is not cancelled by the last one's Cancel
    assert widget._status.value.startswith("done")


@pytest.mark.threads
@pytest.mark.usefixtures("use_onnx_home")
def test_cancel_before_the_network_call_starts_does_not_wait_for_the_call(
    qtbot, viewer, untrained_params, monkeypatch
):
    """Cancel pressed right after Run, before onnxruntime's call began, waited for the whole
    call (7-45 s): the call to come ends at once too."""
    from napari_gluonseg.core.models.engines.onnx import OnnxNetwork

    about_to_call, go, outcomes = threading.Event(), threading.Event(), []
    logits = OnnxNetwork.logits

    def late(net, batch):
        about_to_call.set()
        go.wait(30)  # Cancel comes here, before the call
        started = time.perf_counter()
        try:
            return logits(net, batch)
        finally:
            outcomes.append(time.perf_counter() - started)

    monkeypatch.setattr(OnnxNetwork, "logits", late)
    rng = np.random.default_rng(0)
    viewer.add_image(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8), name="big")
    widget = fast_widget(viewer)  # full resolution: one window of seconds
    widget.controls.weights.value = untrained_params
    widget._run.clicked.emit()
    qtbot.waitUntil(about_to_call.is_set, timeout=60_000)
    widget._cancel.clicked.emit()
    go.set()
    cancelled = time.perf_counter()
    qtbot.waitUntil(lambda: not widget.running, timeout=60_000)
    assert time.perf_counter() - cancelled < 1.0
    assert widget._status.value == "cancelled" and outcomes[0] < 0.1
    assert [ly.name for ly in viewer.layers] == ["big"]
    monkeypatch.setattr(OnnxNetwork, "logits", logits)
    viewer.layers["big"].data = viewer.layers["big"].data[:96, :128]
    run_and_wait(qtbot, widget)  # the next run, in the same pool thread perhaps, runs
    assert widget._status.value.startswith("done")


@pytest.mark.threads
def test_closing_another_viewer_mid_run_ends_this_run_and_says_so(
    qtbot, viewer, make_viewer, small_dog, untrained_params, held_run
):
    """Closing one napari window aborts the workers started from another window's dock (napari
    0.9; 0.5.6 lets them finish): the dock must not stay at "stopping" with Run disabled and
    Cancel doing nothing, and says why the run stopped."""
    viewer.add_image(np.stack([small_dog] * 4), name="movie", rgb=True)
    other = make_viewer()
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=1)
    start = len(notification_manager.records)
    widget._run.clicked.emit()
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)
    other.close()
    held.release()
    qtbot.waitUntil(lambda: not widget.running, timeout=30_000)
    if widget._status.value.startswith("done"):  # this napari let the run finish
        assert "movie classes" in viewer.layers
        viewer.layers.remove("movie classes")
    else:
        assert widget._status.value.startswith("stopped: napari stopped the run")
        # said in the dock, not as a notification (see the shown-viewer test below)
        assert not any("napari stopped the run" in m for m in errors_since(start))
    assert [ly.name for ly in viewer.layers] == ["movie"]
    assert widget._run.enabled and not widget._cancel.enabled
    run_and_wait(qtbot, widget)  # and the dock runs again
    assert widget._status.value.startswith("done")


def test_ticking_confidence_or_margin_after_a_run_adds_the_layer_at_once(
    qtbot, viewer, dog_layer, untrained_params
):
    """It did nothing until the next run, with no hint."""
    widget = fast_widget(viewer)
    widget.controls.show_confidence.value = True  # before any run: said when it comes
    assert "comes with the next run" in widget._status.value
    widget.controls.show_confidence.value = False
    widget.controls.weights.value = untrained_params
    run_and_wait(qtbot, widget)
    assert "dog confidence" not in viewer.layers
    widget.controls.show_confidence.value = True
    widget.controls.show_margin.value = True
    qtbot.waitUntil(lambda: "dog margin" in viewer.layers, timeout=30_000)
    confidence, margin = viewer.layers["dog confidence"], viewer.layers["dog margin"]
    labels = viewer.layers["dog classes"]
    assert confidence.data.shape == margin.data.shape == labels.data.shape
    assert margin.data.min() >= 0 and confidence.data.max() <= 1
    np.testing.assert_array_equal(confidence.scale, dog_layer.scale)


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


def test_plugin_widget_and_sample_through_npe2(viewer):
    viewer.open_sample("napari-gluonseg", "chelsea")
    assert viewer.layers[0].rgb and viewer.layers[0].data.shape == (300, 451, 3)
    _, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Semantic segmentation")
    assert isinstance(widget, SegmentWidget)
    assert widget.controls.image.value is viewer.layers["chelsea"]


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


def hand_labels(shape) -> np.ndarray:
    hand = np.zeros(shape, np.uint8)
    hand[10:20, 10:30] = 5
    hand[50:60, 0:10] = 9
    return hand


def test_fill_unlabeled_keeps_hand_labels_and_undo_restores(
    qtbot, viewer, dog_layer, bicycle_params
):
    hand = hand_labels(dog_layer.data.shape[:2])
    mine = viewer.add_labels(
        hand.copy(), name="mine", scale=dog_layer.scale, translate=dog_layer.translate
    )
    widget = fast_widget(viewer)
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    widget.controls.target.value = mine
    # the default never overwrites
    assert widget.controls.merge.value == "fill unlabeled pixels only"
    run_and_wait(qtbot, widget)
    kept = hand != 0
    np.testing.assert_array_equal(mine.data[kept], hand[kept])
    assert np.all(mine.data[~kept] == BICYCLE + 1)
    assert "dog classes" not in viewer.layers  # written into the chosen layer only
    meta = mine.metadata[METADATA_KEY]
    assert meta["merge_mode"] == "fill_unlabeled" and "written_digest" not in meta
    assert mine.features["class_name"][BICYCLE + 1] == BICYCLE_NAME  # hover names the class
    assert meta["provenance"]["region"] == [[0, 72], [0, 96]]
    mine.undo()  # napari's undo takes the whole fill back in one step
    np.testing.assert_array_equal(mine.data, hand)


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


def test_export_from_widget_keeps_hand_corrections(
    qtbot, viewer, dog_layer, bicycle_params, tmp_path, monkeypatch
):
    from napari_gluonseg.core.files.read_export import read_export, read_scores

    widget = fast_widget(viewer)
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"]
    labels.data[0:5, 0:5] = 3  # a hand correction: 'sky'
    paths = widget.export_labels(labels, tmp_path)
    back = read_export(paths["labels"])
    np.testing.assert_array_equal(back.labels, labels.data)
    assert back.class_names[2] == "sky" and back.provenance["edited_by_hand"] is True
    assert back.colors[BICYCLE] == widget_info().colors[BICYCLE]

    # Exporting again asks before replacing the earlier files; "keep them" keeps them.
    labels.data[0:5, 0:5] = 4
    answers = [False, True]
    monkeypatch.setattr(dialogs, "ask_replace_export", lambda parent, files: answers.pop(0))
    assert widget.export_labels(labels, tmp_path) == {}
    assert read_export(paths["labels"]).class_names[2] == "sky"
    np.testing.assert_array_equal(read_export(paths["labels"]).labels[0:5, 0:5], 3)
    widget.export_labels(labels, tmp_path)
    np.testing.assert_array_equal(read_export(paths["labels"]).labels[0:5, 0:5], 4)
    assert "scores" not in paths

    # "with scores": the run's kept scores go beside, and come back when the file is opened.
    widget.controls.export_scores.value = True
    answers.append(True)
    paths = widget.export_labels(labels, tmp_path)
    opened = read_scores(paths["labels"], labels.data.shape)
    assert "scores" in paths and np.array_equal(opened.probs, kept_scores(labels).grid.probs)


@pytest.mark.threads
def test_closing_the_dock_with_its_close_button_stops_the_run(
    qtbot, viewer, small_dog, untrained_params, held_run
):
    viewer.add_image(np.stack([small_dog] * 8), name="movie", rgb=True)
    widget = fast_widget(viewer)
    dock = viewer.window.add_dock_widget(widget, name="seg")
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=1)
    widget._run.clicked.emit()
    worker = widget._worker
    finished, aborted = [], []
    worker.finished.connect(lambda: finished.append(True))
    worker.aborted.connect(lambda: aborted.append(True))
    worker.errored.connect(lambda exc: aborted.append(isinstance(exc, SegmentationCancelled)))
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)  # the second plane is being inferred
    start = len(notification_manager.records)
    dock.titleBarWidget().close_button.click()  # napari's X: the widget is not deleted
    held.release()
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    # stopped at the next window (or its network call refused), not run to the end
    assert aborted == [True] and not widget.running
    qtbot.wait(50)
    assert [layer.name for layer in viewer.layers] == ["movie"]
    assert any("dock was closed" in m for m in errors_since(start))
    viewer.cursor.position = (1.0, 2.0)  # the probe's connection went with the dock
    viewer.add_points([[1, 1]])  # and so did the layer-list handlers


@pytest.mark.threads
def test_removing_the_image_mid_run_stops_it_and_adds_nothing(
    qtbot, viewer, small_dog, untrained_params, held_run
):
    movie = viewer.add_image(np.stack([small_dog] * 8), name="movie", rgb=True)
    viewer.add_image(small_dog, name="other")
    widget = fast_widget(viewer)
    widget.controls.image.value = movie
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=1)
    start = len(notification_manager.records)
    widget._run.clicked.emit()
    worker = widget._worker
    aborted = []
    worker.aborted.connect(lambda: aborted.append(True))
    worker.errored.connect(lambda exc: aborted.append(isinstance(exc, SegmentationCancelled)))
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)  # the second plane is being inferred
    viewer.layers.remove(movie)
    held.release()
    qtbot.waitUntil(lambda: widget._worker is None, timeout=60_000)
    assert aborted == [True]  # stopped at the next plane (or its call refused), not at the end
    qtbot.wait(50)
    assert [layer.name for layer in viewer.layers] == ["other"]
    assert any("'movie' was removed" in m for m in errors_since(start))
    assert widget._run.enabled and "removed" in widget._status.value


@pytest.mark.threads
def test_progress_only_moves_forward_and_names_the_running_step(
    qtbot, viewer, small_dog, untrained_params
):
    stack = viewer.add_image(np.stack([small_dog] * 5), name="stack", rgb=True)
    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.image.value = stack
    widget.controls.weights.value = untrained_params
    widget.controls.engine.value = "onnxruntime"
    widget.controls.resolution.value = "full (image size, tiled)"
    values, messages = [], []
    widget._progress.changed.connect(values.append)
    on_progress = widget._on_progress

    def progress(event):  # each step, from the first (connected before the worker starts)
        on_progress(event)
        messages.append(widget._status.value)
        if event.done == 2:  # a class picked during the run gets its map when the run ends
            widget.controls.classes.value = ["sky"]

    widget._on_progress = progress
    widget._run.clicked.emit()
    qtbot.waitUntil(lambda: not widget.running, timeout=120_000)
    assert values == sorted(values) and values[-1] == 100
    infer = [m for m in messages if m.startswith("segmenting")]
    assert infer[:2] == ["segmenting plane 1/5", "segmenting plane 2/5"]  # what runs now
    qtbot.waitUntil(lambda: "stack P(sky)" in viewer.layers, timeout=30_000)  # from a worker


@pytest.mark.usefixtures("fresh_model_cache")
def test_progress_moves_while_the_network_is_built(qtbot, viewer, dog_layer, untrained_params):
    """It sat at 0% through the one-time build (seconds), then jumped."""
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    seen = []
    on_progress = widget._on_progress

    def progress(event):
        on_progress(event)
        seen.append((widget._progress.value, widget._status.value))

    widget._on_progress = progress
    run_and_wait(qtbot, widget)
    building = [value for value, status in seen if "building the network" in status]
    assert len(set(building)) >= 3, seen
    assert widget._status.value.startswith("done")


@pytest.mark.threads
@pytest.mark.usefixtures("use_onnx_home")
def test_the_bar_moves_while_one_long_network_window_runs(
    qtbot, viewer, dog_layer, untrained_params, held_run
):
    """One window of seconds gave no event: the bar sat at 10% through it. It moves by the
    window's expected time, and never past most of the window while the window runs."""
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=0)  # the only window, held inside its network call
    widget._run.clicked.emit()
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)
    qtbot.waitUntil(lambda: widget._status.value.endswith("segmenting image"), timeout=10_000)
    at_start = widget._progress.value
    qtbot.wait(1000)  # far past this small window's expected time
    moved = widget._progress.value
    held.release()
    qtbot.waitUntil(lambda: not widget.running, timeout=60_000)
    assert at_start < moved <= at_start + 0.9 * 70 + 1  # the inference's share: 70%
    assert widget._progress.value == 100


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


def threads_calling(monkeypatch, cls, method) -> list:
    """The threads that call ``cls.method`` from now on (a spy around it)."""
    seen: list = []
    original = getattr(cls, method)

    def spy(self, *args):
        seen.append(threading.current_thread())
        return original(self, *args)

    monkeypatch.setattr(cls, method, spy)
    return seen


def _pick_wall_twice(widget) -> None:
    widget.controls.classes.value = ["wall"]
    widget.controls.classes.value = ["wall"]  # picked again while it is computed: one map


def _tick_margin(widget) -> None:
    widget.controls.show_margin.value = True


@pytest.mark.threads
@pytest.mark.parametrize(
    ("method", "act", "layer"),
    [
        ("probability_map", _pick_wall_twice, "dog P(wall)"),
        ("margin_map", _tick_margin, "dog margin"),
    ],
    ids=["class picked", "margin ticked"],
)
def test_a_map_asked_for_after_a_run_is_computed_off_the_gui_thread(
    qtbot, viewer, dog_layer, untrained_params, monkeypatch, method, act, layer
):
    """Upsampled from the kept scores, 1.3 s at 64 MP: it was computed in the GUI thread."""
    from napari_gluonseg.core.run.scores import ScoreGrid

    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    run_and_wait(qtbot, widget)
    threads_used = threads_calling(monkeypatch, ScoreGrid, method)
    act(widget)
    qtbot.waitUntil(lambda: layer in viewer.layers, timeout=30_000)
    qtbot.wait(50)
    assert threads_used and threading.main_thread() not in threads_used
    assert [ly.name for ly in viewer.layers].count(layer) == 1


def test_dock_fits_a_small_window_with_run_near_the_top(viewer):
    widget = open_dock(viewer, "Semantic segmentation")
    advanced = widget.controls.advanced.native
    assert advanced.isHidden()  # model, weights, engine... folded away
    assert widget.native.sizeHint().height() <= 620  # a 1280x720 window has room for it
    rows = [i for i, w in enumerate(widget) if isinstance(w, Container) and widget._run in w]
    assert rows == [7]  # image, region, write into, merge, classes, only picked, maps, Run
    widget.controls.advanced_toggle.clicked.emit()
    assert not advanced.isHidden()


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


def test_reopened_export_counts_as_edited(
    qtbot, viewer, dog_layer, bicycle_params, tmp_path, monkeypatch
):
    from napari_gluonseg import model_info
    from napari_gluonseg.core.files.export import write_labels

    labels = np.full(dog_layer.data.shape[:2], 3, np.uint8)  # 'sky', which the run changes
    names = model_info("fcn_resnet50_ade").class_names
    paths = write_labels(labels, names, widget_info().colors, {}, tmp_path, "dog")
    viewer.open(str(paths["labels"]), plugin="napari-gluonseg")
    asked = []
    monkeypatch.setattr(
        dialogs,
        "ask_about_edited_labels",
        lambda *a, **_: asked.append(a) or dialogs.EditedChoice.CANCEL,
    )
    widget = fast_widget(viewer)
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert asked  # an opened export may hold hand corrections: never replaced without asking
    np.testing.assert_array_equal(viewer.layers["dog classes"].data, labels)


def test_rectangle_takes_the_pixels_whose_centres_it_contains(viewer, small_dog):
    image = viewer.add_image(small_dog)
    viewer.add_shapes([np.array([[10.6, 10.6], [10.6, 49.4], [49.4, 49.4], [49.4, 10.6]])])
    region = image_region(viewer, image, "rectangle (Shapes layer)")
    assert region == (slice(11, 50), slice(11, 50))


@pytest.mark.threads
def test_closing_the_viewer_mid_run_stops_the_run(
    qtbot, make_viewer, small_dog, untrained_params, held_run
):
    viewer = make_viewer()
    viewer.add_image(np.stack([small_dog] * 8), name="movie", rgb=True)
    widget = fast_widget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=1)
    widget._run.clicked.emit()
    worker = widget._worker
    finished, aborted = [], []
    worker.finished.connect(lambda: finished.append(True))
    worker.aborted.connect(lambda: aborted.append(True))
    worker.errored.connect(lambda exc: aborted.append(isinstance(exc, SegmentationCancelled)))
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)  # the second plane is being inferred
    added = []
    viewer.layers.events.inserted.connect(lambda e: added.append(e.value.name))
    viewer.close()
    held.release()
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)  # stopped, not run to the end
    qtbot.wait(50)
    assert aborted == [True] and added == [] and not widget.running


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


def test_region_overwrite_asks_before_replacing_hand_edits(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch
):
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    run_and_wait(qtbot, widget)
    labels = viewer.layers["dog classes"]
    labels.paint((20, 20), 3, refresh=True)  # a hand correction inside the rectangle
    edited = labels.data.copy()
    viewer.add_shapes([np.array([[15, 25], [15, 40], [30, 40], [30, 25]])], shape_type="rectangle")
    asked = []
    monkeypatch.setattr(
        dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, **_: asked.append(pixels) or dialogs.EditedChoice.CANCEL,
    )
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    widget.controls.region.value = "rectangle (Shapes layer)"
    widget.controls.merge.value = "overwrite the region"
    run_and_wait(qtbot, widget)
    assert asked and 0 < asked[0] <= 31 * 31  # pixels of the rectangle that would change
    np.testing.assert_array_equal(labels.data, edited)


@pytest.mark.threads
def test_a_long_run_says_so_in_the_status_line(
    qtbot, viewer, dog_layer, untrained_params, monkeypatch
):
    from napari_gluonseg.core.run import estimate

    monkeypatch.setattr(estimate, "machine_gmacs", lambda: 0.01)  # a very slow machine
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    seen = []
    on_progress = widget._on_progress

    def progress(event):  # every step's status line (the worker may yield before the click
        on_progress(event)  # returns: connecting to it afterwards can miss the first steps)
        seen.append(widget._status.value)

    widget._on_progress = progress
    widget._run.clicked.emit()
    qtbot.waitUntil(lambda: not widget.running, timeout=120_000)
    notes = [s for s in seen if s.startswith("working size 72x96")]
    assert notes and any("segmenting" in s for s in notes)  # the note stays during the run


def test_nothreads_runs_the_core_in_the_gui_thread_with_the_same_outcome(
    qtbot, viewer, dog_layer, bicycle_params, monkeypatch
):
    import threading

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


@pytest.fixture
def gl_draw_errors():
    """What vispy logs when a canvas fails to draw (a GLError caught in its paint event; the
    same state ended napari with an abort in Mesa on a busier machine)."""
    import logging

    seen: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "Error drawing visual" in record.getMessage():
                seen.append(record.getMessage())

    handler, logger = Catch(), logging.getLogger("vispy")
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)


@pytest.mark.threads
def test_closing_another_shown_viewer_mid_run_leaves_this_one_drawing(
    qtbot, make_viewer, small_dog, untrained_params, held_run, gl_draw_errors
):
    """Two shown windows, each with its dock; the second is closed while the first runs.
    napari stops the run; a notification shown over the first canvas in that moment left its
    GL buffers invalid (GLError 1281 in glVertexAttribPointer at every later draw)."""
    viewer, other = make_viewer(show=True), make_viewer(show=True)
    viewer.add_image(np.stack([small_dog] * 4), name="movie", rgb=True)
    other.add_image(small_dog, name="dog")
    open_dock(other, "Semantic segmentation")
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=1)
    widget._run.clicked.emit()
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)
    other.close()
    held.release()
    qtbot.waitUntil(lambda: not widget.running, timeout=30_000)
    qtbot.wait(300)
    viewer.window._qt_viewer.canvas.native.update()  # draw again, as moving the mouse does
    qtbot.wait(300)
    assert gl_draw_errors == []
    assert widget._status.value.startswith(("stopped: napari stopped the run", "done"))


@pytest.mark.threads
@pytest.mark.parametrize("stop", ["cancel", "delete mid-run", "finished"])
def test_deleting_the_source_after_a_run_with_maps_shown_leaves_the_canvas_drawing(
    qtbot, make_viewer, small_dog, untrained_params, held_run, gl_draw_errors, stop
):
    """The issue saw a SIGSEGV in glDrawArrays (6 of 6) deleting the source of a stopped run
    with the layer list's delete button; not reproduced on this stack (napari 0.9.2, PyQt6 6.9
    and 6.11, llvmpipe): kept as the guard, with maps of an earlier run on the canvas."""
    viewer = make_viewer(show=True)
    movie = viewer.add_image(np.stack([small_dog] * 4), name="movie", rgb=True)
    widget = fast_widget(viewer)
    widget.controls.weights.value = untrained_params
    widget.controls.show_confidence.value = True
    run_and_wait(qtbot, widget)
    widget.controls.classes.value = ["sky"]
    qtbot.waitUntil(lambda: "movie P(sky)" in viewer.layers, timeout=30_000)
    if stop != "finished":
        held = held_run(after_calls=1)
        widget._run.clicked.emit()
        qtbot.waitUntil(held.entered.is_set, timeout=60_000)
        if stop == "cancel":
            widget._cancel.clicked.emit()
            held.release()
            qtbot.waitUntil(lambda: not widget.running, timeout=30_000)
    viewer.layers.selection.active = movie
    viewer.window._qt_viewer.layerButtons.deleteButton.click()
    if stop == "delete mid-run":
        held.release()
        qtbot.waitUntil(lambda: not widget.running, timeout=30_000)
    qtbot.wait(300)
    viewer.cursor.position = (1.0, 30.0, 40.0)  # the probe asks the gone image nothing
    viewer.window._qt_viewer.canvas.native.update()
    qtbot.wait(300)
    assert gl_draw_errors == []
    assert "movie" not in viewer.layers and "movie classes" in viewer.layers
    assert widget._run.enabled and widget._probe.value == ""
