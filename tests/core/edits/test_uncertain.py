"""Uncertain regions: unlabeled pixels and small margins, largest first, edited ones skipped."""

import numpy as np

from napari_gluonseg.core.edits.uncertain import MARGIN_THRESHOLD, UncertainRegions, uncertain_mask
from napari_gluonseg.core.run.scores import ScoreGrid


def _scores(shape, doubtful):
    """Two classes on a grid the size of the image: sure (0.9 / 0.1) except in ``doubtful``."""
    probs = np.empty((1, 2, *shape), np.float16)
    probs[0, 0], probs[0, 1] = 0.9, 0.1
    probs[0, :, doubtful[0], doubtful[1]] = 0.5
    return ScoreGrid(probs, (), shape, (0, 1))


def test_unlabeled_regions_largest_first():
    labels = np.ones((10, 12), np.uint8)
    labels[0:2, 0:2] = 0  # 4 pixels
    labels[5:9, 6:10] = 0  # 16 pixels
    regions = UncertainRegions(labels, None)
    assert [(box, size) for _, box, size in regions.regions] == [
        ((slice(5, 9), slice(6, 10)), 16),
        ((slice(0, 2), slice(0, 2)), 4),
    ]
    assert len(UncertainRegions(np.ones((3, 3), np.uint8), None)) == 0


def test_small_margins_count_where_scores_were_kept():
    labels = np.ones((12, 12), np.uint8)
    scores = _scores((12, 12), (slice(3, 6), slice(4, 9)))
    mask = uncertain_mask(labels, scores)
    assert mask.sum() == 15 and mask[3:6, 4:9].all()
    assert scores.margin_map()[0, 0] > MARGIN_THRESHOLD
    assert [box for _, box, _ in UncertainRegions(labels, scores).regions] == [
        (slice(3, 6), slice(4, 9))
    ]


def test_regions_the_person_edited_are_skipped_and_the_rest_cycle():
    labels = np.ones((10, 12), np.uint8)
    labels[0:2, 0:2] = 0
    labels[5:9, 6:10] = 0
    labels[0:3, 9:12] = 0  # 9 pixels
    regions = UncertainRegions(labels, None)
    current = labels.copy()
    current[6, 7] = 3  # one pixel of the largest region painted
    ranks = [regions.next_unedited(current)[0] for _ in range(4)]
    assert ranks == [1, 2, 1, 2]  # the edited one (rank 0) never comes back
    current[0:3, 9:12] = 2
    current[0:2, 0:2] = 2
    assert regions.next_unedited(current) is None
