"""What the kept scores say over a region: its likely classes, a click's menu (the Correct
dock's and the benchmark's one rule), the runner-up, a class's probability and ratio."""

import numpy as np

from napari_gluonseg.core.edits.corrections import Components
from napari_gluonseg.core.edits.likely import (
    MENU_SIZE,
    class_probability,
    class_ratio,
    likely_classes,
    menu_classes,
    runner_up,
)
from napari_gluonseg.core.run.scores import ScoreGrid

from .helpers import four_classes


def test_likely_classes_are_the_mean_of_what_the_maps_show():
    scores = four_classes()
    labels = np.zeros((40, 60), np.uint8)
    labels[5:30, 3:25] = 1
    box, mask = Components(labels).at(10, 10)
    top = likely_classes(scores, (), box, mask, k=3)
    assert [k for k, _ in top][:1] == [2]
    for k, mean in top:
        expected = scores.probability_map(k)[box][mask].mean()
        assert abs(mean - expected) < 1e-4
    right = Components(labels).at(35, 55)
    assert likely_classes(scores, (), *right, k=2)[0][0] == 3


def test_the_runner_up_is_the_best_class_other_than_the_regions_own():
    scores = four_classes()
    labels = np.zeros((40, 60), np.uint8)
    labels[:, 35:] = 4  # class 3, the most likely on the right
    box, mask = Components(labels).at(20, 50)
    k, p = runner_up(scores, (), box, mask, 4)
    assert k == 1 and 0.1 < p < 0.2  # class 1 is second on the right
    labels[:, 35:] = 1  # labelled with the wrong class: the runner-up is the most likely
    assert runner_up(scores, (), box, mask, 1)[0] == 3


def test_a_class_probability_over_a_box_equals_the_full_map_cut_to_it():
    scores = four_classes(41, 67)
    box = (slice(3, 29), slice(17, 66))
    full = scores.probability_map(2)
    assert np.abs(class_probability(scores, (), 2, box) - full[box]).max() < 1e-5


def test_a_menu_lists_the_regions_likely_classes_then_those_at_the_click():
    """(class, probability, only at the click): the region's mean first, then what the clicked
    pixel adds, never a class twice."""
    scores = four_classes()
    box, mask = (slice(0, 40), slice(0, 20)), np.ones((40, 20), bool)  # the left: class 2
    ((k, p, here),) = menu_classes(scores, (), box, mask, (20, 10), k=1)
    assert (k, here) == (2, False) and p == likely_classes(scores, (), box, mask, k=1)[0][1]
    listed = menu_classes(scores, (), box, mask, (20, 55), k=1)  # clicked right
    ((c, at),) = scores.top_classes((), 20, 55, k=1)
    assert [(k, here) for k, _, here in listed] == [(2, False), (3, True)]
    assert c == 3 and listed[1][1] == at  # the point's own probability there
    assert [k for k, _, _ in menu_classes(scores, (), box, mask, (20, 55), k=4)] == [2, 0, 1, 3]


def test_a_region_the_scores_say_nothing_over_gets_no_menu_even_where_the_click_has_classes():
    """The dock's rule: no menu without the region's list (it says "no kept scores over this
    region"); the point alone lists nothing."""
    scores = four_classes()
    box, mask = (slice(0, 40), slice(0, 20)), np.zeros((40, 20), bool)
    assert menu_classes(scores, (), box, mask, (20, 55)) == []


def test_a_click_outside_the_scores_image_adds_nothing_to_the_regions_list():
    scores = four_classes()
    box, mask = (slice(0, 40), slice(0, 20)), np.ones((40, 20), bool)
    for point in ((40, 10), (-1, 10), (20, 60)):
        assert all(not here for _, _, here in menu_classes(scores, (), box, mask, point, k=2))


def test_a_menu_lists_no_more_than_its_keys_choose():
    """Keys 1-9 choose: a menu of ten could not pick its tenth, so it lists nine."""
    p = np.zeros((1, 12, 11, 16), np.float32)
    p[0, :6] = np.linspace(0.3, 0.2, 6)[:, None, None]  # classes 0-5 all over
    p[0, 6:, :, 12:] = np.linspace(0.9, 0.8, 6)[:, None, None]  # 6-11 in a corner
    p /= p.sum(axis=1, keepdims=True)
    scores = ScoreGrid(p.astype(np.float16), (), (40, 60), tuple(range(12)))
    box, mask = (slice(0, 40), slice(0, 60)), np.ones((40, 60), bool)
    listed = menu_classes(scores, (), box, mask, (39, 59), k=5)
    assert len(listed) == MENU_SIZE == 9 and [here for *_, here in listed].count(True) == 4


def test_a_class_ratio_weighs_the_class_against_the_label_already_there():
    scores = four_classes()
    labels = np.full((40, 60), 3, np.uint8)  # class 2 everywhere
    labels[:, 50:] = 0  # unlabeled: any class beats nothing
    ratio = class_ratio(scores, (), 3, (slice(0, 40), slice(0, 60)), labels)
    assert ratio[:, :20].max() < 0.25 and ratio[:, 35:50].min() > 4
    assert np.isinf(ratio[:, 50:]).all()
