"""Sliding-window inference as GluonCV evaluates its models (``MultiEvalModel``), streamed by rows.

Windows of ``tile`` pixels slide with ``stride`` (2/3 of a window by default) and overlapping
logits are averaged by a count map. Two departures from GluonCV, both so that results and memory do
not depend on padding:

- a window never exceeds the image: on an image smaller than a tile the window shrinks to it, so an
  image that fits one tile gives exactly the whole-image result (GluonCV pads it instead);
- rows are handed on as soon as no later window can touch them, so only one band of ``tile`` rows
  of logits exists at a time, whatever the image height.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np

from ..events import Progress

# Called with (first row, logits of the finished rows (C, n, w)); the array is reused afterwards.
EmitRows = Callable[[int, np.ndarray], None]


def default_stride(tile: int) -> int:
    return max(1, (2 * tile) // 3)


def window_size(height: int, width: int, tile: int | None) -> tuple[int, int]:
    """The (h, w) of every window over a (height, width) image; ``None``: the whole image."""
    if tile is None:
        return height, width
    return min(tile, height), min(tile, width)


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """Start offsets of windows of ``window`` pixels covering ``size >= window`` pixels."""
    if size <= window:
        return [0]
    n = math.ceil((size - window) / stride) + 1
    return sorted({min(i * stride, size - window) for i in range(n)})


def tile_windows(
    height: int, width: int, tile: int | None, stride: int
) -> list[tuple[int, int, int, int]]:
    """Windows (y, x, h, w) over a (height, width) image, row by row."""
    wh, ww = window_size(height, width, tile)
    return [
        (y, x, wh, ww)
        for y in window_starts(height, wh, stride)
        for x in window_starts(width, ww, stride)
    ]


def iter_tiled_logits(
    forward: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    tile: int | None,
    stride: int,
    progress: Callable[[], Progress],
    emit: EmitRows,
) -> Generator[Progress, None, None]:
    """Average the logits of ``forward`` over windows of ``x`` (1, 3, h, w), emitting finished rows.

    ``forward`` maps (1, 3, wh, ww) to (1, C, wh, ww). Yields ``progress()`` after each window
    (the place where a run can be cancelled) and calls ``emit`` once per band of finished rows,
    top to bottom, covering every row exactly once.
    """
    _, _, h, w = x.shape
    wh, ww = window_size(h, w, tile)
    rows = window_starts(h, wh, stride)
    cols = window_starts(w, ww, stride)
    acc: np.ndarray | None = None
    count = np.zeros((wh, w), np.float32)
    for k, y in enumerate(rows):
        # acc holds rows y .. y + wh; rows before y are done.
        for x0 in cols:
            out = forward(x[:, :, y : y + wh, x0 : x0 + ww])[0]
            if acc is None:
                acc = np.zeros((out.shape[0], wh, w), np.float32)
            acc[:, :, x0 : x0 + ww] += out
            count[:, x0 : x0 + ww] += 1
            yield progress()
        assert acc is not None
        done = (rows[k + 1] if k + 1 < len(rows) else h) - y
        acc[:, :done] /= count[None, :done]
        emit(y, acc[:, :done])
        keep = wh - done
        acc[:, :keep] = acc[:, done:]
        acc[:, keep:] = 0
        count[:keep] = count[done:]
        count[keep:] = 0
