"""Which layers are the plugin's: its labels layer for an image until a person renames or keeps
it, and the class names a labels layer's values have (ours, or the user's own table)."""

import numpy as np
import pandas as pd
from napari.components import ViewerModel

from napari_gluonseg.layers.data import METADATA_KEY
from napari_gluonseg.layers.plugin_layers import (
    layer_class_names,
    plugin_labels_layer,
    remember_name,
    retire_plugin_layer,
)


def test_the_plugins_labels_layer_is_the_users_once_renamed_or_kept():
    viewer = ViewerModel()
    image = viewer.add_image(np.zeros((4, 5)), name="photo")
    meta = {METADATA_KEY: {"role": "labels", "source_image": "photo"}}
    labels = viewer.add_labels(np.zeros((4, 5), np.uint8), name="photo classes", metadata=meta)
    remember_name(labels)
    assert plugin_labels_layer(viewer, image) is labels
    labels.name = "photo classes, first try"
    assert plugin_labels_layer(viewer, image) is None  # renamed: the user's
    labels.name = "photo classes"
    retire_plugin_layer(labels)
    assert plugin_labels_layer(viewer, image) is None  # kept as the user's edits
    viewer.add_labels(np.zeros((4, 5), np.uint8), name="photo classes [1]")  # not the plugin's
    assert plugin_labels_layer(viewer, image) is None


def test_class_names_come_from_the_layers_table_and_name_the_rest_by_value():
    viewer = ViewerModel()
    labels = viewer.add_labels(np.zeros((4, 5), np.uint8))
    assert layer_class_names(labels, 2) == ["label 1", "label 2"]
    labels.features = pd.DataFrame({"index": [0, 1, 3], "class_name": ["none", "cell", "nucleus"]})
    assert layer_class_names(labels, 2) == ["cell", "label 2", "nucleus"]
