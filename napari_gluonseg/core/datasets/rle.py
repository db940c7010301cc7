"""COCO's run-length encoding of masks, compressed as pycocotools writes it (``rleToString``):
column-major runs starting with background, each count from the fourth on stored as the
difference to the count two before, in 5-bit groups offset by 48 (``'0'``).

All classes of a labels image are encoded from one pass over its runs (a class's runs are the
image's runs of that value, the gaps between them its background), not one scan per class.
"""

from __future__ import annotations

import numpy as np


def label_runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, starts, ends) of the column-major runs of a 2-D labels image."""
    flat = np.ascontiguousarray(labels.T).ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [flat.size]))
    return flat[starts], starts, ends


def class_counts(
    runs: tuple[np.ndarray, np.ndarray, np.ndarray], value: int, size: int
) -> np.ndarray:
    """The COCO counts of ``labels == value`` from the image's :func:`label_runs`: background,
    foreground, background, ... (the first may be 0), summing to ``size``."""
    values, starts, ends = runs
    mine = values == value
    s, e = starts[mine], ends[mine]
    # Neighbouring runs of the same value never occur, so every gap between two is background.
    bounds = np.empty(2 * len(s) + 2, np.int64)
    bounds[0], bounds[-1] = 0, size
    bounds[1:-1:2], bounds[2:-1:2] = s, e
    counts = np.diff(bounds)
    return counts[:-1] if len(s) and e[-1] == size else counts  # no trailing 0, as pycocotools


def encode_counts(counts: np.ndarray) -> str:
    """pycocotools' compressed string of ``counts``."""
    deltas = counts.astype(np.int64).copy()
    deltas[3:] -= counts[1:-2]  # from the fourth on, as pycocotools does (i > 2)
    out = bytearray()
    for x in deltas.tolist():
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append((c | 0x20 if more else c) + 48)
    return out.decode("ascii")


def decode_counts(text: str) -> np.ndarray:
    """The counts of a compressed string (the inverse of :func:`encode_counts`); ValueError
    for a string pycocotools could not have written."""
    counts: list[int] = []
    x = k = 0
    for byte in text.encode("ascii"):
        c = byte - 48
        if not 0 <= c < 64:
            raise ValueError(f"character {chr(byte)!r} is not in a COCO RLE string")
        x |= (c & 0x1F) << (5 * k)
        k += 1
        if not c & 0x20:
            if c & 0x10:
                x |= -1 << (5 * k)
            if len(counts) > 2:
                x += counts[-2]
            counts.append(x)
            x = k = 0
    if k:
        raise ValueError("the COCO RLE string ends inside a count")
    return np.asarray(counts, np.int64)


def counts_to_mask(counts: np.ndarray, height: int, width: int) -> np.ndarray:
    """The boolean mask of COCO counts (column-major); ValueError if they do not sum to its
    size or one is negative."""
    if (counts < 0).any() or int(counts.sum()) != height * width:
        raise ValueError(
            f"the run lengths sum to {int(counts.sum())}, not {height}x{width} = {height * width}"
        )
    flat = np.repeat(np.arange(len(counts)) % 2 == 1, counts)
    return flat.reshape(width, height).T
