"""Tests of qt/review_learn.py in the "Review folder" dock (needs an X server): a model learned
in a worker from the folder's corrected images, saved in its results folder, its held-out score
said, then used to pre-annotate the rest (corrections kept byte for byte); Cancel mid-learning
writes nothing; a folder with no correction says so."""

from __future__ import annotations

import threading
import time

import pytest
from qtpy.QtCore import QTimer

from napari_gluonseg.core.batch.review import ReviewStatus
from napari_gluonseg.core.errors import SegmentationCancelled
from napari_gluonseg.core.files.read_export import read_export
from napari_gluonseg.core.learn import learn as learn_module
from napari_gluonseg.core.models.learned import read_learned
from napari_gluonseg.qt.review_learn import CANCEL_TEXT, LEARN_TEXT, USE_TEXT

from ..learn_folder import truth
from .helpers import open_dock

pytestmark = pytest.mark.threads
# Learning takes seconds: a stall of that order means it ran in the GUI thread. (The 250 ms goal
# is a measurement's, on an idle machine, not a test's on a loaded one.)
GUI_STALL_S = 2.0


def shown(widget) -> bool:
    """Shown in the dock (the viewer itself may be hidden)."""
    return not widget.native.isHidden()


class Ticks:
    """The longest wait between two turns of the GUI thread's event loop while it runs."""

    def __init__(self) -> None:
        self.last, self.longest = time.perf_counter(), 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest, self.last = max(self.longest, now - self.last), now

    def stop(self) -> float:
        self.timer.stop()
        return self.longest


def test_learns_from_the_corrections_then_pre_annotates_the_rest_with_it(viewer, reviewed, qtbot):
    images, results = reviewed
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    learner = widget._learner
    assert widget._learn.enabled and not shown(learner.use)
    corrected = {k: (results / f"p{k}_labels.png").read_bytes() for k in range(3)}
    to_correct = (read_export(results / "p3_labels.png").labels != truth()).sum()

    ticks = Ticks()
    widget._learn.clicked.emit()
    assert widget._learn.text == CANCEL_TEXT and shown(learner.bar)
    qtbot.waitUntil(lambda: not learner.running, timeout=180_000)
    assert ticks.stop() < GUI_STALL_S  # everything heavy was in the worker

    model = results / "learned" / "learned-from-3-images.onnx"
    assert model.is_file() and learner.model == model
    assert read_learned(model).record["images"] == ["p0", "p1", "p2"]
    said = widget._status.value
    assert said.startswith("Learned 2 classes on fcn_resnet50_ade's features from 3 image(s)")
    assert f"\nSaved as learned/{model.name} in the results folder." in said
    assert "Held out (3 folds over 3 images)" in said
    assert "\n  sky " in said and "\n  tree " in said  # the classes corrected, one line each
    assert said.count("IoU") >= 3  # the mean, and one per class
    assert widget._learn.text == LEARN_TEXT and widget._learn.enabled
    assert shown(learner.use) and not shown(learner.bar)

    learner.use.clicked.emit()
    assert learner.use.text == "Stop pre-annotating" and not widget._learn.enabled
    qtbot.waitUntil(lambda: not learner.running, timeout=120_000)
    assert widget._status.value.startswith("Pre-annotated with the learned model: 1 done, 3 ")
    export = read_export(results / "p3_labels.png")
    assert export.provenance["model"] == str(model)  # the learned model's labels
    # The rest comes with less to correct: the pixels p3's labels get wrong, base model's run
    # against the learned model's.
    wrong = (export.labels != truth()).sum()
    assert wrong < 0.1 * truth().size and wrong < to_correct / 4, (wrong, to_correct)
    assert {k: (results / f"p{k}_labels.png").read_bytes() for k in range(3)} == corrected
    statuses = {item.key: item.status for item in widget.session.items}
    assert statuses["p3"] is ReviewStatus.PRE_ANNOTATED
    assert [statuses[f"p{k}"] for k in range(3)] == [ReviewStatus.REVIEWED] * 3
    assert learner.use.text == USE_TEXT and widget._learn.enabled

    widget._learn.clicked.emit()  # again: a new file, the first one kept
    qtbot.waitUntil(lambda: not learner.running, timeout=180_000)
    assert learner.model == model.with_name("learned-from-3-images-2.onnx")
    assert sorted(p.name for p in model.parent.iterdir()) == [
        "learned-from-3-images-2.onnx",
        "learned-from-3-images.onnx",
    ]


