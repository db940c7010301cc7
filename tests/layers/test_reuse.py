"""The next image of a series in the previous one's layers: in place where the kind fits, else
a new layer where the old one was; the labels' undo history never reaches the previous image."""

from __future__ import annotations

import numpy as np
import pytest
from napari.components import ViewerModel

from napari_gluonseg.layers.data import labels_layer_data
from napari_gluonseg.layers.reuse import remove_layers, show_image, show_labels, show_map

SHAPE = (40, 60)  # napari takes a last axis of 3 as RGB only on images bigger than this
COLORS = ((120, 120, 120), (6, 230, 230), (4, 200, 3))


@pytest.fixture
def viewer():
    v = ViewerModel()
    v.add_image(np.zeros((*SHAPE, 3), np.uint8), name="a.png")
    v.add_labels(np.zeros(SHAPE, np.uint8), name="a.png classes")
    return v


def labels_data(value: int, name: str, shape=SHAPE):
    labels = np.full(shape, value, np.uint8)
    return labels_layer_data(labels, name, ("wall", "sky", "tree"), COLORS, {"k": value}, {})


def test_an_image_of_the_same_kind_goes_into_the_old_layer(viewer):
    old = viewer.layers["a.png"]
    shown, new = show_image(viewer, np.full((45, 65, 3), 200, np.uint8), "b.png", old)
    assert shown is old and shown.name == "b.png" and shown.data.shape == (45, 65, 3)
    assert not new and shown.visible


def test_a_greyscale_image_after_an_rgb_one_takes_its_place_under_the_labels(viewer):
    old = viewer.layers["a.png"]
    shown, new = show_image(viewer, np.zeros(SHAPE, np.uint16), "b.tif", old)
    assert shown is not old and old not in viewer.layers
    assert new and not shown.visible  # added hidden: the caller shows it a step later
    assert [layer.name for layer in viewer.layers] == ["b.tif", "a.png classes"]
    back, _ = show_image(viewer, np.zeros((*SHAPE, 3), np.uint8), "c.png", shown)
    assert [layer.name for layer in viewer.layers] == ["c.png", "a.png classes"]
    assert back.rgb


def test_labels_go_into_the_old_layer_whose_undo_cannot_reach_the_previous_image(viewer):
    old = viewer.layers["a.png classes"]
    old.paint((5, 5), 3, refresh=True)  # an edit of the previous image
    old.mode = "paint"
    data = labels_data(2, "b.png classes")
    shown, new = show_labels(viewer, data, old)
    assert (
        shown is old
        and not new
        and shown.name == "b.png classes"
        and shown.metadata == data[1]["metadata"]
    )
    assert shown.mode == "paint" and shown.opacity == pytest.approx(data[1]["opacity"])
    shown.undo()
    assert np.all(shown.data == 2)


def test_labels_of_other_dimensions_get_a_new_layer(viewer):
    old = viewer.layers["a.png classes"]
    shown, new = show_labels(viewer, labels_data(1, "s.tif classes", (4, *SHAPE)), old)
    assert shown is not old and old not in viewer.layers and shown.ndim == 3
    assert new and not shown.visible


def test_a_map_is_updated_in_place_or_added_and_the_selection_stays(viewer):
    labels = viewer.layers["a.png classes"]
    viewer.layers.selection.active = labels
    data = (np.full(SHAPE, 0.5, np.float32), {"name": "a.png P(sky)"}, "image")
    layer = show_map(viewer, data, None)
    assert viewer.layers.selection.active is labels and layer.name == "a.png P(sky)"
    again = show_map(
        viewer, (np.zeros(SHAPE, np.float32), {"name": "a.png P(wall)"}, "image"), layer
    )
    assert again is layer and layer.name == "a.png P(wall)" and not layer.data.any()
    viewer.layers.remove(layer)  # the person removed it: the next map is a new layer
    assert show_map(viewer, data, layer) is not layer


def test_removing_skips_layers_already_gone(viewer):
    image = viewer.layers["a.png"]
    viewer.layers.remove(image)
    remove_layers(viewer, [image, None, viewer.layers["a.png classes"]])
    assert len(viewer.layers) == 0
