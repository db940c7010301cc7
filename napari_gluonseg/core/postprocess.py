"""From logits to labels, confidence and probabilities, one strip of rows at a time.

The softmax is explicit (over all classes of the model); no classes x H x W array exists at full
resolution, only a strip of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .resize import resize_rows

STRIP_BYTES = 64 << 20  # size of one strip of full-resolution logits


@dataclass
class PlaneOutputs:
    """Full-resolution outputs of one plane, written in place into the result arrays."""

    labels: np.ndarray  # (H, W) integer, class index + 1
    confidence: np.ndarray  # (H, W) float32, max softmax probability
    probabilities: dict[int, np.ndarray]  # class index -> (H, W) float32


def label_dtype(num_classes: int) -> np.dtype:
    return np.dtype(np.uint8 if num_classes < 255 else np.uint16)


def strip_rows(num_classes: int, width: int) -> int:
    return max(1, STRIP_BYTES // (4 * num_classes * max(width, 1)))


def write_plane_outputs(logits: np.ndarray, out: PlaneOutputs) -> None:
    """Fill ``out`` from working-resolution ``logits`` (C, h, w), upsampled strip by strip."""
    c = logits.shape[0]
    out_h, out_w = out.labels.shape
    step = strip_rows(c, out_w)
    for r0 in range(0, out_h, step):
        r1 = min(out_h, r0 + step)
        strip = resize_rows(logits, out_h, out_w, r0, r1)
        top = strip.argmax(axis=0)
        out.labels[r0:r1] = top + 1
        peak = np.take_along_axis(strip, top[None], axis=0)[0]
        exp = np.exp(strip - peak[None])
        total = exp.sum(axis=0)
        out.confidence[r0:r1] = 1.0 / total  # exp(peak - peak) / total
        for k, prob in out.probabilities.items():
            prob[r0:r1] = exp[k] / total
