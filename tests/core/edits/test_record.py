"""EditRecord: an edit counts while its pixels hold what it wrote."""

import numpy as np

from napari_gluonseg.core.edits.record import KEPT_FROM_GESTURES, KEPT_FROM_RUNS, EditRecord


def test_edits_count_while_their_pixels_hold_what_they_wrote():
    labels = np.ones((6, 8), np.int32)
    record = EditRecord(labels.shape, labels.dtype)
    where = np.zeros((3, 4), bool)
    where[1, 1:3] = True
    record.record("paint", (slice(2, 5), slice(0, 4)), where, 7)
    labels[3, 1:3] = 7
    record.record("relabel", (np.array([0, 0]), np.array([6, 7])), None, np.array([2, 3]))
    labels[0, 6:8] = (2, 3)
    record.record("clean", (slice(5, 6), slice(0, 2)), None, 4)
    labels[5, :2] = 4
    assert record.provenance(labels) == {
        "pixels_set_by_hand": 2,
        "pixels_relabelled_with_the_tools": 2,
        "pixels_changed_by_tool": {"clean": 2, "paint": 2, "relabel": 2},
    }
    assert record.mask(labels, KEPT_FROM_GESTURES).sum() == 2  # the brush's only
    assert record.mask(labels, KEPT_FROM_RUNS).sum() == 4  # and the classes picked
    labels[3, 1] = 1  # undone (or overwritten): no longer the brush's
    labels[0, 6] = 5
    assert record.counts(labels) == {"clean": 2, "paint": 1, "relabel": 1}
    record.record("paint", (np.array([0]), np.array([7])), None, np.array([9]))
    labels[0, 7] = 9  # painted over a relabel: the last edit owns the pixel
    assert record.counts(labels) == {"clean": 2, "paint": 2}
    assert record.mask(labels[0], KEPT_FROM_RUNS, plane=(0,))[7]  # one row of the image
