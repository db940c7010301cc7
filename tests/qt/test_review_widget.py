"""Tests of qt/review_widget.py's "Review folder" dock in a real napari viewer (needs an X
server): a folder walked through, corrected, saved and resumed; its keys; closing it. Opening an
image: test_review_opening.py; saving: test_review_saving.py."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image, Labels

from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.batch.review import ReviewStatus
from napari_gluonseg.core.files.read_export import read_export
from napari_gluonseg.core.provenance import CORRECTED_KEY, CORRECTIONS_KEY

from .helpers import RUN, camera_of, open_dock


def test_walk_correct_save_resume_and_batch_keeps_it(viewer, review_folder, untrained_params):
    images, results = review_folder
    keys_before = dict(viewer.keymap)
    dock, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Review folder")
    assert len(viewer.keymap) == len(keys_before) + 3
    widget.open_folder(images, results)
    assert widget.current is None and len(viewer.layers) == 0

    widget._next.clicked.emit()
    first = widget.session.items[0]
    assert widget.current.key == first.key
    image, labels = viewer.layers
    assert isinstance(image, Image) and isinstance(labels, Labels)
    assert image.data.shape == (64, 80, 3) and labels.data.shape == (64, 80)
    export = read_export(first.labels)
    np.testing.assert_array_equal(labels.data, export.labels)
    assert labels.features["class_name"][1] == export.class_names[0]

    # "Next uncertain region" moves the view onto the largest unlabeled region
    assert widget._scores_view.regions is None
    widget._region.clicked.emit()
    assert len(widget._scores_view.regions), "min_confidence should leave unlabeled pixels"
    _, box, _ = widget._scores_view.regions.regions[0]
    centre = [(s.start + s.stop - 1) / 2 for s in box]
    np.testing.assert_allclose(camera_of(viewer).center[-2:], centre)

    value = 1 if labels.data[5, 7] != 1 else 2
    labels.paint((5, 7), value, refresh=True)  # brush size 10 paints a disc
    painted = labels.data.copy()
    changed = int(np.count_nonzero(painted != export.labels))
    assert changed > 0

    widget._next.clicked.emit()  # leaving the image saves it
    assert widget.current.key == widget.session.items[1].key != first.key
    assert len(viewer.layers) == 2 and first.key not in [layer.name for layer in viewer.layers]
    saved = read_export(results / f"{first.key}_labels.png")
    np.testing.assert_array_equal(saved.labels, painted)
    assert saved.provenance[CORRECTED_KEY] is True
    assert saved.provenance[CORRECTIONS_KEY][-1]["pixels_changed"] == changed
    statuses = {item.key: item.status for item in widget.session.items}
    assert statuses[first.key] is ReviewStatus.REVIEWED
    second = widget.current.key

    # An unedited image is not rewritten when left.
    before = (results / f"{second}_provenance.json").read_bytes()
    dock.titleBarWidget().close_button.click()  # napari's X: layers closed, keys given back
    assert (results / f"{second}_provenance.json").read_bytes() == before
    assert len(viewer.layers) == 0
    assert dict(viewer.keymap) == keys_before

    again = open_dock(viewer, "Review folder")  # opened again from the menu
    again.open_folder(images, results)
    assert again.current.key == second  # resumes where the person stopped
    assert [layer.name for layer in viewer.layers] == [second, f"{second} classes"]

    summary = segment_folder(images, results, weights=untrained_params, min_confidence=0.02, **RUN)
    kept = {r.key: r for r in summary.reports}[first.key]
    assert kept.status == "skipped" and "corrected by hand" in kept.error
    np.testing.assert_array_equal(read_export(first.labels).labels, painted)


@pytest.mark.threads
def test_closing_the_dock_while_an_image_is_read_leaves_no_layer_behind(
    qtbot, viewer, review_folder, monkeypatch
):
    import threading

    from napari_gluonseg.core.batch import review

    dock, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Review folder")
    widget.open_folder(*review_folder)
    widget._next.clicked.emit()
    qtbot.waitUntil(lambda: widget.current is not None and len(viewer.layers) == 2, timeout=30000)
    held, real_open = threading.Event(), review.open_item
    monkeypatch.setattr(review, "open_item", lambda item: held.wait(30) and real_open(item))
    widget._read_ahead.read_ahead([])  # nothing read ahead: Next reads, held
    widget._next.clicked.emit()
    assert not widget.labels_layer and viewer.layers[-1].editable is False  # saved, read-only
    dock.titleBarWidget().close_button.click()  # napari's X while the image is read
    assert len(viewer.layers) == 0
    held.set()
    qtbot.wait(500)  # the read's answer arrives: nothing is shown
    assert len(viewer.layers) == 0
