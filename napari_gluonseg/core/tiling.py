"""Sliding-window inference as GluonCV evaluates its models (``MultiEvalModel``).

The working image is padded to at least one window, windows of ``tile`` pixels slide with
``stride`` (2/3 of a window by default), and overlapping logits are averaged by a count map.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np

from .events import Progress


def default_stride(tile: int) -> int:
    return max(1, (2 * tile) // 3)


def window_starts(size: int, tile: int, stride: int) -> list[int]:
    """Start offsets of windows of ``tile`` covering ``max(size, tile)`` pixels."""
    padded = max(size, tile)
    n = math.ceil((padded - tile) / stride) + 1
    return sorted({min(i * stride, padded - tile) for i in range(n)})


def tile_windows(height: int, width: int, tile: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of the windows over a (height, width) image, row by row."""
    return [
        (y, x)
        for y in window_starts(height, tile, stride)
        for x in window_starts(width, tile, stride)
    ]


def iter_tiled_logits(
    forward: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    tile: int,
    stride: int,
    progress: Callable[[], Progress],
) -> Generator[Progress, None, np.ndarray]:
    """Average the logits of ``forward`` over windows of ``x`` (1, 3, h, w).

    ``forward`` maps (1, 3, tile, tile) to (1, C, tile, tile). Yields ``progress()`` after each
    window; returns (C, h, w) logits.
    """
    _, _, h, w = x.shape
    ph, pw = max(h, tile), max(w, tile)
    if (ph, pw) != (h, w):
        # Zero in normalized space is the ImageNet mean colour: a neutral border.
        padded = np.zeros((1, 3, ph, pw), np.float32)
        padded[:, :, :h, :w] = x
        x = padded
    total = None
    count = np.zeros((ph, pw), np.float32)
    for y, x0 in tile_windows(ph, pw, tile, stride):
        out = forward(x[:, :, y : y + tile, x0 : x0 + tile])[0]
        if total is None:
            total = np.zeros((out.shape[0], ph, pw), np.float32)
        total[:, y : y + tile, x0 : x0 + tile] += out
        count[y : y + tile, x0 : x0 + tile] += 1
        yield progress()
    assert total is not None
    total = total[:, :h, :w]
    total /= count[None, :h, :w]
    return total
