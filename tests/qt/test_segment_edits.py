"""Tests of qt/segment_widget.py's runs over labels a person edited (needs an X server): asked
before replacing them (qt/dialogs.py), kept, kept exactly, overwritten as one undo."""

from __future__ import annotations

import numpy as np
import pytest

from napari_gluonseg.layers.data import METADATA_KEY
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.layers.kept_scores import kept_scores
from napari_gluonseg.qt import dialogs

from ..conftest import BICYCLE
from .helpers import BICYCLE_NAME, fast_widget, run_and_wait, run_on_dog, widget_info


@pytest.mark.parametrize("choice", [dialogs.EditedChoice.NEW_LAYER, dialogs.EditedChoice.CANCEL])
def test_hand_edits_are_kept_unless_user_says_overwrite(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch, choice
):
    widget, labels = run_on_dog(qtbot, viewer, untrained_params)
    labels.paint((5, 5), 3, refresh=True)  # a hand correction with the brush
    edited = labels.data.copy()
    asked = []
    monkeypatch.setattr(
        dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, **_: asked.append(name) or choice,
    )
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert asked == ["dog classes"]
    np.testing.assert_array_equal(labels.data, edited)  # the edits survive
    extra = [ly for ly in viewer.layers if ly.name.startswith("dog classes") and ly is not labels]
    if choice is dialogs.EditedChoice.NEW_LAYER:
        assert len(extra) == 1 and np.all(extra[0].data == BICYCLE + 1)
        widget.controls.weights.value = untrained_params
        run_and_wait(qtbot, widget)  # the copy is now the plugin's layer: updated in place
        again = [ly for ly in viewer.layers if ly.name.startswith("dog classes")]
        assert again == [labels, extra[0]] and asked == ["dog classes"]
        assert not np.all(extra[0].data == BICYCLE + 1)
    else:
        assert extra == []


def test_a_rerun_can_keep_exactly_the_pixels_set_by_hand(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch
):
    widget, labels = run_on_dog(qtbot, viewer, untrained_params)
    assert kept_scores(labels) is not None  # the run's scores travel with its layer
    labels.mode = "paint"
    labels.paint((5, 5), 3, refresh=True)
    hand = hand_tracker(labels).hand_set()
    offered = []
    monkeypatch.setattr(
        dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, hand_set=None: (
            offered.append(hand_set) or dialogs.EditedChoice.KEEP_HAND_SET
        ),
    )
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert offered == [int(hand.sum())] and hand.sum() > 0
    assert (labels.data[hand] == 3).all() and (labels.data[~hand] == BICYCLE + 1).all()


def test_overwrite_only_when_chosen(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch
):
    widget, labels = run_on_dog(qtbot, viewer, untrained_params)
    labels.paint((5, 5), 3, refresh=True)
    monkeypatch.setattr(
        dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, **_: dialogs.EditedChoice.OVERWRITE,
    )
    edited = labels.data.copy()
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert np.all(labels.data == BICYCLE + 1)
    labels.undo()  # Ctrl+Z takes the whole overwrite back
    np.testing.assert_array_equal(labels.data, edited)


def hand_labels(shape) -> np.ndarray:
    hand = np.zeros(shape, np.uint8)
    hand[10:20, 10:30] = 5
    hand[50:60, 0:10] = 9
    return hand


def test_fill_unlabeled_keeps_hand_labels_and_undo_restores(
    qtbot, viewer, dog_layer, bicycle_params
):
    hand = hand_labels(dog_layer.data.shape[:2])
    mine = viewer.add_labels(
        hand.copy(), name="mine", scale=dog_layer.scale, translate=dog_layer.translate
    )
    widget = fast_widget(viewer)
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    widget.controls.target.value = mine
    # the default never overwrites
    assert widget.controls.merge.value == "fill unlabeled pixels only"
    run_and_wait(qtbot, widget)
    kept = hand != 0
    np.testing.assert_array_equal(mine.data[kept], hand[kept])
    assert np.all(mine.data[~kept] == BICYCLE + 1)
    assert "dog classes" not in viewer.layers  # written into the chosen layer only
    meta = mine.metadata[METADATA_KEY]
    assert meta["merge_mode"] == "fill_unlabeled" and "written_digest" not in meta
    assert mine.features["class_name"][BICYCLE + 1] == BICYCLE_NAME  # hover names the class
    assert meta["provenance"]["region"] == [[0, 72], [0, 96]]
    mine.undo()  # napari's undo takes the whole fill back in one step
    np.testing.assert_array_equal(mine.data, hand)


def test_reopened_export_counts_as_edited(
    qtbot, viewer, dog_layer, bicycle_params, tmp_path, monkeypatch
):
    from napari_gluonseg import model_info
    from napari_gluonseg.core.files.export import write_labels

    labels = np.full(dog_layer.data.shape[:2], 3, np.uint8)  # 'sky', which the run changes
    names = model_info("fcn_resnet50_ade").class_names
    paths = write_labels(labels, names, widget_info().colors, {}, tmp_path, "dog")
    viewer.open(str(paths["labels"]), plugin="napari-gluonseg")
    asked = []
    monkeypatch.setattr(
        dialogs,
        "ask_about_edited_labels",
        lambda *a, **_: asked.append(a) or dialogs.EditedChoice.CANCEL,
    )
    widget = fast_widget(viewer)
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    run_and_wait(qtbot, widget)
    assert asked  # an opened export may hold hand corrections: never replaced without asking
    np.testing.assert_array_equal(viewer.layers["dog classes"].data, labels)


def test_region_overwrite_asks_before_replacing_hand_edits(
    qtbot, viewer, dog_layer, untrained_params, bicycle_params, monkeypatch
):
    widget, labels = run_on_dog(qtbot, viewer, untrained_params)
    labels.paint((20, 20), 3, refresh=True)  # a hand correction inside the rectangle
    edited = labels.data.copy()
    viewer.add_shapes([np.array([[15, 25], [15, 40], [30, 40], [30, 25]])], shape_type="rectangle")
    asked = []
    monkeypatch.setattr(
        dialogs,
        "ask_about_edited_labels",
        lambda parent, name, pixels, **_: asked.append(pixels) or dialogs.EditedChoice.CANCEL,
    )
    widget.controls.image.value = dog_layer
    widget.controls.weights.value = bicycle_params
    widget.controls.region.value = "rectangle (Shapes layer)"
    widget.controls.merge.value = "overwrite the region"
    run_and_wait(qtbot, widget)
    assert asked and 0 < asked[0] <= 31 * 31  # pixels of the rectangle that would change
    np.testing.assert_array_equal(labels.data, edited)
