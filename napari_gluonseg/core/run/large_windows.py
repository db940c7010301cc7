"""Large windows on the network's own grid: full resolution in bounded memory, little overlap.

GluonCV evaluates large images with 480-pixel windows at 2/3 stride (:mod:`.tiling`): 2.1x to 2.6x
the multiply-accumulates of one pass over the whole image, and each window's logits upsampled to the
window. Networks that can give their logits at their own stride-8 resolution (``native``) allow
better: a few windows as large as the memory budget allows, placed at offsets that are multiples of
8, so window feature ``j`` is exactly the whole image's feature ``offset / 8 + j`` (convolutions
commute with shifts of the stride). Each window contributes the part of its grid that lies at least
``margin`` pixels from an inner edge, where zero padding no longer reaches; the assembled grid then
goes through the whole image's postprocessing. So a large image costs about 1.2x one whole-image
pass, memory holds one window's activations plus a stride-8 grid (1/64 of the pixels), and labels
differ from the whole image's only where the margin cuts off context.

Every window of a layout has the same size (one network shape, one MXNet build): along an axis of
``n`` pixels the window size is congruent to ``n`` modulo 8, so the last window starts at a
multiple of 8 and ends at the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np

from ..events import Progress

STRIDE = 8
# Pixels of context kept on each side of an inner cut. Measured with an untrained FCN-ResNet50 on
# the 576x768 photo cut into ~290-pixel windows: 64 px -> 99.4% of grid argmaxes as the whole
# image's, 96 px -> 99.9%, 128 px -> 100%.
MARGIN = 96
# Most pieces tried along one axis when fitting windows to a budget.
_MOST_PIECES = 64


@dataclass(frozen=True)
class Axis:
    """Windows along one axis of ``length`` pixels.

    ``size``: every window's length; ``starts``: their offsets (multiples of 8); ``cuts``: in grid
    cells, window ``k`` supplies grid cells ``cuts[k]`` to ``cuts[k + 1]``.
    """

    length: int
    size: int
    starts: tuple[int, ...]
    cuts: tuple[int, ...]


def grid_cells(length: int) -> int:
    """Cells of the stride-8 grid over ``length`` pixels (the network's ``ceil(n / 8)``)."""
    return -(-length // STRIDE)


def split_axis(length: int, pieces: int, margin: int = MARGIN) -> Axis:
    """``pieces`` equal windows over ``length`` pixels, neighbours overlapping by ``2 * margin``
    pixels or more (``margin`` a multiple of 8); one piece is the whole axis."""
    if pieces <= 1:
        return Axis(length, length, (0,), (0, grid_cells(length)))
    least = -(-(length + 2 * margin * (pieces - 1)) // pieces)
    size = least + (length - least) % STRIDE  # so that length - size is a multiple of 8
    room = (length - size) // STRIDE  # the last start, in grid cells
    starts = [STRIDE * ((k * room) // (pieces - 1)) for k in range(pieces)]
    # Each cut halfway through an overlap, on the grid.
    inner = [(starts[k + 1] + starts[k] + size) // (2 * STRIDE) for k in range(pieces - 1)]
    return Axis(length, size, tuple(starts), (0, *inner, grid_cells(length)))


@dataclass(frozen=True)
class GridLayout:
    """Windows (all ``rows.size`` x ``cols.size``) covering a (height, width) image."""

    rows: Axis
    cols: Axis

    @property
    def window(self) -> tuple[int, int]:
        return self.rows.size, self.cols.size

    @property
    def windows(self) -> list[tuple[int, int, int, int]]:
        """(y, x, h, w) of every window, row by row."""
        h, w = self.window
        return [(y, x, h, w) for y in self.rows.starts for x in self.cols.starts]

    @property
    def pixel_ratio(self) -> float:
        """Pixels the network sees over the image's: the extra work of the overlaps."""
        seen = len(self.rows.starts) * self.rows.size * len(self.cols.starts) * self.cols.size
        return seen / (self.rows.length * self.cols.length)


def grid_layout(height: int, width: int, max_pixels: int, margin: int = MARGIN) -> GridLayout:
    """The equal windows of at most ``max_pixels`` (when possible) that cover (height, width)
    with the fewest pixels seen in all; one window when the image fits."""
    if height * width <= max_pixels:
        return GridLayout(split_axis(height, 1), split_axis(width, 1))
    best: tuple[tuple[int, int], GridLayout] | None = None
    for n_rows in range(1, min(_MOST_PIECES, grid_cells(height)) + 1):
        rows = split_axis(height, n_rows, margin)
        for n_cols in range(1, min(_MOST_PIECES, grid_cells(width)) + 1):
            cols = split_axis(width, n_cols, margin)
            if rows.size * cols.size > max_pixels:
                continue
            layout = GridLayout(rows, cols)
            cost = (len(rows.starts) * rows.size * len(cols.starts) * cols.size, n_rows * n_cols)
            if best is None or cost < best[0]:
                best = (cost, layout)
            break  # more columns only add overlap
    if best is None:  # windows cannot get that small: the smallest there is
        n = min(_MOST_PIECES, grid_cells(height)), min(_MOST_PIECES, grid_cells(width))
        return GridLayout(split_axis(height, n[0], margin), split_axis(width, n[1], margin))
    return best[1]


def iter_grid_logits(
    forward: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    layout: GridLayout,
    progress: Callable[[], Progress],
) -> Generator[Progress, None, np.ndarray]:
    """The whole image's stride-8 logits (C, ceil(h / 8), ceil(w / 8)) assembled from windows.

    ``forward`` maps (1, 3, wh, ww) to its native logits (1, C, ceil(wh / 8), ceil(ww / 8)).
    Yields ``progress()`` after each window (where a run can be cancelled).
    """
    rows, cols = layout.rows, layout.cols
    grid: np.ndarray | None = None
    for i, y in enumerate(rows.starts):
        for j, x0 in enumerate(cols.starts):
            window = np.ascontiguousarray(x[:, :, y : y + rows.size, x0 : x0 + cols.size])
            out = forward(window)[0]
            if grid is None:
                shape = (out.shape[0], grid_cells(rows.length), grid_cells(cols.length))
                grid = np.empty(shape, np.float32)
            r0, r1, c0, c1 = rows.cuts[i], rows.cuts[i + 1], cols.cuts[j], cols.cuts[j + 1]
            oy, ox = y // STRIDE, x0 // STRIDE
            grid[:, r0:r1, c0:c1] = out[:, r0 - oy : r1 - oy, c0 - ox : c1 - ox]
            del window, out
            yield progress()
    assert grid is not None
    return grid
