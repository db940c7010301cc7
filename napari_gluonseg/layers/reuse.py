"""The next image of a series shown in the layers of the previous one (the Review dock).

napari collects garbage for each layer removed (~0.2 s each) and builds visuals for each layer
added, so a layer of the same kind and dimensions takes the new data in place; otherwise a new
layer takes the old one's place in the layer list (an image added on top would hide the labels),
added hidden: the caller shows it a turn of the event loop later, so that napari's cost of adding
it and of drawing it the first time do not fall in one stall (:func:`.results.add_unshown`).
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


def image_kind(pixels: np.ndarray) -> tuple[int, bool, np.dtype]:
    """What an image layer must be to take ``pixels`` in place: dimensions, RGB(A) or not (as
    napari guesses it), dtype."""
    rgb = pixels.ndim == 3 and pixels.shape[-1] in (3, 4)
    return pixels.ndim, rgb, pixels.dtype


def layer_kind(layer: Any) -> tuple[int, bool, np.dtype] | None:
    """:func:`image_kind` of what an image layer holds (None: not an image layer)."""
    from napari.layers import Image

    if not isinstance(layer, Image):
        return None
    return layer.data.ndim, bool(layer.rgb), layer.data.dtype


def new_image_layer(pixels: np.ndarray, name: str, old_kind: Any) -> Any | None:
    """The new, hidden image layer ``pixels`` need where a layer of ``old_kind`` cannot take
    them (None: it can). Call it in a worker: napari takes ~280 ms to make one of a 12 MP
    photo (its thumbnail, its slice)."""
    from napari.layers import Image

    if old_kind == image_kind(pixels):
        return None
    return Image(pixels, name=name, visible=False)


def show_image(
    viewer: Any, pixels: np.ndarray, name: str, old: Any | None, made: Any | None = None
) -> tuple[Any, bool]:
    """``pixels`` in ``old`` if it is an image layer of the same kind (RGB or not, dimensions,
    dtype), else in a new image layer (``made`` by :func:`new_image_layer`, or made here)
    where ``old`` was (``old`` removed), hidden; the layer, and whether it is new (to show)."""
    from napari.layers import Image

    if old is not None and old in viewer.layers and layer_kind(old) == image_kind(pixels):
        old.data = pixels
        old.name = name
        old.reset_contrast_limits()
        return old, False
    layers = viewer.layers
    position = layers.index(old) if old is not None and old in layers else 0
    remove_layers(viewer, [old])
    image = made if made is not None else Image(pixels, name=name, visible=False)
    layers.insert(min(position, len(layers)), image)
    return image, True


def show_labels(
    viewer: Any, data: tuple[Any, dict[str, Any], str], old: Any | None
) -> tuple[Any, bool]:
    """The labels layer data tuple ``data`` in ``old`` if it is a labels layer of the same
    dimensions (its undo history cut: Ctrl+Z must never reach back into the previous image's
    edits), else in a new layer (``old`` removed), hidden; the layer, and whether it is new."""
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
        return old, False
    remove_layers(viewer, [old])
    labels, kwargs, kind = data
    return viewer.add_layer(Layer.create(labels, {**kwargs, "visible": False}, kind)), True


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
