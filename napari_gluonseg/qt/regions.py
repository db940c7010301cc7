"""Which part of an image layer a run covers: all of it, the current slice, the field of view,
or a rectangle drawn in a Shapes layer. Regions are slices over the image's spatial axes (the
labels' shape); leading axes of stacks are fixed to the current slice except for "whole image".
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Image, Shapes

from ..core.edits.merge import Region
from ..core.errors import RunSetupError
from ..layers.data import spatial_shape

if TYPE_CHECKING:
    import napari


class RegionChoice(StrEnum):
    """The part of the image a run covers (the values are what the dock shows)."""

    WHOLE = "whole image"
    SLICE = "current slice"
    VIEW = "field of view"
    RECTANGLE = "rectangle (Shapes layer)"


def image_region(viewer: napari.Viewer, image: Image, choice: str) -> Region:
    """The slices of ``image`` (spatial axes) that ``choice`` (a :class:`RegionChoice`)
    covers; :class:`RunSetupError` saying why where it covers none."""
    shape = spatial_shape(image)
    try:
        choice = RegionChoice(choice)
    except ValueError:
        raise RunSetupError(f"Unknown region {choice!r}.") from None
    if choice is RegionChoice.WHOLE:
        return tuple(slice(0, n) for n in shape)
    lead = _current_slice(viewer, image, shape)
    if choice is RegionChoice.SLICE:
        return (*lead, *(slice(0, n) for n in shape[-2:]))
    corners = _view_corners(viewer) if choice is RegionChoice.VIEW else _shape_corners(viewer)
    data = np.array([image.world_to_data(c)[-2:] for c in corners])
    # Pixel i covers [i - 0.5, i + 0.5): take the pixels whose centres are inside.
    lo = np.floor(data.min(axis=0) + 0.5).astype(int)
    hi = np.floor(data.max(axis=0) + 0.5).astype(int) + 1
    yx = []
    for a, b, n in zip(lo, hi, shape[-2:], strict=True):
        a, b = max(0, int(a)), min(n, int(b))
        if b - a < 16:
            raise RunSetupError(
                f"The {choice} covers {max(b - a, 0)} pixels of the image along an axis; "
                "it needs at least 16 (is it over the image?)."
            )
        yx.append(slice(a, b))
    return (*lead, *yx)


def _current_slice(viewer: napari.Viewer, image: Image, shape: tuple[int, ...]) -> list[slice]:
    point = image.world_to_data(viewer.dims.point)
    n_lead = len(shape) - 2
    lead = point[-len(shape) : -2] if n_lead else ()
    return [
        slice(i, i + 1)
        for i in (
            int(np.clip(round(float(p)), 0, n - 1)) for p, n in zip(lead, shape, strict=False)
        )
    ]


def _view_corners(viewer: napari.Viewer) -> list[np.ndarray]:
    """World coordinates of the canvas corners (2D view)."""
    if viewer.dims.ndisplay != 2:
        raise RunSetupError("The field of view works in the 2D view only.")
    # napari >= 0.9 keeps the camera in viewer.scene; older versions in viewer.camera.
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    center = np.asarray(camera.center[-2:], float)
    size = _canvas_size(viewer)
    half = np.asarray(size, float) / 2 / camera.zoom
    displayed = list(viewer.dims.displayed)
    corners = []
    for dy in (-1, 1):
        for dx in (-1, 1):
            p = np.array(viewer.dims.point, float)
            p[displayed] = center + half * (dy, dx)
            corners.append(p)
    return corners


def _shape_corners(viewer: napari.Viewer) -> list[np.ndarray]:
    """World coordinates of the vertices of the selected (else the last) shape."""
    layers = [layer for layer in viewer.layers if isinstance(layer, Shapes) and len(layer.data)]
    if not layers:
        raise RunSetupError("Draw a rectangle in a Shapes layer first (no shapes found).")
    active = viewer.layers.selection.active
    layer = active if active in layers else layers[-1]
    chosen = sorted(layer.selected_data) or [len(layer.data) - 1]
    vertices = np.concatenate([layer.data[i] for i in chosen])
    return [np.asarray(layer.data_to_world(v)) for v in vertices]


def _canvas_size(viewer: napari.Viewer) -> tuple[int, int]:
    """(height, width) of the canvas in screen pixels, through public API only."""
    if hasattr(viewer, "canvas"):  # napari >= 0.9
        return tuple(viewer.canvas.size)
    import warnings

    with warnings.catch_warnings():  # napari 0.5-0.8: public but deprecated
        warnings.simplefilter("ignore", FutureWarning)
        return tuple(viewer.window.qt_viewer.canvas.size)
