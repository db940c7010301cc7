"""The edited-by-hand rule without a run: which pixels a write would change that a person may
have set, in the plugin's tracked layer, its untracked one and a layer of the user's."""

import numpy as np
from napari.components import ViewerModel

from napari_gluonseg.layers.data import METADATA_KEY, data_digest
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.layers.overwrite_rule import leaving_hand_set_pixels, pixels_at_risk

EVERY_PIXEL = tuple(np.indices((4, 5)).reshape(2, -1))


def _plugin_layer(viewer, tracked: bool):
    output = np.ones((4, 5), np.uint8)
    meta = {METADATA_KEY: {"role": "labels", "written_digest": data_digest(output)}}
    layer = viewer.add_labels(output, name="photo classes", metadata=meta)
    if tracked:
        hand_tracker(layer)
    return layer


def test_an_untouched_output_risks_nothing_and_a_tracked_edit_risks_its_own_pixels():
    viewer = ViewerModel()
    layer = _plugin_layer(viewer, tracked=True)
    assert pixels_at_risk(layer, np.asarray(layer.data), EVERY_PIXEL) == 0
    layer.data_setitem((np.array([0, 0]), np.array([1, 2])), 3)  # by hand
    assert pixels_at_risk(layer, np.asarray(layer.data), EVERY_PIXEL) == 2
    indices, values = leaving_hand_set_pixels(layer, EVERY_PIXEL, np.full(20, 2, np.uint8))
    assert len(values) == 18 and (0, 1) not in zip(*(i.tolist() for i in indices), strict=True)


def test_untracked_edits_risk_every_changed_pixel_and_a_users_layer_its_labelled_ones():
    viewer = ViewerModel()
    layer = _plugin_layer(viewer, tracked=False)
    layer.data[0, 0] = 3  # an edit no tracker saw
    assert pixels_at_risk(layer, np.asarray(layer.data), EVERY_PIXEL) == 20
    mine = viewer.add_labels(np.zeros((4, 5), np.uint8), name="mine")
    mine.data[:2, :2] = 1
    assert pixels_at_risk(mine, np.asarray(mine.data), EVERY_PIXEL) == 4
