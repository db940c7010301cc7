"""Tests of qt/run_progress.py in the segmentation dock (needs an X server): the bar only
moves forward, moves through long steps, and the status line names the step running."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import fast_widget, open_dock, run_and_wait


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