def test_cancel_mid_learning_is_idle_within_a_second_and_writes_nothing(
    viewer, reviewed, qtbot, monkeypatch
):
    images, results = reviewed
    fitting = threading.Event()

    def slow_fit(samples, n_classes, should_stop=None, **_):
        fitting.set()  # a fit that stops between iterations, as scipy's does
        while not should_stop():
            time.sleep(0.01)
        raise SegmentationCancelled("Learning cancelled.")

    monkeypatch.setattr(learn_module, "fit_head", slow_fit)
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    before = sorted(p for p in results.rglob("*"))
    widget._learn.clicked.emit()
    qtbot.waitUntil(fitting.is_set, timeout=120_000)
    assert widget._learner.running
    widget._learn.clicked.emit()  # Cancel
    qtbot.waitUntil(lambda: not widget._learner.running, timeout=1_000)
    assert widget._status.value == "Learning cancelled: nothing was learned or written."
    assert sorted(p for p in results.rglob("*") if p.is_file()) == [
        p for p in before if p.is_file()
    ]
    assert widget._learn.text == LEARN_TEXT and widget._learn.enabled
    assert not shown(widget._learner.use) and widget._learner.model is None


def _learn_then_cancel(viewer, qtbot, reviewed, started: threading.Event):
    """The Review dock opened on the folder, Learn pressed, then Cancel once ``started``."""
    images, results = reviewed
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    widget._learn.clicked.emit()
    qtbot.waitUntil(started.is_set, timeout=120_000)
    widget._learn.clicked.emit()  # Cancel
    return widget


def test_cancel_while_the_corrected_images_are_read_stops_reading_them(
    viewer, reviewed, qtbot, monkeypatch
):
    """Reading twenty 12 MP photos takes seconds: Cancel acts between two of them, the dock
    idle within a second, no other image read, nothing written."""
    from napari_gluonseg.core.learn import corrected

    results = reviewed[1]
    reading, reads = threading.Event(), []
    read_image = corrected.read_image

    def slow_read(path):
        reads.append(path)
        reading.set()
        time.sleep(0.3)  # a large photo's decoding
        return read_image(path)

    monkeypatch.setattr(corrected, "read_image", slow_read)
    widget = _learn_then_cancel(viewer, qtbot, reviewed, reading)
    cancelled = time.perf_counter()
    qtbot.waitUntil(lambda: not widget._learner.running, timeout=1_000)
    assert time.perf_counter() - cancelled < 1.0
    assert len(reads) == 1  # of the three corrected images, the one being read when asked
    assert widget._status.value == "Learning cancelled: nothing was learned or written."
    assert not (results / "learned").exists()


def test_cancel_before_a_network_call_refuses_it_and_computes_no_other(
    viewer, reviewed, qtbot, monkeypatch
):
    """Cancel as an image's features are about to be computed: the call is refused (``stop``
    on the worker's thread), no other image's features are asked for, the dock is idle within
    a second."""
    from contextlib import contextmanager

    from napari_gluonseg.core.learn import features

    results = reviewed[1]
    about_to_call, go, calls, ran = threading.Event(), threading.Event(), [], []
    stoppable_run = features._stoppable_run

    @contextmanager
    def late():
        calls.append(time.perf_counter())
        about_to_call.set()
        go.wait(30)  # Cancel comes here, before the call
        with stoppable_run() as options:  # refused: the worker's thread was stopped
            ran.append(True)
            yield options

    monkeypatch.setattr(features, "_stoppable_run", late)
    widget = _learn_then_cancel(viewer, qtbot, reviewed, about_to_call)
    go.set()
    cancelled = time.perf_counter()
    qtbot.waitUntil(lambda: not widget._learner.running, timeout=1_000)
    assert time.perf_counter() - cancelled < 1.0
    assert len(calls) == 1 and ran == []  # the first image's call refused; no other began
    assert widget._status.value == "Learning cancelled: nothing was learned or written."
    assert not (results / "learned").exists()


