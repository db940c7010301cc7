"""One-gesture corrections: regions, relabelling (plain, following the scores, the class
brush), speckles, and the write the dock makes of them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from napari_gluonseg.core.edits.corrections import (
    FOLLOW_RATIO,
    Change,
    Components,
    apply,
    class_brush,
    class_stroke,
    prepare_write,
    region_at,
    relabel,
    scored_relabel,
    speckles,
)
from napari_gluonseg.core.edits.likely import class_probability, class_ratio
from napari_gluonseg.core.edits.snap import cell_edges, snap_to_cells
from napari_gluonseg.core.run.scores import ScoreGrid

from .helpers import four_classes


def test_a_click_finds_its_connected_region_unlabeled_ones_too():
    labels = np.zeros((8, 10), np.uint8)
    labels[1:4, 1:4] = 5
    labels[5:7, 1:4] = 5  # same value, not connected
    parts = Components(labels)
    box, mask = parts.at(2, 2)
    assert box == (slice(1, 4), slice(1, 4)) and mask.all()
    box, mask = parts.at(0, 9)  # the unlabeled background is one region
    assert mask.sum() == 80 - 9 - 6


@settings(max_examples=40, deadline=None)
@given(
    labels=arrays(np.uint8, (9, 11), elements=st.integers(0, 2)),
    point=st.tuples(st.integers(0, 8), st.integers(0, 10)),
)
def test_a_click_floods_the_same_region_the_labelling_finds(labels, point):
    box, mask = region_at(labels, *point)
    expected_box, expected_mask = Components(labels).at(*point)
    assert box == expected_box and np.array_equal(mask, expected_mask)


def test_relabel_changes_the_region_only_and_never_a_hand_set_pixel():
    labels = np.zeros((20, 20), np.uint8)
    labels[2:12, 2:12] = 4
    protected = np.zeros(labels.shape, bool)
    protected[5, 5] = True
    box, mask = Components(labels).at(3, 3)
    change = relabel(labels, box, mask, 9, protected)
    assert change.pixels == 100 - 1
    out = labels.copy()
    apply(out, [change])
    assert out[5, 5] == 4 and (out[2:12, 2:12] == 9).sum() == 99 and (out[12:] == 0).all()


def test_speckles_take_the_label_around_them_and_leave_hand_set_ones():
    labels = np.full((30, 30), 3, np.uint8)
    labels[5:7, 5:7] = 7  # a 4-pixel speckle inside 3
    labels[20:22, 20:22] = 8  # another, next to hand-set pixels
    labels[10:25, 0:5] = 6  # a large region stays
    protected = np.zeros(labels.shape, bool)
    protected[20, 20] = True
    out = labels.copy()
    changed = apply(out, speckles(Components(labels), 10, protected))
    assert changed == 4 and (out[5:7, 5:7] == 3).all()
    assert (out[20:22, 20:22] == 8).all() and (out[10:25, 0:5] == 6).all()


def test_the_class_brush_paints_only_where_the_class_is_likely_and_not_over_hand_set_pixels():
    scores = four_classes()
    labels = np.zeros((40, 60), np.uint8)
    protected = np.zeros(labels.shape, bool)
    protected[20, 10] = True
    box = (slice(15, 25), slice(0, 60))
    stroke = np.ones((10, 60), bool)  # a stroke across both halves
    probability = class_probability(scores, (), 2, box)
    change = class_brush(labels, box, stroke, probability, 0.5, 3, protected)
    out = labels.copy()
    apply(out, [change])
    painted = out == 3
    assert painted[15:25, :25].sum() == 10 * 25 - 1 and not painted[:, 35:].any()
    assert not painted[20, 10] and not painted[:15].any() and not painted[25:].any()


def test_a_scored_relabel_takes_the_part_where_the_class_is_likely_around_the_click():
    scores = four_classes()
    labels = np.full((40, 60), 3, np.uint8)  # one region of class 2; class 3 likely right
    box, mask = (slice(0, 40), slice(0, 60)), np.ones((40, 60), bool)
    protected = np.zeros(labels.shape, bool)
    protected[20, 55] = True
    change = scored_relabel(scores, (), labels, box, mask, 3, (20, 50), 0.25, protected)
    out = labels.copy()
    apply(out, [change])
    assert change.value == 4 and (out[:, 40:] == 4).sum() == 40 * 20 - 1
    assert (out[:, :25] == 3).all() and out[20, 55] == 3
    right = (slice(0, 40), slice(40, 60))  # a region the class is likely all over: all of it
    whole = scored_relabel(scores, (), labels, right, np.ones((40, 20), bool), 3, (5, 45))
    assert whole.pixels == 40 * 20


def _halves(left, right):
    """Scores of classes 1-3 on an 11x16 grid: ``left`` on its left half, ``right`` on the
    right (the image 40x60)."""
    p = np.zeros((1, 4, 11, 16), np.float32)
    p[0, 1:, :, :8] = np.array(left)[:, None, None]
    p[0, 1:, :, 8:] = np.array(right)[:, None, None]
    return ScoreGrid(p.astype(np.float16), (), (40, 60), (0, 1, 2, 3))


@pytest.mark.parametrize(
    "left, right, label, why",
    [
        # A region a person labelled class 1 against the model: class 3 is 45x ahead of it
        # on the right, 0.1x on the left (above the ratio of 1/20).
        ((0.2, 0.78, 0.02), (0.02, 0.08, 0.9), 2, "a correction"),
        # Class 3's semantic neighbour, class 2, is 0.1x as likely as the label all over the
        # region, 0.5x on the right, where a part of the region is class 2.
        ((0.05, 0.08, 0.8), (0.05, 0.3, 0.6), 4, "a neighbour's leak"),
        # A correction the model gives nothing where it was clicked (float16 keeps 0): the
        # class is infinitely ahead there, 0.1x on the left.
        ((0.2, 0.78, 0.02), (0.0, 0.1, 0.9), 2, "a correction the model rules out"),
    ],
)
def test_a_scored_relabel_takes_the_part_like_the_click_not_the_whole_region(
    left, right, label, why
):
    scores = _halves(left, right)
    labels = np.full((40, 60), label, np.uint8)
    box, mask = (slice(0, 40), slice(0, 60)), np.ones((40, 60), bool)
    chosen = 3 if label == 2 else 2
    assert class_ratio(scores, (), chosen, box, labels)[:, :20].min() > 0.05  # ratio alone: all
    change = scored_relabel(scores, (), labels, box, mask, chosen, (20, 55), 0.05)
    assert change.mask[:, 35:].all() and not change.mask[:, :25].any(), why


def test_with_scores_a_speckle_takes_the_bordering_class_the_model_prefers_over_it():
    labels = np.full((40, 60), 2, np.uint8)  # class 1 on the left ...
    labels[:, 30:] = 4  # ... class 3 on the right
    labels[10:13, 28:31] = 7  # a speckle bordering both, mostly class 1 (2) around it
    out = labels.copy()
    apply(out, speckles(Components(labels), 20))
    assert (out[10:13, 28:31] == 2).sum() >= 6  # without scores: the label around it most
    out = labels.copy()
    apply(out, speckles(Components(labels), 20, scores=_scores_preferring_3()))
    assert (out[10:13, 28:31] == 4).all()


def test_a_speckle_inside_a_speckle_takes_what_the_outer_one_becomes():
    labels = np.full((30, 30), 3, np.uint8)
    labels[10:15, 10:15] = 7  # a 25-pixel speckle ...
    labels[12, 12] = 9  # ... around a one-pixel one
    out = labels.copy()
    apply(out, speckles(Components(labels), 30))
    assert (out == 3).all()


def test_a_speckle_inside_a_hand_set_region_takes_its_class():
    labels = np.full((20, 20), 3, np.uint8)
    labels[8:10, 8:10] = 7
    protected = labels == 3  # the person relabelled the big region
    out = labels.copy()
    apply(out, speckles(Components(labels), 10, protected))
    assert (out == 3).all()


def test_speckles_on_the_bottom_and_right_edges_are_cleaned_withfour_classes():
    labels = np.full((40, 60), 2, np.uint8)
    labels[:, 50:] = 4
    labels[38:, 49:51] = 7  # touches the bottom edge, borders 2 and 4
    labels[20:22, 58:] = 7  # touches the right edge
    out = labels.copy()
    apply(out, speckles(Components(labels), 20, scores=_scores_preferring_3()))
    assert (out[38:, 49:51] == 4).all() and (out[20:22, 58:] == 4).all()


def _scores_preferring_3():
    p = np.full((1, 4, 11, 16), 0.1, np.float32)
    p[0, 3] = 0.7
    return ScoreGrid(p.astype(np.float16), (), (40, 60), (0, 1, 2, 3))


@settings(max_examples=60, deadline=None)
@given(
    labels=arrays(np.uint8, (12, 14), elements=st.integers(0, 3)),
    protected=arrays(bool, (12, 14)),
    point=st.tuples(st.integers(0, 11), st.integers(0, 13)),
    value=st.integers(0, 5),
    min_size=st.integers(1, 8),
    cells=arrays(np.int32, (12, 14), elements=st.integers(0, 5)),
)
def test_no_tool_changes_a_hand_set_pixel_or_anything_outside_its_region(
    labels, protected, point, value, min_size, cells
):
    parts = Components(labels)
    box, mask = parts.at(*point)
    region = np.zeros(labels.shape, bool)
    region[box] = mask
    out = labels.copy()
    apply(out, [relabel(labels, box, mask, value, protected)])
    changed = out != labels
    assert not (changed & protected).any() and not (changed & ~region).any()

    out = labels.copy()
    apply(out, speckles(parts, min_size, protected))
    changed = out != labels
    small = parts.sizes[parts.ids] < min_size
    assert not (changed & protected).any() and not (changed & ~small).any()

    stroke = np.zeros(labels.shape, bool)
    stroke[box] = mask  # the class brush over the clicked region, where P >= 0.3
    probability = np.linspace(0, 1, labels.size).reshape(labels.shape)
    full = (slice(0, 12), slice(0, 14))
    out = labels.copy()
    apply(out, [class_brush(labels, full, stroke, probability, 0.3, value, protected)])
    changed = out != labels
    assert not (changed & protected).any() and not (changed & ~stroke).any()

    photo = (cells * 37 % 256).astype(np.uint8)  # any image: the cells need not follow it
    for edges in (None, cell_edges(photo, cells)):  # only to a cell's majority, never by hand
        out = labels.copy()
        apply(out, snap_to_cells(labels, cells, protected, edges=edges, min_contrast=0.2))
        changed = out != labels
        assert not (changed & protected).any()
        for cell in np.unique(cells[changed]):
            inside = labels[cells == cell]
            assert (out[changed & (cells == cell)] == np.bincount(inside).argmax()).all()


def test_a_scored_relabel_to_a_class_the_scores_do_not_know_takes_the_whole_region():
    """Another run's class has no ratio to follow: the dock's relabel takes the region."""
    labels = np.full((40, 60), 3, np.uint8)
    protected = np.zeros(labels.shape, bool)
    protected[0, 0] = True
    box, mask = (slice(0, 40), slice(0, 60)), np.ones((40, 60), bool)
    change = scored_relabel(four_classes(), (), labels, box, mask, 7, (20, 50), protected=protected)
    assert change.value == 8 and change.pixels == 40 * 60 - 1 and not change.mask[0, 0]


def test_the_class_stroke_paints_where_the_class_comes_close_or_is_likely():
    """Class 3 is likely on the right (0.7 of it), 1/7 as likely as class 2 on the left."""
    scores = four_classes()
    labels = np.full((40, 60), 3, np.uint8)  # class 2 everywhere
    box, stroke = (slice(10, 20), slice(0, 60)), np.ones((10, 60), bool)
    likely = class_stroke(scores, (), labels, box, stroke, 3, 0.5, ratio=False)
    assert likely is not None and likely.value == 4
    assert likely.mask[:, 35:].all() and not likely.mask[:, :25].any()
    close = class_stroke(scores, (), labels, box, stroke, 3, FOLLOW_RATIO, ratio=True)
    assert close is not None and close.mask.all()  # 1/7 >= 1/20: the whole stroke
    assert class_stroke(scores, (), labels, box, stroke, 3, 0.25, ratio=True).mask[:, 35:].all()
    assert class_stroke(scores, (), labels, box, stroke, 9, 0.5, ratio=False) is None


def test_a_prepared_write_holds_only_the_pixels_that_change_in_their_plane():
    labels = np.zeros((2, 4, 5), np.uint8)
    labels[1, :2] = 6
    changes = [
        Change((slice(0, 2), slice(0, 2)), np.ones((2, 2), bool), 6),  # already 6: nothing
        Change((slice(2, 4), slice(1, 3)), np.array([[True, False], [True, True]]), 6),
    ]
    prepared = prepare_write(labels, (1,), changes)
    assert prepared is not None and prepared.value.dtype == labels.dtype
    pixels = sorted(zip(*(a.tolist() for a in prepared.where), strict=True))
    assert pixels == [(1, 2, 1), (1, 3, 1), (1, 3, 2)]
    assert (prepared.old == 0).all() and (prepared.value == 6).all()
    assert prepare_write(labels, (1,), changes[:1]) is None
    assert apply(labels[1], changes) == 3 and (labels[1, 2:, 1] == 6).all()
