"""What a run does to layers, on napari's viewer model (no window needed): the edited-by-hand
rule for every kind of write, one undo step per write, no piling up of layers."""

from __future__ import annotations

import numpy as np
import pytest
from napari.components import ViewerModel

from napari_gluonseg.core.run.result import SegmentationResult
from napari_gluonseg.layers import overwrite_rule
from napari_gluonseg.layers.data import METADATA_KEY
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.layers.overwrite_rule import EditedChoice, LayerWriteError, MergeMode
from napari_gluonseg.layers.results import ResultDestination, apply_steps, prepare_result

NAMES = ("wall", "building", "sky", "floor")
COLORS = ((120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50))
SHAPE = (40, 60)


def result_of(value: int, shape=SHAPE) -> SegmentationResult:
    return SegmentationResult(
        labels=np.full(shape, value, np.uint8),
        probabilities={"sky": np.full(shape, 0.25, np.float32)},
        confidence=np.full(shape, 0.5, np.float32),
        class_names=NAMES,
        colors=COLORS,
        provenance={"model": "test"},
    )


class Asker:
    """Stands in for the dialog: records what was asked, answers ``choice``."""

    def __init__(self, choice: EditedChoice = EditedChoice.CANCEL) -> None:
        self.choice = choice
        self.asked: list[tuple[str, int]] = []

    def __call__(self, name: str, pixels: int) -> EditedChoice:
        self.asked.append((name, pixels))
        return self.choice


@pytest.fixture
def viewer():
    v = ViewerModel()
    v.add_image(np.zeros((*SHAPE, 3), np.uint8), name="photo", rgb=True)
    return v


def run(viewer, value, ask=None, region=None, target=None, mode=MergeMode.FILL_UNLABELED):
    image = viewer.layers["photo"]
    whole = region is None
    region = region or tuple(slice(0, n) for n in SHAPE)
    result = result_of(value, tuple(s.stop - s.start for s in region))
    request = ResultDestination(image, region, target, mode, whole, ("confidence",))
    steps = apply_steps(viewer, prepare_result(request, result), ask or Asker())
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def test_rerun_updates_the_plugins_layers_in_place(viewer):
    assert run(viewer, 1) == ["photo classes", "photo P(sky)", "photo confidence"]
    labels = viewer.layers["photo classes"]
    asker = Asker()
    run(viewer, 2, asker)
    assert len(viewer.layers) == 4 and viewer.layers["photo classes"] is labels
    assert np.all(labels.data == 2) and asker.asked == []  # nothing of the user's at stake
    labels.undo()  # even a rerun is one undo step
    assert np.all(labels.data == 1)


def test_a_new_layer_is_added_hidden_and_shown_one_step_later(viewer):
    """napari's cost of a new 12 MP layer is half in adding it and half in its first draw (the
    texture upload): a step between the two lets the GUI breathe in between
    (benchmarks/bench_responsiveness.py measures it)."""
    image = viewer.layers["photo"]
    request = ResultDestination(image, (slice(0, 40), slice(0, 60)), None,
                                MergeMode.FILL_UNLABELED, True, ("confidence",))  # fmt: skip
    steps = apply_steps(viewer, prepare_result(request, result_of(1)), Asker())
    seen = []
    for _ in steps:
        seen.append({layer.name: layer.visible for layer in viewer.layers if layer is not image})
    added = ["photo classes", "photo P(sky)", "photo confidence"]
    for i, name in enumerate(added):
        first = next(k for k, state in enumerate(seen) if name in state)
        assert seen[first][name] is False, f"{name} was shown as it was added"
        assert seen[first + 1][name] is True, f"{name} was not shown on the next step"
        assert all(not seen[first][later] for later in added[i + 1 :] if later in seen[first])
    assert all(layer.visible for layer in viewer.layers)
    run(viewer, 2)  # in place: nothing to add, nothing hidden
    assert all(layer.visible for layer in viewer.layers)


@pytest.mark.parametrize("after", [1, 3])  # the labels hidden; a map hidden
def test_steps_closed_while_a_new_layer_is_hidden_leave_it_shown(viewer, after):
    """Cancel (or the dock closed) between adding a layer hidden and showing it."""
    image = viewer.layers["photo"]
    request = ResultDestination(image, (slice(0, 40), slice(0, 60)), None,
                                MergeMode.FILL_UNLABELED, True, ("confidence",))  # fmt: skip
    steps = apply_steps(viewer, prepare_result(request, result_of(1)), Asker())
    for _ in range(after):
        next(steps)
    assert not viewer.layers[-1].visible
    steps.close()
    assert all(layer.visible for layer in viewer.layers)