def test_a_folder_without_corrections_says_so(viewer, review_folder, qtbot):
    images, results = review_folder
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    assert not widget._learn.enabled
    assert widget._learn.tooltip.startswith("No corrected image in this folder yet")
    widget._learn.clicked.emit()  # as a script would: the learning says why it cannot
    qtbot.waitUntil(lambda: not widget._learner.running, timeout=60_000)
    assert widget._status.value.startswith(f"Not learned: No corrected image in {results}")
    assert not (results / "learned").exists()


@pytest.mark.usefixtures("use_onnx_home")
def test_a_person_corrects_three_images_with_the_brush_learns_and_the_rest_needs_less(
    viewer, tmp_path, untrained_params, qtbot
):
    """The loop as a person runs it: a folder pre-annotated by the (untrained) model, opened in
    the Review dock; three images corrected with napari's brush and saved by Next; Learn; the
    rest pre-annotated with the learned model, and less of it to correct than before."""
    from PIL import Image

    from napari_gluonseg.core.batch.folder import segment_folder

    from ..learn_folder import RUN, photo

    images, results = tmp_path / "images", tmp_path / "results"
    images.mkdir()
    for n in range(4):
        Image.fromarray(photo(n)).save(images / f"p{n}.png")
    segment_folder(images, results, weights=untrained_params, **RUN)
    wrong = {f"p{n}": (read_export(results / f"p{n}_labels.png").labels != truth()).sum()
             for n in range(4)}  # fmt: skip
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    assert not widget._learn.enabled  # nothing corrected yet

    def opened(visited: list[str]) -> bool:
        """A new image open (the dock's order), its labels editable and shown."""
        layer, now = widget.labels_layer, widget.current
        return now is not None and now.key not in visited and layer is not None \
            and layer.editable and not widget._unshown  # fmt: skip

    visited: list[str] = []
    for _ in range(3):
        widget._next.clicked.emit()  # from the second on, leaving an image saves it
        qtbot.waitUntil(lambda: opened(visited), timeout=30_000)
        visited.append(widget.current.key)
        labels = widget.labels_layer
        labels.mode, labels.brush_size = "paint", 12
        for y in range(0, 96, 6):  # strokes over the halves: sky (3) left, tree (5) right
            for x in range(0, 128, 6):
                labels.paint((y, x), 3 if x < 64 else 5, refresh=False)
        labels.refresh()
        assert (labels.data == truth()).mean() > 0.95
    widget._next.clicked.emit()
    qtbot.waitUntil(lambda: opened(visited), timeout=30_000)
    rest = widget.current.key
    assert [read_export(results / f"{key}_labels.png").provenance.get("corrected_by_hand")
            for key in visited] == [True] * 3  # fmt: skip
    assert widget._learn.enabled

    widget._learn.clicked.emit()
    qtbot.waitUntil(lambda: not widget._learner.running, timeout=180_000)
    assert "Learned 2 classes" in widget._status.value, widget._status.value
    widget._previous.clicked.emit()  # the image open in the viewer is not pre-annotated again
    qtbot.waitUntil(lambda: opened([]) and widget.current.key == visited[-1], timeout=30_000)
    widget._learner.use.clicked.emit()
    qtbot.waitUntil(lambda: not widget._learner.running, timeout=120_000)
    export = read_export(results / f"{rest}_labels.png")
    assert export.provenance["model"] == str(widget._learner.model)
    after = (export.labels != truth()).sum()
    assert after < 0.1 * truth().size and after < wrong[rest] / 4, (after, wrong[rest])
