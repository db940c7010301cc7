"""Tests of qt/segment_widget.py's stopping of a run (needs an X server): Cancel, the dock or
a viewer closed mid-run, the image removed mid-run; nothing is added and the canvas still draws."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from napari.utils.notifications import notification_manager

from napari_gluonseg.core.errors import SegmentationCancelled
from napari_gluonseg.core.events import Progress, Stage

from .helpers import errors_since, fast_widget, open_dock, run_and_wait


def worker_outcomes(widget) -> tuple[list[bool], list[bool]]:
    """Lists that learn how the dock's worker ends: ``finished`` gets True when it ends,
    ``aborted`` True when it was stopped (napari's abort, or the run's cancellation error)."""
    worker = widget._worker
    finished: list[bool] = []
    aborted: list[bool] = []
    worker.finished.connect(lambda: finished.append(True))
    worker.aborted.connect(lambda: aborted.append(True))
    worker.errored.connect(lambda exc: aborted.append(isinstance(exc, SegmentationCancelled)))
    return finished, aborted


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
def test_closing_the_dock_with_its_close_button_stops_the_run(
    qtbot, viewer, small_dog, untrained_params, held_run
):
    viewer.add_image(np.stack([small_dog] * 8), name="movie", rgb=True)
    widget = fast_widget(viewer)
    dock = viewer.window.add_dock_widget(widget, name="seg")
    widget.controls.weights.value = untrained_params
    held = held_run(after_calls=1)
    widget._run.clicked.emit()
    finished, aborted = worker_outcomes(widget)
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
    _, aborted = worker_outcomes(widget)
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
    finished, aborted = worker_outcomes(widget)
    qtbot.waitUntil(held.entered.is_set, timeout=60_000)  # the second plane is being inferred
    added = []
    viewer.layers.events.inserted.connect(lambda e: added.append(e.value.name))
    viewer.close()
    held.release()
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)  # stopped, not run to the end
    qtbot.wait(50)
    assert aborted == [True] and added == [] and not widget.running


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