def test_edited_layer_is_only_overwritten_when_the_user_says_so(viewer):
    run(viewer, 1)
    labels = viewer.layers["photo classes"]
    labels.data_setitem((np.array([3]), np.array([4])), 3)  # a hand correction
    edited = labels.data.copy()

    asker = Asker(EditedChoice.CANCEL)
    assert run(viewer, 2, asker) == []
    assert asker.asked == [("photo classes", 1)]  # the one pixel set by hand
    np.testing.assert_array_equal(labels.data, edited)

    assert run(viewer, 2, Asker(EditedChoice.OVERWRITE))[0] == "photo classes"
    assert np.all(labels.data == 2)
    labels.undo()  # overwriting edits can be undone, in one step
    np.testing.assert_array_equal(labels.data, edited)


def test_keeping_hand_set_pixels_updates_the_rest_and_tracking_knows_its_limits(viewer):
    run(viewer, 1)
    labels = viewer.layers["photo classes"]
    tracker = hand_tracker(labels, create=False)
    assert tracker is not None and tracker.complete  # tracked from the run's output on
    labels.data_setitem((np.array([3, 3]), np.array([4, 5])), 3)  # by hand (a paint event)
    labels.data_setitem((np.array([7]), np.array([7])), 0)  # erased by hand
    labels.data_setitem((np.array([9]), np.array([9])), 4)
    labels.undo()  # an undone edit no longer counts
    assert tracker.complete and tracker.provenance()["pixels_set_by_hand"] == 3
    asker = Asker(EditedChoice.KEEP_HAND_SET)
    run(viewer, 2, asker, mode=MergeMode.OVERWRITE)
    assert asker.asked == [("photo classes", 3)]  # exactly the edits, not every changed pixel
    assert labels.data[3, 4] == labels.data[3, 5] == 3 and labels.data[7, 7] == 0
    assert (labels.data == 2).sum() == SHAPE[0] * SHAPE[1] - 3
    assert tracker.complete  # the run's output is the new reference
    labels.data[0, 0] = 4  # a script's write, no paint event: edits are no longer all known
    assert not tracker.complete


def test_an_overwrite_taken_back_with_ctrl_z_offers_to_keep_the_edits_again(viewer):
    run(viewer, 1)
    labels = viewer.layers["photo classes"]
    tracker = hand_tracker(labels, create=False)
    labels.data_setitem((np.array([3, 3]), np.array([4, 5])), 3)
    run(viewer, 2, Asker(EditedChoice.OVERWRITE), mode=MergeMode.OVERWRITE)
    assert (labels.data == 2).all() and tracker.provenance()["pixels_set_by_hand"] == 0
    labels.undo()  # the overwrite taken back: the edits and the first run's output are back
    assert labels.data[3, 4] == 3 and labels.data[0, 0] == 1
    assert tracker.complete and tracker.provenance()["pixels_set_by_hand"] == 2
    asker = Asker(EditedChoice.KEEP_HAND_SET)
    run(viewer, 2, asker, mode=MergeMode.OVERWRITE)
    assert asker.asked == [("photo classes", 2)] and labels.data[3, 4] == 3
    labels.data_setitem((np.array([5]), np.array([5])), 4)  # an edit after the undone run
    assert tracker.complete


def test_painting_a_few_pixels_asks_about_those_not_every_pixel_the_run_changes(viewer):
    run(viewer, 1)
    labels = viewer.layers["photo classes"]
    labels.data_setitem((np.array([3, 3]), np.array([4, 5])), 3)
    asker = Asker(EditedChoice.CANCEL)
    run(viewer, 2, asker, mode=MergeMode.OVERWRITE)
    assert asker.asked == [("photo classes", 2)]
    labels.data_setitem((np.array([3, 3]), np.array([4, 5])), 2)  # what the run would write
    run(viewer, 2, asker, mode=MergeMode.OVERWRITE)
    assert len(asker.asked) == 1 and (labels.data == 2).all()  # nothing of the person's at stake


def test_a_result_layer_renamed_by_the_user_is_theirs_and_later_runs_leave_it(viewer):
    run(viewer, 1)
    kept = viewer.layers["photo classes"]
    kept.name, kept.visible = "photo classes, first try", False
    asker = Asker()
    run(viewer, 2, asker)
    assert (kept.data == 1).all() and asker.asked == []
    fresh = viewer.layers["photo classes"]
    assert fresh is not kept and (fresh.data == 2).all()
    run(viewer, 3)
    assert viewer.layers["photo classes"] is fresh and (fresh.data == 3).all()
    assert (kept.data == 1).all()


