"""Corrections in one gesture, from the scores a run kept: relabel a region (to a class picked
from :mod:`.likely`, the whole region or where the scores put the class), the class brush, and
clean speckles; then the write of any of them. Qt-free; each function says which pixels change
and to what, and the Correct dock (through ``layers/corrections.py``) and
``benchmarks/bench_corrections.py`` call the same functions with the same inputs.

A *region* is a connected component (4-connected) of equal label values in one plane: a
click floods it (:func:`region_at`); :class:`Components` labels them all at once, for cleaning
speckles. Pixels the person set by hand (``protected``: :mod:`.record` says which) are never
changed. Label value ``k + 1`` is class ``k`` (0 is unlabeled), as everywhere in the package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..run.scores import ScoreGrid
from .likely import class_probability, class_ratio
from .merge import Region

# A relabel that follows the scores, and the class brush where the class comes close: where the
# class is at least this many times as likely as the label there (benchmarks/bench_corrections.py:
# 0.25 left parts of wrong regions behind).
FOLLOW_RATIO = 0.05
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


def scored_relabel(
    scores: ScoreGrid,
    plane: tuple[int, ...],
    labels: np.ndarray,
    box: Region,
    mask: np.ndarray,
    class_index: int,
    point: tuple[int, int],
    ratio: float = FOLLOW_RATIO,
    protected: np.ndarray | None = None,
    whole_share: float = 0.8,
) -> Change:
    """A relabel that follows the scores: the region (``mask`` in ``box``) takes the class
    where the model finds it at least ``ratio`` times as likely as the label there
    (:func:`~.likely.class_ratio`); where that is under ``whole_share`` of the region (the scores
    disagree inside it: part of it is likely another object), only that part around the
    clicked ``point`` (its 4-connected piece holding the point, or all of it where the point is
    outside it) changes; otherwise the whole region, as :func:`relabel`.

    The click is the example: the class's ratio to the label must also be at least
    ``AS_AT_CLICK`` of its ratio at the ``point`` (so the clicked pixel sets how far the piece
    reaches). A semantic neighbour is a little likely all over a
    region (a wall is a little bit building everywhere), and a label set against the model (a
    correction) has the class ahead of it wherever the model still disagrees: the ratio alone
    would take the whole region there, where only the part like the click was meant.

    A class the scores do not know (another run's) has no ratio to follow: the whole region,
    as :func:`relabel`."""
    from scipy import ndimage

    if class_index not in scores.class_ids:
        return relabel(labels, box, mask, class_index + 1, protected)
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


def class_stroke(
    scores: ScoreGrid,
    plane: tuple[int, ...],
    labels: np.ndarray,
    box: Region,
    stroke: np.ndarray,
    class_index: int,
    threshold: float,
    ratio: bool,
    protected: np.ndarray | None = None,
) -> Change | None:
    """The class brush over ``stroke`` (a mask in ``box`` of the 2D ``labels`` the scores were
    kept for), painting class ``class_index``: where its probability reaches ``threshold``, or
    with ``ratio`` where it reaches ``threshold`` times the probability of the label there
    (:func:`~.likely.class_ratio`: a wrong label is the argmax, so the right class is below
    it). None where the scores do not know the class."""
    if class_index not in scores.class_ids:
        return None
    if ratio:
        score = class_ratio(scores, plane, class_index, box, labels[box])
    else:
        score = class_probability(scores, plane, class_index, box)
    return class_brush(labels, box, stroke, score, threshold, class_index + 1, protected)


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


def _four_neighbours(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


@dataclass(frozen=True)
class PreparedWrite:
    """An edit computed but not written: the pixels (index arrays into the labels), their new
    values, and the values they held when it was computed."""

    where: tuple[np.ndarray, ...]
    value: np.ndarray
    old: np.ndarray


def prepare_write(
    labels: np.ndarray, plane: tuple[int, ...], changes: list[Change]
) -> PreparedWrite | None:
    """The pixels ``changes`` (of ``plane`` of ``labels``) would change, as one write (None:
    none would). The dock writes it as one undoable edit; the benchmark's annotator writes the
    same pixels."""
    indices, values = [], []
    for change in changes:
        ys, xs = np.nonzero(change.mask)
        if ys.size:
            lead = [np.full(ys.size, p) for p in plane]
            indices.append((*lead, ys + change.box[0].start, xs + change.box[1].start))
            values.append(np.full(ys.size, change.value))
    if not indices:
        return None
    where = tuple(np.concatenate(axis) for axis in zip(*indices, strict=True))
    value = np.concatenate(values).astype(labels.dtype)
    old = labels[where]
    # A speckle may border one that already took its value: those pixels stay as they are.
    moved = old != value
    if not moved.any():
        return None
    return PreparedWrite(tuple(axis[moved] for axis in where), value[moved], old[moved])


def apply(labels: np.ndarray, changes: list[Change]) -> int:
    """Write ``changes`` into ``labels`` (in place, for scripts and tests; the dock writes the
    same :func:`prepare_write` as one undoable edit instead); returns the pixels changed."""
    prepared = prepare_write(labels, (), changes)
    if prepared is None:
        return 0
    labels[prepared.where] = prepared.value
    return int(prepared.value.size)
