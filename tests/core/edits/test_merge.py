"""Merging new labels into hand-edited ones: kept pixels are never touched."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from napari_gluonseg.core.edits.merge import merge_changes, merged, region_slices


@st.composite
def labels_and_region(draw):
    shape = draw(st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 12)))
    existing = draw(hnp.arrays(np.uint8, shape, elements=st.sampled_from([0, 0, 0, 4, 7, 255])))
    region = []
    for n in shape:
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a + 1, n))
        region.append(slice(a, b))
    region = tuple(region)
    size = tuple(s.stop - s.start for s in region)
    new = draw(hnp.arrays(np.uint8, size, elements=st.integers(0, 150)))
    return existing, new, region


@settings(max_examples=300, deadline=None)
@given(labels_and_region(), st.sampled_from(["fill_unlabeled", "overwrite"]))
def test_no_mode_changes_a_pixel_it_was_told_to_keep(case, mode):
    existing, new, region = case
    out = merged(existing, new, region, mode)
    inside = np.zeros(existing.shape, bool)
    inside[region] = True
    # Outside the region: untouched, whatever the mode.
    np.testing.assert_array_equal(out[~inside], existing[~inside])
    if mode == "fill_unlabeled":
        # Every hand-labelled (non-zero) pixel keeps its exact value...
        kept = existing != 0
        np.testing.assert_array_equal(out[kept], existing[kept])
        # ...and every unlabeled pixel of the region takes the new label.
        fill = inside & ~kept
        np.testing.assert_array_equal(
            out[fill], np.broadcast_to(new, out[region].shape)[~kept[region]]
        )
    else:
        np.testing.assert_array_equal(out[region], new)
    indices, values = merge_changes(existing, new, region, mode)
    assert (existing[indices] != values).all()  # only real changes are reported (undo stays small)


def test_bad_merges_are_refused_with_a_reason():
    existing = np.zeros((4, 5), np.uint8)
    with pytest.raises(ValueError, match="do not fit the region"):
        merge_changes(existing, np.ones((2, 2), np.uint8), (slice(0, 3), slice(0, 3)))
    with pytest.raises(ValueError, match="do not fit the labels layer's uint8"):
        merge_changes(existing, np.full((4, 5), 300, np.uint16), None)
    with pytest.raises(ValueError, match="Unknown mode"):
        merge_changes(existing, existing, None, "replace_all")
    with pytest.raises(ValueError, match="empty or outside"):
        region_slices((4, 5), (slice(6, 9), slice(0, 2)))
