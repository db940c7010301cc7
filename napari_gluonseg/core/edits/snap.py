"""Snap to image edges: SLIC superpixels of the image, which of them touch and how different in
colour (:class:`CellEdges`), and :func:`snap_to_cells`, where every superpixel takes the label
holding most of it, so boundaries a few pixels off move onto the image's edges. Qt-free; the
Correct dock computes the cells once per plane and writes the changes as one undoable edit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .corrections import Change


def _unit_pixels(image: np.ndarray) -> np.ndarray:
    """The colour channels of a 2D image (greyscale, or RGB(A) with the colour last) as float32
    in units of the image's own range (0 to 1), channels last."""
    image = np.asarray(image)
    pixels = (image[..., :3] if image.ndim == 3 else image[..., None]).astype(np.float32)
    span = float(pixels.max() - pixels.min())
    return (pixels - pixels.min()) / (span or 1.0)


def superpixels(image: np.ndarray, cell_pixels: int = 400) -> np.ndarray:
    """SLIC superpixels of a 2D image (greyscale, or RGB(A) with the colour last): int32 cell
    ids from 0, cells of about ``cell_pixels`` pixels whose edges follow the image's edges."""
    from skimage.segmentation import slic

    rgb = np.asarray(image).ndim == 3
    pixels = _unit_pixels(image)
    n_cells = max(1, pixels.shape[0] * pixels.shape[1] // cell_pixels)
    # Not forced connected: that step merges small cells into a neighbour across an edge, and
    # a vote needs cells that stay on one side, not connected ones.
    cells = slic(
        pixels if rgb else pixels[..., 0], n_segments=n_cells, compactness=10 if rgb else 0.1,
        channel_axis=-1 if rgb else None, start_label=0, enforce_connectivity=False,
    )  # fmt: skip
    return cells.astype(np.int32)


@dataclass(frozen=True)
class CellEdges:
    """Which superpixels touch (4-neighbours; each ordered pair ``(a[i], b[i])`` once) and how
    far apart their mean colours are, in units of the image's range: computed once per image
    plane, with its superpixels."""

    a: np.ndarray
    b: np.ndarray
    contrast: np.ndarray


def cell_edges(image: np.ndarray, cells: np.ndarray) -> CellEdges:
    """The :class:`CellEdges` of the superpixels ``cells`` of ``image``."""
    pixels = _unit_pixels(image)
    ids = np.asarray(cells).ravel()
    n = int(ids.max(initial=0)) + 1
    sizes = np.maximum(np.bincount(ids, minlength=n), 1)
    sums = [np.bincount(ids, pixels[..., c].ravel(), minlength=n) for c in range(pixels.shape[-1])]
    colours = np.stack(sums, axis=1) / sizes[:, None]
    a = np.concatenate([cells[:, :-1].ravel(), cells[:-1, :].ravel()]).astype(np.int64)
    b = np.concatenate([cells[:, 1:].ravel(), cells[1:, :].ravel()]).astype(np.int64)
    apart = a != b
    pairs = np.unique(np.concatenate([a[apart] * n + b[apart], b[apart] * n + a[apart]]))
    a, b = pairs // n, pairs % n
    return CellEdges(a, b, np.linalg.norm(colours[a] - colours[b], axis=1))


def snap_to_cells(
    labels: np.ndarray,
    cells: np.ndarray,
    protected: np.ndarray | None = None,
    min_share: float = 0.5,
    edges: CellEdges | None = None,
    min_contrast: float = 0.1,
) -> list[Change]:
    """Boundaries snapped to the image's edges: every superpixel (``cells``, same shape as the
    2D ``labels``) where one label holds more than ``min_share`` of its pixels gives that label
    to the rest of it. A boundary a few pixels off crosses cells whose majority is right, so it
    moves onto the cell edges, i.e. the image's edges. Hand-set pixels stay; cells near a tie
    stay.

    With ``edges`` (:func:`cell_edges`), only edges the image shows: a cell's pixels of
    label M change only where the touching cells that M holds most of differ from it in mean
    colour by ``min_contrast`` (of the image's range) or more, on average. Where neighbouring
    classes look alike, SLIC's cell edges are arbitrary, and snapping would move a boundary the
    scores placed a few pixels off onto an edge ten pixels off. One :class:`Change` per label
    written."""
    labels = np.asarray(labels)
    if labels.min(initial=0) >= 0 and labels.max(initial=0) < 4096:  # class labels: no sort
        values = np.arange(int(labels.max(initial=0)) + 1, dtype=labels.dtype)
        index = labels.astype(np.int64)
    else:
        values, index = np.unique(labels, return_inverse=True)
        index = index.reshape(labels.shape)
    n_cells, n_values = int(cells.max(initial=0)) + 1, len(values)
    at = cells.astype(np.int64) * n_values + index  # (cell, label) of each pixel
    counts = np.bincount(at.ravel(), minlength=n_cells * n_values).reshape(n_cells, n_values)
    top = counts.argmax(axis=1)
    share = counts[np.arange(n_cells), top] / np.maximum(counts.sum(axis=1), 1)
    new = values[top][cells]
    change = (share > min_share)[cells] & (new != labels)
    if edges is not None:
        neighbour = edges.a * n_values + top[edges.b]  # (cell, the label its neighbour holds)
        total = np.bincount(neighbour, edges.contrast, minlength=n_cells * n_values)
        seen = np.bincount(neighbour, minlength=n_cells * n_values)
        # No neighbour held by the label (a blot inside the cell): nothing to look alike.
        shown = (seen == 0) | (total >= min_contrast * seen)
        change &= shown[at]
    if protected is not None:
        change &= ~protected
    full = tuple(slice(0, n) for n in labels.shape)
    return [Change(full, change & (new == v), int(v)) for v in np.unique(new[change])]
