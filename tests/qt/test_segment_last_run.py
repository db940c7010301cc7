"""Tests of qt/segment_last_run.py in the segmentation dock (needs an X server): maps asked
for after a run and the probe under the cursor, from the kept scores, with no new run."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from .helpers import fast_widget, run_and_wait


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
