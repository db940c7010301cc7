"""Corrections in one gesture, from the scores a run kept: relabel a region to one of the
classes most likely over it, and clean speckles. Qt-free; each function says which pixels change
and to what, and the dock writes them as one undoable edit.

A *region* is a connected component (4-connected) of equal label values in one plane: a
click floods it (:func:`region_at`); :class:`Components` labels them all at once, for cleaning
speckles. Pixels the person set by hand (``protected``: :mod:`.record` says which) are never
changed. Label value ``k + 1`` is class ``k`` (0 is unlabeled), as everywhere in the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..run.scores import ScoreGrid
from .merge import Region

AS_AT_CLICK = 0.25  # a scored relabel's piece: the class at least 1/4 as close as at the click


class Components:
    """The connected regions of equal value of a 2D labels plane, labelled once."""

    def __init__(self, labels: np.ndarray) -> None:
        from skimage.measure import label

        self.labels = np.asarray(labels)
        # +1: unlabeled pixels (0) form regions too, which a click may fill.
        self.ids = label(self.labels.astype(np.int64) + 1, background=0, connectivity=1)
        self.sizes = np.bincount(self.ids.ravel())
        self._boxes: list[Region | None] | None = None

    def at(self, y: int, x: int) -> tuple[Region, np.ndarray]:
        """The region containing pixel (y, x): (bounding box, its mask within the box)."""
        component = int(self.ids[y, x])
        box = self.boxes[component - 1]
        assert box is not None  # every id from label() has pixels
        return box, self.ids[box] == component

    @property
    def boxes(self) -> list[Region | None]:
        if self._boxes is None:
            from scipy import ndimage

            self._boxes = ndimage.find_objects(self.ids)
        return self._boxes


def region_at(labels: np.ndarray, y: int, x: int) -> tuple[Region, np.ndarray]:
    """The region (4-connected, equal value) containing pixel (y, x) of a 2D labels plane:
    (bounding box, its mask within the box). A flood from the pixel: a click needs no
    labelling of the whole plane (31 ms vs 400 ms for :class:`Components` at 12 MP)."""
    from skimage.segmentation import flood

    mask = flood(np.asarray(labels), (int(y), int(x)), connectivity=1)
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    return box, mask[box]


def likely_classes(
    scores: ScoreGrid, plane: tuple[int, ...], box: Region, mask: np.ndarray, k: int = 5
) -> list[tuple[int, float]]:
    """The ``k`` classes most probable on average over the ``mask`` pixels of ``box`` (2D, in
    ``plane`` of the image the scores were kept for): [(result class index, mean probability)],
    best first. The probabilities are interpolated from the kept grid as the maps are
    (align-corners bilinear), so this is the mean of what a probability map would show."""
    h, w = scores.image_shape
    gh, gw = scores.grid_shape
    n = int(np.count_nonzero(mask))
    if not n:
        return []
    # Each grid cell's weight is separable: Wy' M Wx (M the mask, Wy and Wx the sparse
    # interpolation matrices of the box's rows and columns); only the cells under the box are
    # read, in float32 (a 12 MP plane's grid is 28M values).
    wy, y0 = _interpolation(box[0].start, box[0].stop, h, gh)
    wx, x0 = _interpolation(box[1].start, box[1].stop, w, gw)
    cell = np.asarray(wy.T @ (wx.T @ mask.astype(np.float32).T).T).ravel()
    index = int(np.ravel_multi_index(plane, scores.leading_shape)) if plane else 0
    near = scores.probs[index][:, y0 : y0 + wy.shape[1], x0 : x0 + wx.shape[1]]
    used = np.nonzero(cell)[0]
    near = near.reshape(len(scores.class_ids), -1)[:, used].astype(np.float32)
    mean = near @ cell[used].astype(np.float32) / n
    best = np.argsort(-mean, kind="stable")[:k]
    return [(scores.class_ids[int(j)], float(mean[j])) for j in best]


def _interpolation(start: int, stop: int, n: int, cells: int) -> tuple[Any, int]:
    """The sparse (pixels, cells) matrix interpolating pixels ``start..stop`` of an axis of
    ``n`` from the grid cells they fall between, and the first of those cells."""
    from scipy import sparse

    lo, hi, f = _axis_weights(np.arange(start, stop), n, cells)
    first = int(lo.min())
    pixels = np.arange(stop - start)
    entries = (np.concatenate([1 - f, f]), (np.tile(pixels, 2), np.concatenate([lo, hi]) - first))
    return sparse.csr_matrix(entries, shape=(stop - start, int(hi.max()) + 1 - first)), first


def runner_up(
    scores: ScoreGrid, plane: tuple[int, ...], box: Region, mask: np.ndarray, value: int
) -> tuple[int, float] | None:
    """The most likely class over the region other than the one its label ``value`` names:
    (class index, mean probability), or None where the scores know no other class."""
    for k, p in likely_classes(scores, plane, box, mask, k=3):
        if k + 1 != value and k >= 0:
            return k, p
    return None


def class_probability(
    scores: ScoreGrid, plane: tuple[int, ...], class_index: int, box: Region
) -> np.ndarray:
    """P(class) over the pixels of ``box`` only (float32, the box's shape), interpolated as the
    full probability map is: a brush stroke reads its box, not a 12 MP map."""
    h, w = scores.image_shape
    gh, gw = scores.grid_shape
    index = int(np.ravel_multi_index(plane, scores.leading_shape)) if plane else 0
    ylo, yhi, fy = _axis_weights(np.arange(box[0].start, min(box[0].stop, h)), h, gh)
    xlo, xhi, fx = _axis_weights(np.arange(box[1].start, min(box[1].stop, w)), w, gw)
    y0, x0 = int(ylo.min()), int(xlo.min())  # only the cells under the box
    grid = scores.probs[index, scores.row(class_index), y0 : yhi.max() + 1, x0 : xhi.max() + 1]
    grid = grid.astype(np.float32)
    ylo, yhi, xlo, xhi = ylo - y0, yhi - y0, xlo - x0, xhi - x0
    top = grid[np.ix_(ylo, xlo)] * (1 - fx) + grid[np.ix_(ylo, xhi)] * fx
    bottom = grid[np.ix_(yhi, xlo)] * (1 - fx) + grid[np.ix_(yhi, xhi)] * fx
    return (top * (1 - fy)[:, None] + bottom * fy[:, None]).astype(np.float32)


def menu_classes(
    scores: ScoreGrid,
    plane: tuple[int, ...],
    box: Region,
    mask: np.ndarray,
    point: tuple[int, int],
    k: int = 5,
) -> list[int]:
    """The classes a click's menu lists: the ``k`` most likely over the region, then those of
    the ``k`` most likely at the clicked ``point`` (image pixel) not listed yet. A part of a
    region that the model gave to a neighbour is a small share of the region's mean: its class
    may be missing from the region's list, not from the point's."""
    listed = [c for c, _ in likely_classes(scores, plane, box, mask, k)]
    here = [c for c, _ in scores.top_classes(plane, point[0], point[1], k)]
    return listed + [c for c in here if c not in listed]


def class_ratio(
    scores: ScoreGrid, plane: tuple[int, ...], class_index: int, box: Region, labels: np.ndarray
) -> np.ndarray:
    """P(class) / P(the class each pixel is labelled) over ``box`` (``labels``: the box's label
    values, class + 1): how likely the model finds the class against the label already there.
    On a pixel the model got wrong the truth is below the label (the label is the argmax), so
    an absolute threshold of 0.5 never paints it; a ratio does, where the truth came close.
    Pixels whose label the scores do not know (unlabeled, another run's class) get +inf."""
    want = class_probability(scores, plane, class_index, box)
    against = np.zeros(want.shape, np.float32)
    for value in np.unique(labels):
        if value >= 1 and int(value) - 1 in scores.class_ids:
            here = labels == value
            against[here] = class_probability(scores, plane, int(value) - 1, box)[here]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = want / against
    return np.where(against > 0, ratio, np.inf).astype(np.float32)


def scored_relabel(
    scores: ScoreGrid,
    plane: tuple[int, ...],
    labels: np.ndarray,
    box: Region,
    mask: np.ndarray,
    class_index: int,
    point: tuple[int, int],
    ratio: float = 0.25,
    protected: np.ndarray | None = None,
    whole_share: float = 0.8,
) -> Change:
    """A relabel that follows the scores: the region (``mask`` in ``box``) takes the class
    where the model finds it at least ``ratio`` times as likely as the label there
    (:func:`class_ratio`); where that is under ``whole_share`` of the region (the scores
    disagree inside it: part of it is likely another object), only that part around the
    clicked ``point`` (its 4-connected piece holding the point, or all of it where the point is
    outside it) changes; otherwise the whole region, as :func:`relabel`.

    The click is the example: the class's ratio to the label must also be at least
    ``AS_AT_CLICK`` of its ratio at the ``point`` (so the clicked pixel sets how far the piece
    reaches). A semantic neighbour is a little likely all over a
    region (a wall is a little bit building everywhere), and a label set against the model (a
    correction) has the class ahead of it wherever the model still disagrees: the ratio alone
    would take the whole region there, where only the part like the click was meant."""
    from scipy import ndimage

    value = labels[box][mask][0] if mask.any() else 0  # a region: one label, one ratio to read
    ratio_map = class_ratio(scores, plane, class_index, box, np.where(mask, labels[box], value))
    y, x = point[0] - box[0].start, point[1] - box[1].start
    inside = 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]
    if inside and mask[y, x] and not np.isnan(ratio_map[y, x]):
        # inf at the click (the label's probability kept as 0): only where it is 0 too.
        ratio = max(ratio, AS_AT_CLICK * float(ratio_map[y, x]))
    likely = mask & (ratio_map >= ratio)
    if likely.sum() >= whole_share * mask.sum():
        return relabel(labels, box, mask, class_index + 1, protected)
    pieces, _ = ndimage.label(likely)
    piece = int(pieces[y, x]) if inside else 0
    part = pieces == piece if piece else likely
    return relabel(labels, box, part, class_index + 1, protected)


def _axis_weights(
    pixels: np.ndarray, n: int, cells: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower cell, upper cell, weight of the upper) for each pixel of an axis of ``n`` pixels
    over ``cells`` grid cells whose ends are the axis' ends (align corners)."""
    if n <= 1 or cells <= 1:
        zero = np.zeros(pixels.shape, np.int64)
        return zero, zero, np.zeros(pixels.shape, np.float64)
    f = pixels * ((cells - 1) / (n - 1))
    lo = np.minimum(np.floor(f).astype(np.int64), cells - 1)
    hi = np.minimum(lo + 1, cells - 1)
    return lo, hi, f - lo


@dataclass(frozen=True)
class Change:
    """Pixels of one plane to set: ``mask`` within ``box``, to ``value``."""

    box: Region
    mask: np.ndarray
    value: int

    @property
    def pixels(self) -> int:
        return int(np.count_nonzero(self.mask))


def relabel(
    labels: np.ndarray, box: Region, mask: np.ndarray, value: int, protected: np.ndarray | None
) -> Change:
    """The change that gives the region ``mask`` (in ``box``) the label ``value``, leaving the
    ``protected`` pixels (set by hand) and those already ``value`` as they are."""
    change = mask & (labels[box] != value)
    if protected is not None:
        change &= ~protected[box]
    return Change(box, change, int(value))


def speckles(
    components: Components,
    min_size: int,
    protected: np.ndarray | None = None,
    scores: ScoreGrid | None = None,
    plane: tuple[int, ...] = (),
) -> list[Change]:
    """Every region smaller than ``min_size`` pixels, each given the label that borders it most
    (its 4-neighbours outside it) or, with the run's ``scores``, the bordering class the scores
    find most likely over the speckle (often its runner-up); a region holding a pixel set by
    hand is left alone (its neighbours may be hand-set: a speckle inside a region the person
    relabelled takes that region's class).

    Larger speckles go first and later ones see their new labels, so a speckle inside a speckle
    takes what the outer one became. Speckles that take the same class side by side can make a
    region still under ``min_size``: a second clean takes it (the dock counts what is left)."""
    labels = components.labels
    work = labels.copy()
    small = np.nonzero(components.sizes[1:] < min_size)[0]
    changes = []
    for n in small[np.argsort(-components.sizes[1:][small], kind="stable")]:
        box = components.boxes[n]
        if box is None:
            continue
        grown = tuple(
            slice(max(s.start - 1, 0), min(s.stop + 1, size))
            for s, size in zip(box, labels.shape, strict=True)
        )
        inside = components.ids[grown] == n + 1
        if protected is not None and protected[grown][inside].any():
            continue
        ring = _four_neighbours(inside) & ~inside  # hand-set neighbours count: they are read
        around = work[grown][ring]
        if not around.size:
            continue
        values, counts = np.unique(around, return_counts=True)
        value = int(values[np.argmax(counts)])
        if scores is not None and len(values) > 1:
            value = _most_likely(scores, plane, grown, inside, values, value)
        work[grown][inside] = value
        changes.append(Change(grown, inside, value))
    return changes


def _most_likely(
    scores: ScoreGrid,
    plane: tuple[int, ...],
    box: Region,
    mask: np.ndarray,
    values: np.ndarray,
    default: int,
) -> int:
    """Of the label ``values``, the one whose class is most probable on average over ``mask``
    (``default`` where the scores know none of them)."""
    best, best_p = default, -1.0
    for v in values:
        if v < 1 or int(v) - 1 not in scores.class_ids:
            continue
        p = float(class_probability(scores, plane, int(v) - 1, box)[mask].mean())
        if p > best_p:
            best, best_p = int(v), p
    return best


def class_brush(
    labels: np.ndarray,
    box: Region,
    stroke: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    value: int,
    protected: np.ndarray | None = None,
) -> Change:
    """A brush that follows the model: the pixels of ``stroke`` (a mask within ``box``) where
    the class ``value`` names has at least ``threshold`` probability (``probability``, over
    ``box``) take ``value``; hand-set pixels and those already ``value`` stay."""
    change = stroke & (probability >= threshold) & (labels[box] != value)
    if protected is not None:
        change &= ~protected[box]
    return Change(box, change, int(value))


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


def _four_neighbours(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def apply(labels: np.ndarray, changes: list[Change]) -> int:
    """Write ``changes`` into ``labels`` (in place, for scripts and tests; the dock writes them
    as one undoable edit instead); returns the pixels changed."""
    total = 0
    for change in changes:
        view = labels[change.box]
        total += int(np.count_nonzero(view[change.mask] != change.value))
        view[change.mask] = change.value
    return total
