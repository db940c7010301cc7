"""Tests of qt/segment_learn.py and the dock's learned model choice (needs an X server): a model
learned from the labels layers the dock made and a person corrected, saved where the person
says, becomes the dock's model; Cancel mid-learning writes nothing; a file that is not a learned
model is refused in the dock."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest

from napari_gluonseg.core.errors import SegmentationCancelled
from napari_gluonseg.core.learn import learn as learn_module
from napari_gluonseg.core.models.learned import read_learned
from napari_gluonseg.core.models.registry import DEFAULT_MODEL
from napari_gluonseg.layers.data import METADATA_KEY, class_features
from napari_gluonseg.qt import controls, segment_learn
from napari_gluonseg.qt.controls import Resolution

from ..learn_folder import photo, truth
from .helpers import fast_widget, run_and_wait


def corrected_on_two_images(qtbot, viewer, weights):
    """A fast dock (street scheme) run on two photos whose labels a person then corrected:
    the halves set to their true classes below a band left unlabeled, and a brush stroke by
    hand in it."""
    widget = fast_widget(viewer)
    widget.controls.weights.value = weights
    widget.controls.scheme.value = "street_ade20k"  # the project's own classes
    for n in range(2):
        widget.controls.image.value = viewer.add_image(photo(n), name=f"p{n}")
        run_and_wait(qtbot, widget)
        labels = viewer.layers[f"p{n} classes"]
        # building on the left, pole on the right, the top 30 rows unlabeled
        labels.data[...] = truth() * (np.arange(96) >= 30)[:, None]
        labels.refresh()
        labels.mode, labels.brush_size = "paint", 5
        labels.paint((20, 20), 3, refresh=True)  # in the top band left 0: set by hand
    return widget


def answering(monkeypatch, path):
    """The save dialog answers ``path``; what it was offered is kept."""
    offered = []
    monkeypatch.setattr(
        segment_learn, "ask_learned_path", lambda parent, suggested: offered.append(suggested)
        or path,
    )  # fmt: skip
    return offered


@pytest.mark.usefixtures("use_onnx_home")
def test_a_model_learned_from_the_labels_layers_becomes_the_docks_model(
    qtbot, viewer, untrained_params, tmp_path, monkeypatch
):
    widget = corrected_on_two_images(qtbot, viewer, untrained_params)
    widget.controls.resolution.value = Resolution.AUTO  # the runs were at scale 1: learned so
    offered = answering(monkeypatch, tmp_path / "street.onnx")
    widget.learning.button.clicked.emit()
    qtbot.waitUntil(lambda: not widget.running, timeout=120_000)

    path = tmp_path / "street.onnx"
    assert path.is_file() and offered[0].parent.name == "napari-gluonseg-learned"
    status = widget._status.value
    assert status.startswith("learned: street.onnx is now the model"), status
    assert "Held out (2 folds over 2 images)" in status and "building" in status
    assert int(re.search(r"\n(\d+) pixels set by hand weighed more", status)[1]) > 20
    c = widget.controls
    assert c.model.value == str(path) and c.model.native.currentText() == "street.onnx"
    assert not c.weights.enabled and c.weights.value is None and c.scheme.value is None
    learned = read_learned(path)
    assert learned.record["scale"] == 1.0
    assert c.classes._all == list(learned.class_names) and c.classes._all[:2] == [
        "road",
        "sidewalk",
    ]
    again = controls.RunControls(lambda _: [], lambda _: [])  # a dock opened later
    assert again.model.value == str(path) and again.classes._all == c.classes._all
    # A run with it: labels only among the classes it learned.
    c.image.value = viewer.add_image(photo(5), name="p5")
    run_and_wait(qtbot, widget)
    assert set(np.unique(viewer.layers["p5 classes"].data)) <= {3, 5}
    # Back to the zoo model: its weights and scheme come back.
    c.model.value = DEFAULT_MODEL
    assert c.weights.enabled and c.weights.value == untrained_params
    assert c.classes._all[:2] == ["road", "sidewalk"]  # the scheme's again


@pytest.mark.threads
@pytest.mark.usefixtures("use_onnx_home")
def test_cancel_mid_learning_is_idle_within_a_second_and_writes_nothing(
    qtbot, viewer, untrained_params, tmp_path, monkeypatch
):
    widget = corrected_on_two_images(qtbot, viewer, untrained_params)
    fitting = threading.Event()

    def slow_fit(samples, n_classes, should_stop=None, **_):
        fitting.set()  # a fit that stops between iterations, as scipy's does
        while not should_stop():
            time.sleep(0.01)
        raise SegmentationCancelled("Learning cancelled.")

    monkeypatch.setattr(learn_module, "fit_head", slow_fit)
    offered = answering(monkeypatch, tmp_path / "never.onnx")
    widget.learning.button.clicked.emit()
    qtbot.waitUntil(fitting.is_set, timeout=120_000)
    assert widget.running and not widget._run.enabled and widget._cancel.enabled
    widget._cancel.clicked.emit()
    qtbot.waitUntil(lambda: not widget.running, timeout=1_000)
    assert widget._status.value.startswith("cancelled")
    assert offered == [] and list(tmp_path.iterdir()) == []
    assert widget._run.enabled and not widget._cancel.enabled


def test_what_cannot_be_chosen_or_learned_from_is_said_in_the_dock(
    qtbot, viewer, exported_onnx, tmp_path, monkeypatch
):
    widget = fast_widget(viewer)
    c = widget.controls
    # An ONNX file that is not a learned model (a plain export), then one that is no ONNX.
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\xff" * 10)
    for path, why in ((exported_onnx, "is not a learned model"), (junk, "not an ONNX")):
        monkeypatch.setattr(controls, "ask_learned_model_file", lambda parent, p=path: str(p))
        c.model.value = controls.LEARNED_FILE
        assert c.model.value == DEFAULT_MODEL and c.weights.enabled
        assert widget._status.value.startswith("not chosen:") and why in widget._status.value
        assert c.model.choices[-1] == controls.LEARNED_FILE and str(path) not in c.model.choices

    widget.learning.button.clicked.emit()
    assert "No labels layer to learn from" in widget._status.value
    for n, names in enumerate((["wall", "sky"], ["road", "car"])):
        viewer.add_image(photo(n), name=f"p{n}")
        meta = {METADATA_KEY: {"role": "labels", "source_image": f"p{n}"}}
        viewer.add_labels(truth() // 3, metadata=meta, features=class_features(names))
    widget.learning.button.clicked.emit()
    assert "label different classes" in widget._status.value
