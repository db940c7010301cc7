"""The "Review folder" dock in a real napari viewer (needs an X server)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image, Labels

from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.batch.review import ReviewStatus
from napari_gluonseg.core.files.read_export import read_export
from napari_gluonseg.core.provenance import CORRECTED_KEY, CORRECTIONS_KEY
from napari_gluonseg.qt.correct_gestures import MENU_SIZE
from napari_gluonseg.qt.review_widget import ReviewWidget

from ..core.batch.test_review import annotate_two, make_folder
from .helpers import camera_of, open_dock

RUN = {"scale": 1.0, "engine": "onnxruntime"}


@pytest.fixture
def viewer(make_viewer):
    return make_viewer()


@pytest.fixture
def folder(tmp_path, untrained_params):
    images = make_folder(tmp_path / "images")
    results = tmp_path / "results"
    segment_folder(
        images,
        results,
        weights=untrained_params,
        scale=1.0,
        engine="onnxruntime",
        min_confidence=0.02,
    )
    return images, results


def test_walk_correct_save_resume_and_batch_keeps_it(viewer, folder, untrained_params):
    images, results = folder
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

    summary = segment_folder(
        images,
        results,
        weights=untrained_params,
        scale=1.0,
        engine="onnxruntime",
        min_confidence=0.02,
    )
    kept = {r.key: r for r in summary.reports}[first.key]
    assert kept.status == "skipped" and "corrected by hand" in kept.error
    np.testing.assert_array_equal(read_export(first.labels).labels, painted)


def _first_image_open(viewer, folder) -> ReviewWidget:
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(*folder)
    widget._next.clicked.emit()
    return widget


def test_next_shows_the_image_read_ahead_in_the_background(viewer, folder, monkeypatch):
    from napari_gluonseg.core.batch import review

    widget = _first_image_open(viewer, folder)
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
    qtbot, viewer, folder, monkeypatch
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
    widget.open_folder(*folder)
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
    qtbot, viewer, folder
):
    """Next held down (key repeat) lands between the steps that show an image: the layers of
    the image half shown are taken over, none is left behind or left hidden."""
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(*folder)
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


@pytest.mark.threads
@pytest.mark.parametrize("fails", [False, True])
def test_next_after_an_edit_saves_in_a_worker_then_opens_or_stays_if_it_cannot(
    qtbot, viewer, folder, monkeypatch, fails
):
    """Saving a 12 MP export took seconds with napari frozen: the Next click returns at once,
    the labels read-only while written; a save that fails leaves the image open, editable."""
    import threading

    widget = open_dock(viewer, "Review folder")
    widget.open_folder(*folder)
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


@pytest.mark.threads
def test_closing_the_dock_while_an_image_is_read_leaves_no_layer_behind(
    qtbot, viewer, folder, monkeypatch
):
    import threading

    from napari_gluonseg.core.batch import review

    dock, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Review folder")
    widget.open_folder(*folder)
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


def test_next_reuses_the_layers_without_the_previous_images_undo_history(viewer, folder):
    widget = _first_image_open(viewer, folder)
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
    export = read_export(folder[1] / f"{widget.current.key}_labels.png")
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


def test_corrections_that_cannot_be_saved_keep_the_image_open(viewer, folder, monkeypatch):
    widget = _first_image_open(viewer, folder)
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


def test_probabilities_and_doubtful_places_from_the_kept_scores(viewer, tmp_path, untrained_params):
    from napari_gluonseg.core.files.read_export import read_scores

    images = make_folder(tmp_path / "images")
    results = tmp_path / "results"
    segment_folder(images, results, weights=untrained_params, keep_scores=True, **RUN)
    widget = _first_image_open(viewer, (images, results))
    image, labels = viewer.layers
    export = read_export(widget.current.labels)
    scores = read_scores(widget.current.labels, export.labels.shape)
    assert widget._probability.choices == (None, *range(150)) and widget._probability.enabled
    viewer.add_points()  # napari resets a dock's lists when a layer is added: they must hold
    assert widget._probability.choices == (None, *range(150))
    assert len(widget._images.choices) == 1 + 3
    viewer.layers.remove(viewer.layers[-1])
    viewer.layers.selection.active = labels
    widget._probability.value = 12  # the person picks a class
    prob = viewer.layers[-1]
    assert prob.name == f"{image.name} P({export.class_names[12].split(',')[0]})"
    np.testing.assert_array_equal(prob.data, scores.probability_map(12))
    assert viewer.layers.selection.active is labels  # painting goes on in the labels

    widget._region.clicked.emit()  # small margins count: an untrained network hesitates
    assert len(widget._scores_view.regions) > 0
    assert widget._status.value.startswith("Uncertain region 1 of")

    widget._next.clicked.emit()
    assert prob not in viewer.layers and list(viewer.layers) == [image, labels]
    assert widget._probability.value is None


def test_the_correct_dock_works_in_the_review_loop_and_its_edits_are_saved(
    qtbot, make_viewer, tmp_path, untrained_params
):
    from qtpy.QtCore import QPoint, Qt

    from napari_gluonseg.layers.corrections import hand_tracker, kept_scores

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
