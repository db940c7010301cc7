"""The hand-edit tracker of a labels layer, without a viewer: napari's paint events are edits,
a run's write is the new output, and a write no event reported makes the record incomplete."""

import numpy as np
from napari.layers import Labels

from napari_gluonseg.layers.data import METADATA_KEY, data_digest
from napari_gluonseg.layers.hand_edits import HAND_KEY, hand_tracker


def test_a_stroke_is_set_by_hand_a_run_is_not_and_a_silent_write_leaves_the_record_incomplete():
    layer = Labels(np.full((10, 12), 2, np.int32))
    tracker = hand_tracker(layer, create=True)
    assert layer.metadata[HAND_KEY] is tracker and hand_tracker(layer) is tracker
    assert not tracker.complete  # a layer the plugin did not write: earlier edits unknown
    output = np.full((10, 12), 2, np.int32)  # a run's output, as the plugin wrote it
    fresh = Labels(output, metadata={METADATA_KEY: {"written_digest": data_digest(output)}})
    tracker = hand_tracker(fresh)
    fresh.data_setitem((np.array([1, 1]), np.array([2, 3])), 5)  # napari's own paint event
    assert tracker.complete and tracker.hand_set().sum() == 2
    with tracker.tool(None):  # a run writes: not an edit, the new output there
        fresh.data_setitem((np.array([8]), np.array([8])), 3)
    assert tracker.complete and tracker.hand_set().sum() == 2
    assert tracker.provenance()["pixels_set_by_hand"] == 2
    fresh.data[0, 0] = 7  # a script's write: no event
    assert not tracker.complete


def test_a_tool_named_by_the_plugin_is_recorded_under_its_name_and_an_undo_no_longer_counts():
    layer = Labels(np.full((10, 12), 2, np.int32))
    tracker = hand_tracker(layer)
    with tracker.tool("relabel"), layer.block_history():
        layer.data_setitem((np.array([0, 0, 0]), np.array([0, 1, 2])), 4)
    assert tracker.provenance()["pixels_changed_by_tool"] == {"relabel": 3}
    assert tracker.hand_set().sum() == 3  # a class the person picked: a run asks first
    layer.undo()
    assert tracker.provenance()["pixels_changed_by_tool"] == {}
