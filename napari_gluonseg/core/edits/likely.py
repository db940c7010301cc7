"""What a run's kept scores say about a region of its labels: the classes most likely over it
(:func:`likely_classes`), a click's menu of them (:func:`menu_classes`), its runner-up, and a
class's probability, or its ratio to the label there, over a box. Qt-free; the Correct dock's
menu, R key and class brush read these, and so does ``benchmarks/bench_corrections.py``.

The probabilities are interpolated from the kept grid as the probability maps are
(align-corners bilinear). Class ``k`` is label value ``k + 1``, as everywhere in the package.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..run.scores import ScoreGrid
from .merge import Region

# A click's menu: keys 1-9 choose, so no more than nine entries (a tenth could not be picked).
MENU_SIZE = 9
# A menu entry: (class index, probability, whether it is listed for the clicked pixel only).
MenuEntry = tuple[int, float, bool]


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
) -> list[MenuEntry]:
    """A click's menu, as the Correct dock shows it: the ``k`` classes most likely over the
    region (``mask`` in ``box``; their mean probability), then those of the ``k`` most likely
    at the clicked ``point`` (image pixel; their probability there) not listed yet, marked
    True; at most :data:`MENU_SIZE`. A part of a region that the model gave to a neighbour is
    a small share of the region's mean: its class may be missing from the region's list, not
    from the point's.

    Nothing where the region lists nothing (an empty mask: no menu, whatever the point has);
    no point entries where the point is outside the scores' image."""
    listed = [(c, p, False) for c, p in likely_classes(scores, plane, box, mask, k)]
    if not listed:
        return []
    known = {c for c, _, _ in listed}
    here = scores.top_classes(plane, point[0], point[1], k)  # [] outside the image
    return (listed + [(c, p, True) for c, p in here if c not in known])[:MENU_SIZE]


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
