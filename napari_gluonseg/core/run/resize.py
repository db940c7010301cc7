"""Bilinear resizing of (channels, H, W) arrays, computable one strip of output rows at a time.

Uses mxnet ``BilinearResize2D``'s convention (align corners), which gluoncv uses to bring logits
back to the input size, so the full-resolution maps never need to exist whole.
"""

from __future__ import annotations

import numpy as np

AxisWeights = tuple[np.ndarray, np.ndarray, np.ndarray]


def axis_weights(n_in: int, n_out: int, start: int, stop: int) -> AxisWeights:
    """Source indices (lo, hi) and weights of hi for output positions start..stop-1."""
    pos = np.arange(start, stop, dtype=np.float64)
    src = pos * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros_like(pos)
    lo = np.clip(np.floor(src).astype(np.int64), 0, n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (src - lo).astype(np.float32)


def resize_rows(
    src: np.ndarray,
    out_h: int,
    out_w: int,
    row_start: int,
    row_stop: int,
    row_weights: AxisWeights | None = None,
) -> np.ndarray:
    """Rows ``row_start:row_stop`` of ``src`` (C, h, w) resized to (C, out_h, out_w).

    ``row_weights`` replaces the row indices and weights (for a ``src`` holding only the rows
    that are read, see :meth:`ImageStack.plane_chw01`).
    """
    h, w = src.shape[1:]
    if row_weights is None and (h, w) == (out_h, out_w):
        return src[:, row_start:row_stop]
    lo, hi, wy = row_weights or axis_weights(h, out_h, row_start, row_stop)
    rows = src[:, lo] * (1 - wy)[None, :, None] + src[:, hi] * wy[None, :, None]
    if w == out_w:
        return rows.astype(np.float32, copy=False)
    lo, hi, wx = axis_weights(w, out_w, 0, out_w)
    return (rows[:, :, lo] * (1 - wx) + rows[:, :, hi] * wx).astype(np.float32, copy=False)


def resize(src: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """The whole of ``src`` (C, h, w) resized to (C, out_h, out_w)."""
    return resize_rows(src, out_h, out_w, 0, out_h)