def test_new_layer_choice_makes_one_copy_that_later_runs_update(viewer):
    run(viewer, 1)
    first = viewer.layers["photo classes"]
    first.data_setitem((np.array([0]), np.array([0])), 4)
    run(viewer, 2, Asker(EditedChoice.NEW_LAYER))
    copies = [ly for ly in viewer.layers if ly.name.startswith("photo classes")]
    assert len(copies) == 2 and first.data[0, 0] == 4  # the edited one is kept as it was
    current = copies[1]
    assert np.all(current.data == 2)
    asker = Asker(EditedChoice.NEW_LAYER)
    for value in (3, 4):
        run(viewer, value, asker)
    assert [ly for ly in viewer.layers if ly.name.startswith("photo classes")] == copies
    assert np.all(current.data == 4) and asker.asked == []  # no piling up, no question
    assert first.metadata[METADATA_KEY]["role"] == "kept edits"


def test_region_overwrite_into_edited_plugin_layer_asks_first(viewer):
    run(viewer, 1)
    labels = viewer.layers["photo classes"]
    labels.data_setitem((np.array([12]), np.array([12])), 3)
    edited = labels.data.copy()
    region = (slice(10, 30), slice(10, 30))
    asker = Asker(EditedChoice.CANCEL)
    run(viewer, 2, asker, region=region, mode=MergeMode.OVERWRITE)
    assert asker.asked == [("photo classes", 1)]
    np.testing.assert_array_equal(labels.data, edited)
    # Filling unlabeled pixels cannot touch anything set: no question, nothing changes.
    asker = Asker(EditedChoice.CANCEL)
    run(viewer, 2, asker, region=region, mode=MergeMode.FILL_UNLABELED)
    assert asker.asked == []
    np.testing.assert_array_equal(labels.data, edited)


def test_region_maps_lie_over_the_region(viewer):
    run(viewer, 2, region=(slice(10, 30), slice(20, 50)))
    labels = viewer.layers["photo classes"].data
    assert np.all(labels[10:30, 20:50] == 2) and labels.sum() == 2 * 20 * 30
    confidence = viewer.layers["photo confidence"]
    assert confidence.data.shape == (20, 30)
    np.testing.assert_allclose(confidence.translate, (10, 20))


def test_users_layer_learns_class_names_and_keeps_its_other_colours(viewer):
    hand = np.zeros(SHAPE, np.uint8)
    hand[:5, :5] = 9  # a value the run's classes do not name
    mine = viewer.add_labels(hand, name="mine")
    colour_of_9 = tuple(mine.colormap.map(9))
    asker = Asker()
    run(viewer, 3, asker, target=mine)
    assert asker.asked == []  # fill-unlabeled: nothing of theirs at stake
    assert np.all(mine.data[:5, :5] == 9) and np.all(mine.data[5:] == 3)
    assert list(mine.features["class_name"][:5]) == ["unlabeled", *NAMES]
    np.testing.assert_allclose(mine.colormap.map(3)[:3], np.array(COLORS[2]) / 255, atol=1e-6)
    np.testing.assert_allclose(mine.colormap.map(9), colour_of_9, atol=1e-6)
    assert "photo classes" not in viewer.layers


def test_users_layer_overwrite_asks_about_their_labelled_pixels(viewer):
    hand = np.zeros(SHAPE, np.uint8)
    hand[:5, :5] = 1
    mine = viewer.add_labels(hand, name="mine")
    asker = Asker(EditedChoice.OVERWRITE)
    run(viewer, 3, asker, target=mine, mode=MergeMode.OVERWRITE)
    assert asker.asked == [("mine", 25)]  # only the pixels they had labelled are at risk
    assert np.all(mine.data == 3)


def test_users_layer_with_other_class_names_is_refused_untouched(viewer):
    import pandas as pd

    mine = viewer.add_labels(np.zeros(SHAPE, np.uint8), name="mine")
    mine.features = pd.DataFrame({"index": [0, 1], "class_name": ["none", "cell"]})
    with pytest.raises(LayerWriteError, match="labels other classes"):
        run(viewer, 3, target=mine)
    assert not mine.data.any()


def test_a_big_write_is_chunked_but_undone_in_one_step(viewer, monkeypatch):
    """The write of layers/overwrite_rule.py, in a run's steps."""
    run(viewer, 1)
    labels = viewer.layers["photo classes"]
    monkeypatch.setattr(overwrite_rule, "WRITE_CHUNK", 500)
    image = viewer.layers["photo"]
    request = ResultDestination(
        image, (slice(0, 40), slice(0, 60)), None, MergeMode.OVERWRITE, True
    )
    steps = list(apply_steps(viewer, prepare_result(request, result_of(2)), Asker()))
    assert len(steps) >= 2400 // 500  # the GUI gets control back between chunks
    assert np.all(labels.data == 2)
    labels.undo()
    assert np.all(labels.data == 1)
