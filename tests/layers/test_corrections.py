"""Corrections on a napari labels layer without a viewer or Qt: the edit tracker follows napari's
paint events and undo, and a region relabelled once can be relabelled again."""

import numpy as np
from napari.layers import Labels

from napari_gluonseg.core.run.scores import ScoreGrid
from napari_gluonseg.layers.corrections import LayerCorrector
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.layers.kept_scores import attach_scores

SHAPE = (20, 30)


def layer_with_scores() -> Labels:
    """Left half: sky 60% > building 30%; right half: tree 70%."""
    layer = Labels(np.full(SHAPE, 4, np.int32))
    p = np.full((1, 5, 6, 8), 0.025, np.float32)
    p[:, 2, :, :4], p[:, 1, :, :4] = 0.6, 0.3
    p[:, 4, :, 4:] = 0.7
    p /= p.sum(axis=1, keepdims=True)
    attach_scores(layer, ScoreGrid(p.astype(np.float16), (), SHAPE, tuple(range(5))), (0, 0))
    return layer


def test_relabelled_twice_the_second_pick_wins_and_undo_takes_each_back():
    layer = layer_with_scores()
    corrector = LayerCorrector(layer)
    box, mask = corrector.region_at((), 5, 5)
    assert corrector.relabel((), box, mask, 1, "relabel") == 20 * 30  # building
    box, mask = corrector.region_at((), 5, 5)
    assert corrector.relabel((), box, mask, 2, "relabel") == 20 * 30  # sky after all
    assert (layer.data == 3).all()
    provenance = corrector.tracker.provenance()
    assert provenance["pixels_relabelled_with_the_tools"] == 20 * 30
    assert provenance["pixels_set_by_hand"] == 0
    layer.undo()
    assert (layer.data == 2).all()
    layer.undo()
    assert (layer.data == 4).all() and corrector.tracker.provenance()[
        "pixels_changed_by_tool"
    ] == {}


def test_a_brush_stroke_is_kept_from_a_relabel_until_it_is_undone():
    layer = layer_with_scores()
    corrector = LayerCorrector(layer)
    layer.data_setitem((np.array([3, 3]), np.array([4, 5])), 1)  # napari's own paint event
    box, mask = corrector.region_at((), 10, 20)
    corrector.relabel((), box, mask, 4, "relabel")
    assert layer.data[3, 4] == layer.data[3, 5] == 1  # set by hand: left alone
    layer.undo()  # the relabel
    layer.undo()  # the stroke
    box, mask = corrector.region_at((), 10, 20)
    assert corrector.relabel((), box, mask, 4, "relabel") == 20 * 30  # nothing protected now
    assert hand_tracker(layer).provenance()["pixels_set_by_hand"] == 0


def test_the_menu_adds_the_classes_likely_at_the_click_that_the_region_lacks():
    """Eight classes: the region's five most likely over it leave out class 7, which the
    scores put in the bottom-right corner only: clicked there, it is offered too."""
    layer = Labels(np.full(SHAPE, 1, np.int32))
    p = np.zeros((1, 8, 6, 8), np.float32)
    p[0, :6] = np.linspace(0.3, 0.1, 6)[:, None, None]  # classes 0-5 everywhere
    p[0, 7, 4:, 6:] = 3.0  # class 7 in one corner
    p /= p.sum(axis=1, keepdims=True)
    attach_scores(layer, ScoreGrid(p.astype(np.float16), (), SHAPE, tuple(range(8))), (0, 0))
    corrector = LayerCorrector(layer)
    box, mask = corrector.region_at((), 19, 29)
    listed = corrector.menu((), box, mask, (19, 29))
    assert [c for c, _, here in listed if not here] == [0, 1, 2, 3, 4]
    assert (7, True) in [(c, here) for c, _, here in listed]
    away = corrector.menu((), box, mask, (0, 0))
    assert 7 not in [c for c, _, _ in away]


def test_a_clean_leaves_a_class_the_person_picked_and_a_later_pick_may_change_it():
    """Clean and snap decide alone: a class the person picked with the dock (relabel, R, class
    brush) is theirs, as napari's brush is. A gesture of theirs may change their mind."""
    layer = layer_with_scores()
    corrector = LayerCorrector(layer)
    speck = (slice(8, 10), slice(8, 10))
    layer.data[speck] = 3  # a small sky region inside the floor
    box, mask = corrector.region_at((), 8, 8)
    assert corrector.relabel((), box, mask, 1, "relabel") == 4  # picked: building
    assert corrector.speckles((), 64) == []  # the pick is not a speckle to clean
    assert corrector.snap((), np.zeros(SHAPE, np.int32)) == []  # nor a cell's minority
    box, mask = corrector.region_at((), 8, 8)
    assert corrector.relabel((), box, mask, 4, "relabel") == 4  # a later pick changes it


def test_an_edit_prepared_elsewhere_is_written_only_onto_the_pixels_it_was_computed_from():
    from napari_gluonseg.core.edits.corrections import Change

    layer = layer_with_scores()
    before = layer.data.copy()
    corrector = LayerCorrector(layer)
    box = (slice(0, 10), slice(0, 10))
    change = Change(box, np.ones((10, 10), bool), 7)
    prepared = corrector.prepare((), [change])
    assert prepared is not None and (layer.data == before).all()  # nothing written yet
    layer.paint((3, 3), 2)  # a stroke by hand in between
    stroked = layer.data.copy()
    assert corrector.apply(prepared, "relabel") is None
    np.testing.assert_array_equal(layer.data, stroked)  # the stroke stands, nothing else moved
    prepared = corrector.prepare((), [change])
    assert corrector.apply(prepared, "relabel") == int((stroked[box] != 7).sum())
    assert (layer.data[box] == 7).all()
    layer.undo()  # one edit
    np.testing.assert_array_equal(layer.data, stroked)
    assert corrector.prepare((), [Change(box, np.ones((10, 10), bool), 2)]) is not None
    layer.data[box] = 2
    assert corrector.prepare((), [Change(box, np.ones((10, 10), bool), 2)]) is None  # no-op


def test_scores_kept_for_a_region_of_the_layer_are_read_where_that_region_lies():
    """A run on a region keeps scores for it alone (origin (0, 10)): the menu reads the clicked
    pixel there, and the class brush paints there, not 10 px to the left."""
    layer = Labels(np.full(SHAPE, 1, np.int32))
    p = np.full((1, 4, 6, 6), 0.1, np.float32)
    p[0, 0] = 0.5  # class 0 over the region ...
    p[0, 3, :, 5:] = 3.0  # ... class 3 along its right edge: layer column 29
    p /= p.sum(axis=1, keepdims=True)
    attach_scores(layer, ScoreGrid(p.astype(np.float16), (), (20, 20), tuple(range(4))), (0, 10))
    corrector = LayerCorrector(layer)
    box, mask = corrector.region_at((), 5, 5)  # the whole layer: one region
    listed = corrector.menu((), box, mask, (10, 29), k=1)
    assert [(c, at_click) for c, _, at_click in listed] == [(0, False), (3, True)]
    assert not any(at for *_, at in corrector.menu((), box, mask, (10, 12), k=1))
    stroke = np.ones(SHAPE, bool)
    change = corrector.class_stroke((), box, stroke, 3, 0.5)
    assert change is not None
    assert corrector.write((), [change], "class brush") == int((layer.data == 4).sum())
    painted = np.nonzero((layer.data == 4).any(axis=0))[0]
    assert painted.min() >= 20 and painted.max() == 29
