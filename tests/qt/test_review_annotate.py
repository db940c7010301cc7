"""Tests of qt/review_annotate.py in the "Review folder" dock (needs an X server): the images
without results pre-annotated in the background, and stopping it."""

from __future__ import annotations

from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.batch.review import ReviewStatus
from napari_gluonseg.core.files.read_export import read_export

from ..core.batch.test_review import annotate_two, make_folder
from .helpers import RUN, open_dock


def test_pre_annotates_the_missing_images_in_the_background_as_the_folder_was(
    viewer, tmp_path, untrained_params, qtbot
):
    images, results = annotate_two(tmp_path, untrained_params)
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    statuses = {item.key: item.status for item in widget.session.items}
    assert statuses["img2"] is ReviewStatus.MISSING
    widget._annotate.clicked.emit()
    assert widget._annotate.text == "Stop pre-annotating"
    qtbot.waitUntil(lambda: not widget._annotator.running, timeout=120_000)
    assert widget._status.value == "Pre-annotated: 1 done, 2 skipped, 0 failed."
    statuses = {item.key: item.status for item in widget.session.items}
    assert statuses["img2"] is ReviewStatus.PRE_ANNOTATED
    settings = [
        read_export(results / f"img{k}_labels.png").provenance["batch"]["settings"] for k in (0, 2)
    ]
    assert settings[0] == settings[1]  # the same model, weights and options as the others
    assert widget._annotate.text == "Pre-annotate missing"


def test_stop_pre_annotating_ends_after_the_image_running(
    viewer, tmp_path, untrained_params, qtbot
):
    images = make_folder(tmp_path / "images")
    results = tmp_path / "results"
    segment_folder(images / "img0.png", results, weights=untrained_params, **RUN)
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    widget._annotate.clicked.emit()
    widget._annotate.clicked.emit()  # Stop: at most the image running is finished
    assert widget._annotate.text == "Stopping after this image..."
    qtbot.waitUntil(lambda: not widget._annotator.running, timeout=120_000)
    assert widget._status.value.startswith("Stopped: ")
    done = [item for item in widget.session.items if item.status is ReviewStatus.PRE_ANNOTATED]
    assert 1 <= len(done) <= 2  # img0 before; img1 only if it was already running
    assert widget._annotate.text == "Pre-annotate missing"
