"""Tests of qt/review_opening.py in the "Review folder" dock (needs an X server): the next image
read ahead or in a worker, shown in the previous image's layers a step at a time."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image, Labels

from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.files.read_export import read_export

from .helpers import RUN, camera_of, first_image_open, open_dock


def test_next_shows_the_image_read_ahead_in_the_background(viewer, review_folder, monkeypatch):
    from napari_gluonseg.core.batch import review

    widget = first_image_open(viewer, review_folder)
    following = widget.session.items[1]
    pending = widget._read_ahead._pending
    assert list(pending) == [following.key]  # the first image has no previous one
    pending[following.key].result(timeout=30)  # the person looks at the first image meanwhile
    reads = []
    monkeypatch.setattr(review, "read_image", lambda path: reads.append(path))
    widget._next.clicked.emit()
    assert widget.current.key == following.key and reads == []  # nothing read on Next
    assert viewer.layers[0].data.shape == (64, 80, 3)
    assert set(pending) == {widget.session.items[2].key, widget.session.items[0].key}


@pytest.mark.threads
def test_next_never_reads_in_the_gui_thread_and_a_second_next_wins(
    qtbot, viewer, review_folder, monkeypatch
):
    """A 12 MP photo not read ahead took 2.6 s to decode with napari frozen: the dock reads it
    in a worker, says so, and shows it when read; a Next pressed meanwhile is the one shown."""
    import threading

    from napari_gluonseg.core.batch import review

    held = threading.Event()
    real_open = review.open_item

    def slow_open(item):
        held.wait(timeout=30)
        return real_open(item)

    monkeypatch.setattr(review, "open_item", slow_open)
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(*review_folder)
    widget._next.clicked.emit()  # returns at once: the read is held
    assert not held.is_set() and widget.current is None
    first = widget.session.items[0]
    assert widget._status.value == f"opening {first.key}..."
    widget._next.clicked.emit()  # Next again before the first is shown: the second wins
    second = widget.session.items[1]
    assert widget._status.value == f"opening {second.key}..."
    held.set()
    qtbot.waitUntil(lambda: widget.current is not None and len(viewer.layers) == 2, timeout=30000)
    qtbot.wait(200)  # the first read's answer arrives too, and is ignored
    assert widget.current.key == second.key
    assert [layer.name for layer in viewer.layers] == [second.key, f"{second.key} classes"]
    assert isinstance(widget.labels_layer, Labels) and widget.labels_layer.editable
    qtbot.waitUntil(lambda: all(layer.visible for layer in viewer.layers))  # new: shown a step on


@pytest.mark.threads
def test_next_pressed_while_the_layers_are_being_shown_leaves_one_image_and_its_labels(
    qtbot, viewer, review_folder
):
    """Next held down (key repeat) lands between the steps that show an image: the layers of
    the image half shown are taken over, none is left behind or left hidden."""
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(*review_folder)
    widget._next.clicked.emit()
    qtbot.waitUntil(lambda: bool(widget._unshown), timeout=30000)  # a new layer, still hidden
    widget._next.clicked.emit()
    qtbot.waitUntil(lambda: bool(widget._unshown) or len(widget._layers) == 2, timeout=30000)
    widget._next.clicked.emit()
    third = widget.session.items[2].key
    qtbot.waitUntil(
        lambda: widget.current is not None and widget.current.key == third
        and len(widget._layers) == 2 and not widget._unshown,
        timeout=30000,
    )  # fmt: skip
    qtbot.wait(100)
    assert [layer.name for layer in viewer.layers] == [third, f"{third} classes"]
    assert all(layer.visible for layer in viewer.layers) and widget.labels_layer.editable


def test_next_reuses_the_layers_without_the_previous_images_undo_history(viewer, review_folder):
    widget = first_image_open(viewer, review_folder)
    image, labels = viewer.layers
    labels.mode = "paint"
    used = set(np.unique(labels.data))
    for item in widget.session.items:
        used |= set(np.unique(read_export(item.labels).labels))
    first_value, second_value = [v for v in range(1, 151) if v not in used][:2]
    labels.paint((5, 7), first_value, refresh=True)
    labels.paint((5, 7), second_value, refresh=True)  # undoing it would bring first_value back
    widget._next.clicked.emit()  # saves the first image's edits, shows the second
    assert list(viewer.layers) == [image, labels]  # the same layers, new contents
    export = read_export(review_folder[1] / f"{widget.current.key}_labels.png")
    assert image.name == widget.current.key and labels.name == f"{widget.current.key} classes"
    np.testing.assert_array_equal(labels.data, export.labels)
    assert labels.mode == "paint"
    labels.undo()  # Ctrl+Z: nothing of the first image's edits reaches the second image
    np.testing.assert_array_equal(labels.data, export.labels)
    assert first_value not in labels.data
    assert labels.features["class_name"][1] == export.class_names[0]


def test_moving_between_grey_and_colour_images_keeps_the_labels_on_top_and_fits_the_view(
    viewer, tmp_path, untrained_params
):
    from PIL import Image as PILImage

    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(1)
    PILImage.fromarray(rng.integers(0, 256, (64, 80), np.uint8)).save(images / "a_grey.png")
    PILImage.fromarray(rng.integers(0, 256, (150, 40, 3), np.uint8)).save(images / "b_rgb.png")
    results = tmp_path / "results"
    segment_folder(images, results, weights=untrained_params, **RUN)
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(images, results)
    for step in (widget._next, widget._next, widget._previous):
        step.clicked.emit()
        image, labels = viewer.layers  # the photo below, its labels over it
        assert isinstance(image, Image) and isinstance(labels, Labels)
        assert image.name == widget.current.key
        centre = [(n - 1) / 2 for n in labels.data.shape]
        np.testing.assert_allclose(camera_of(viewer).center[-2:], centre, atol=1)
