"""Tests of qt/review_saving.py in the "Review folder" dock (needs an X server): corrections
saved on leaving an image, in a worker, kept open when they cannot be saved, and the Correct
dock's edits saved in the review loop."""

from __future__ import annotations

import numpy as np
import pytest

from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.files.read_export import read_export
from napari_gluonseg.core.provenance import CORRECTED_KEY, CORRECTIONS_KEY
from napari_gluonseg.qt.correct_gestures import MENU_SIZE

from ..core.batch.test_review import make_folder
from .helpers import camera_of, first_image_open, open_dock


@pytest.mark.threads
@pytest.mark.parametrize("fails", [False, True])
def test_next_after_an_edit_saves_in_a_worker_then_opens_or_stays_if_it_cannot(
    qtbot, viewer, review_folder, monkeypatch, fails
):
    """Saving a 12 MP export took seconds with napari frozen: the Next click returns at once,
    the labels read-only while written; a save that fails leaves the image open, editable."""
    import threading

    widget = open_dock(viewer, "Review folder")
    widget.open_folder(*review_folder)
    widget._next.clicked.emit()
    qtbot.waitUntil(lambda: widget.labels_layer is not None and not widget._unshown, timeout=30000)
    first, labels = widget.current, widget.labels_layer
    labels.mode = "paint"
    labels.paint((5, 7), 3 if labels.data[5, 7] != 3 else 4, refresh=True)
    painted = labels.data.copy()
    held, real_write = threading.Event(), widget.session.write_corrections

    def slow_write(*args, **kwargs):
        held.wait(timeout=30)
        if fails:
            raise OSError(28, "No space left on device")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(widget.session, "write_corrections", slow_write)
    widget._next.clicked.emit()  # returns at once: the write is held
    assert widget._status.value == f"saving the corrections of {first.key}..."
    assert not labels.editable and widget.current.key == first.key
    held.set()
    if fails:
        qtbot.waitUntil(lambda: not widget._saving, timeout=30000)
        assert widget.current.key == first.key and widget.labels_layer is labels
        assert labels.editable and labels.mode == "paint"
        assert "could not be saved" in widget._status.value
        np.testing.assert_array_equal(labels.data, painted)
        return
    qtbot.waitUntil(lambda: widget.current is not None and widget.current.key != first.key,
                    timeout=30000)  # fmt: skip
    np.testing.assert_array_equal(read_export(first.labels).labels, painted)
    qtbot.waitUntil(lambda: widget.labels_layer is not None and widget.labels_layer.editable)


def test_corrections_that_cannot_be_saved_keep_the_image_open(viewer, review_folder, monkeypatch):
    widget = first_image_open(viewer, review_folder)
    first = widget.current.key
    labels = widget.labels_layer
    labels.paint((5, 7), 3 if labels.data[5, 7] != 3 else 4, refresh=True)
    painted = labels.data.copy()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(widget.session, "write_corrections", full_disk)
    widget._next.clicked.emit()
    assert widget.current.key == first and widget.labels_layer is labels
    np.testing.assert_array_equal(labels.data, painted)
    assert "could not be saved" in widget._status.value


def test_the_correct_dock_works_in_the_review_loop_and_its_edits_are_saved(
    qtbot, make_viewer, tmp_path, untrained_params
):
    from qtpy.QtCore import QPoint, Qt

    from napari_gluonseg.layers.hand_edits import hand_tracker
    from napari_gluonseg.layers.kept_scores import kept_scores

    viewer = make_viewer(show=True)  # shown: the canvas maps the mouse as on a desktop
    images = make_folder(tmp_path / "images", n=2)
    results = tmp_path / "results"
    segment_folder(images, results, weights=untrained_params, scale=1.0, engine="onnxruntime",
                   keep_scores=True)  # fmt: skip
    review = open_dock(viewer, "Review folder")
    correct = open_dock(viewer, "Correct labels")
    review.open_folder(images, results)
    review._next.clicked.emit()
    first = review.current.key
    labels = review.labels_layer
    assert kept_scores(labels) is not None and hand_tracker(labels).complete
    before = labels.data.copy()
    labels.mode = "pan_zoom"
    camera = camera_of(viewer)
    camera.center, camera.zoom = (0, 32, 40), 6.0  # the canvas' centre is pixel (32, 40)
    canvas = viewer.window._qt_viewer.canvas.native
    centre = QPoint(canvas.width() // 2, canvas.height() // 2)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, centre)
    actions = correct.menu.actions()
    assert 1 <= len(actions) <= MENU_SIZE
    pick = next(i for i, a in enumerate(actions) if "(now)" not in a.text())
    qtbot.keyClick(correct.menu, getattr(Qt.Key, f"Key_{pick + 1}"))
    changed = int(np.count_nonzero(labels.data != before))
    assert changed > 0 and hand_tracker(labels).provenance()["pixels_changed_by_tool"] == {
        "relabel": changed
    }
    review._next.clicked.emit()  # leaving the image saves the relabelled labels
    saved = read_export(results / f"{first}_labels.png")
    assert int(np.count_nonzero(saved.labels != before)) == changed
    assert saved.provenance[CORRECTED_KEY] is True
    assert saved.provenance[CORRECTIONS_KEY][-1]["pixels_changed_by_tool"] == {"relabel": changed}
    assert (results / f"{first}_scores.npz").is_file()  # kept beside the corrected labels
    assert kept_scores(review.labels_layer) is not None  # the next image's scores
    review._previous.clicked.emit()
    assert kept_scores(review.labels_layer) is not None  # and the first's, reopened
