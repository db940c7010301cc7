"""The next image of a series shown in the layers of the previous one (the Review dock).

napari collects garbage for each layer removed (~0.2 s each) and builds visuals for each layer
added, so a layer of the same kind and dimensions takes the new data in place; otherwise a new
layer takes the old one's place in the layer list (an image added on top would hide the labels).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def remove_layers(viewer: Any, layers: Iterable[Any]) -> None:
    """Remove those of ``layers`` that are still in ``viewer`` (a person may have removed some)."""
    for layer in layers:
        if layer is not None and layer in viewer.layers:
            viewer.layers.remove(layer)


def show_image(viewer: Any, pixels: np.ndarray, name: str, old: Any | None) -> Any:
    """``pixels`` in ``old`` if it is an image layer of the same kind (RGB or not, dimensions,
    dtype), else in a new image layer where ``old`` was (``old`` removed)."""
    from napari.layers import Image

    if isinstance(old, Image) and old in viewer.layers:
        rgb = pixels.ndim == 3 and pixels.shape[-1] in (3, 4)
        same_kind = pixels.ndim == old.data.ndim and old.rgb == rgb
        if same_kind and pixels.dtype == old.data.dtype:
            old.data = pixels
            old.name = name
            old.reset_contrast_limits()
            return old
    layers = viewer.layers
    position = layers.index(old) if old is not None and old in layers else 0
    remove_layers(viewer, [old])
    image = Image(pixels, name=name)
    layers.insert(min(position, len(layers)), image)
    return image


def show_labels(viewer: Any, data: tuple[Any, dict[str, Any], str], old: Any | None) -> Any:
    """The labels layer data tuple ``data`` in ``old`` if it is a labels layer of the same
    dimensions (its undo history cut: Ctrl+Z must never reach back into the previous image's
    edits), else in a new layer (``old`` removed)."""
    from napari.layers import Labels, Layer

    labels, kwargs, _ = data
    if isinstance(old, Labels) and old in viewer.layers and old.ndim == labels.ndim:
        mode = old.mode
        old.editable = False  # a layer made read-only forgets its undo history
        old.data = labels
        for attribute in ("colormap", "features", "metadata", "name", "opacity"):
            setattr(old, attribute, kwargs[attribute])
        old.editable = True
        old.mode = mode
        return old
    remove_layers(viewer, [old])
    return viewer.add_layer(Layer.create(*data))


def show_map(viewer: Any, data: tuple[Any, dict[str, Any], str], old: Any | None) -> Any:
    """The image layer data tuple ``data`` (a probability map) in ``old`` if it is still there,
    else in a new layer; the selected layer stays selected (the person keeps painting)."""
    from napari.layers import Layer

    if old is not None and old in viewer.layers:
        old.data = data[0]
        old.name = data[1]["name"]
        return old
    active = viewer.layers.selection.active
    layer = viewer.add_layer(Layer.create(*data))
    viewer.layers.selection.active = active
    return layer
