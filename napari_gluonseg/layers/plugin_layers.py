"""Which layers of a viewer are the plugin's: the labels layer a new run updates, the one a
person renamed or kept (theirs from then on), and the class names a labels layer's values have.

Qt-free.
"""

from __future__ import annotations

from typing import Any

from .data import METADATA_KEY, labels_layer_name

# The name napari gave the plugin's labels layer (metadata): one the user renamed is theirs.
GIVEN_NAME_KEY = "layer_name"


def remember_name(layer: Any) -> None:
    """Note the name napari gave the plugin's labels layer: renamed, it is the user's."""
    meta = {**layer.metadata.get(METADATA_KEY, {}), GIVEN_NAME_KEY: layer.name}
    layer.metadata = {**layer.metadata, METADATA_KEY: meta}


def plugin_layer(viewer: Any, name: str, layer_type: str) -> Any | None:
    """The layer ``name`` if the plugin made it and it has that type; a user's layer that
    happens to share the name is left alone."""
    from napari.layers import Image, Labels

    kind = {"labels": Labels, "image": Image}[layer_type]
    if name not in viewer.layers:
        return None
    layer = viewer.layers[name]
    return layer if isinstance(layer, kind) and METADATA_KEY in layer.metadata else None


def plugin_labels_layer(viewer: Any, image: Any) -> Any | None:
    """The plugin's current labels layer for ``image``: the one a new run updates."""
    from napari.layers import Labels

    for layer in viewer.layers:
        meta = layer.metadata.get(METADATA_KEY, {}) if isinstance(layer, Labels) else {}
        renamed = meta.get(GIVEN_NAME_KEY, layer.name) != layer.name  # the user's now
        if meta.get("role") == "labels" and meta.get("source_image") == image.name and not renamed:
            return layer
    layer = plugin_layer(viewer, labels_layer_name(image.name), "labels")
    return layer if layer is not None and is_plugin_labels(layer) else None


def is_plugin_labels(layer: Any) -> bool:
    return layer.metadata.get(METADATA_KEY, {}).get("role") == "labels"


def retire_plugin_layer(layer: Any) -> None:
    """Keep an edited layer as the user's own: later runs no longer update it."""
    meta = {**layer.metadata.get(METADATA_KEY, {}), "role": "kept edits"}
    meta.pop("written_digest", None)
    layer.metadata = {**layer.metadata, METADATA_KEY: meta}


def layer_class_names(layer: Any, top: int) -> list[str]:
    """Names of label values 1..n from the layer's features (ours, or the user's own)."""
    names: dict[int, str] = {}
    features = layer.features
    if "class_name" in features and len(features):
        index = features["index"] if "index" in features else range(len(features))
        names = {int(i): str(n) for i, n in zip(index, features["class_name"], strict=True)}
    n = max([top, *[i for i in names if i > 0]], default=0)
    return [names.get(k, f"label {k}") for k in range(1, n + 1)]
