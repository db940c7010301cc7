"""Writing new labels into labels someone has already worked on, without destroying their work.

``fill_unlabeled`` writes only pixels that are still 0 (unlabeled); every non-zero pixel stays
exactly as it was. ``overwrite`` replaces everything inside the region (an explicit choice).
Nothing outside the region ever changes. The changes come back as (indices, values), so the
viewer can apply them as one undoable edit.
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError

MODES = ("fill_unlabeled", "overwrite")

Region = tuple[slice, ...]


def region_slices(shape: tuple[int, ...], region: Region | None) -> Region:
    """``region`` made explicit and clipped to ``shape`` (None: everything)."""
    if region is None:
        return tuple(slice(0, n) for n in shape)
    if len(region) != len(shape):
        raise OptionError(f"A region of {len(region)} axes for labels of shape {shape}.")
    out = []
    for s, n in zip(region, shape, strict=True):
        start, stop, _ = s.indices(n)
        if stop <= start:
            raise OptionError("The region is empty or outside the labels.")
        out.append(slice(start, stop))
    return tuple(out)


def merge_changes(
    existing: np.ndarray, new: np.ndarray, region: Region | None, mode: str = "fill_unlabeled"
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The pixels to change in ``existing`` to merge ``new`` (the labels of ``region``).

    Returns (indices into ``existing``, new values): only pixels whose value actually changes.
    """
    if mode not in MODES:
        raise OptionError(f"Unknown mode {mode!r}; valid modes: {', '.join(MODES)}.")
    region = region_slices(existing.shape, region)
    window = existing[region]
    if window.shape != new.shape:
        raise OptionError(
            f"New labels of shape {new.shape} do not fit the region of shape {window.shape}."
        )
    if np.asarray(new).max(initial=0) > np.iinfo(existing.dtype).max:
        raise OptionError(
            f"Label values up to {int(new.max())} do not fit the labels layer's {existing.dtype}."
        )
    change = window != new
    if mode == "fill_unlabeled":
        change &= window == 0
    local = np.nonzero(change)
    indices = tuple(i + s.start for i, s in zip(local, region, strict=True))
    return indices, np.asarray(new)[local].astype(existing.dtype)


def merged(
    existing: np.ndarray, new: np.ndarray, region: Region | None, mode: str = "fill_unlabeled"
) -> np.ndarray:
    """A copy of ``existing`` with ``new`` merged in (see :func:`merge_changes`)."""
    out = np.array(existing, copy=True)
    indices, values = merge_changes(existing, new, region, mode)
    out[indices] = values
    return out
