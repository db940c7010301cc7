"""Marching squares over every class of a labels image at once, in numpy: each class's
boundary as closed rings of the points ``skimage.measure.find_contours(labels == v, 0.5)`` gives
(half-way between a pixel of the class and one not; the class's pixels 4-connected), told apart
into parts, each an outer ring and its holes.

Only the cells whose 2x2 labels differ are visited (1-2% of a photo's cells); each cell's
segments are linked into rings by sorting their ends, the rings put in order by pointer jumping,
and a hole given to its part by the ring met first to its left on a pixel row (the part's own
pixels lie between them). No Python loop runs over pixels or segments: a 12 MP image of 8
classes takes about half a second, where scikit-image's find_contours took two and a half.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# A cell's corners, clockwise: TL, TR, BR, BL; edge k runs from corner k to corner k + 1, and
# its midpoint on the doubled grid is MIDPOINT[k] + (2i, 2j) for cell (i, j) of the padded
# image. The ring leaves a cell by an edge whose first corner is inside and enters by one whose
# second is: each crossed edge is left by one cell and entered by the cell beside it.
MIDPOINT = np.array([(0, 1), (1, 2), (2, 1), (1, 0)], np.int64)


def _edge_tables() -> tuple[np.ndarray, np.ndarray]:
    """The entry and exit edge of each cell code (bit k: corner k inside) with one segment."""
    entry, exit_ = np.zeros(16, np.int64), np.zeros(16, np.int64)
    for code in range(16):
        inside = [bool(code >> k & 1) for k in range(4)]
        for k in range(4):
            if not inside[k] and inside[(k + 1) % 4]:
                entry[code] = k
            if inside[k] and not inside[(k + 1) % 4]:
                exit_[code] = k
    return entry, exit_


ENTRY, EXIT = _edge_tables()
SADDLES = (0b0101, 0b1010)  # TL and BR inside, or TR and BL: one segment per inside corner


@dataclass(frozen=True)
class ClassRings:
    """One class's rings: ``points`` (n, 2) row, column in the labels' indices, ring after
    ring (``starts``: where each begins), ``outer`` per ring, ``part`` per ring (the index of
    its part's outer ring). A hole ``k`` hangs on the ring met first to its left along a pixel
    row: ``cut[k]`` is (its own leftmost point, that ring's point), both global indices, the
    part's own pixels between them (-1 for outer rings)."""

    points: np.ndarray
    starts: np.ndarray
    outer: np.ndarray
    part: np.ndarray
    cut: np.ndarray

    def ring(self, k: int) -> np.ndarray:
        return self.points[self.starts[k] : self._end(k)]

    def _end(self, k: int) -> int:
        return int(self.starts[k + 1]) if k + 1 < len(self.starts) else len(self.points)

    def parts(self) -> Iterator[tuple[int, list[int]]]:
        """(outer ring, its holes) of each part, as ring numbers."""
        holes: dict[int, list[int]] = {}
        for k in np.flatnonzero(~self.outer).tolist():
            holes.setdefault(int(self.part[k]), []).append(k)
        for k in np.flatnonzero(self.outer).tolist():
            yield k, holes.get(k, [])

    def joined(self, outer: int, holes: list[int]) -> np.ndarray:
        """The part's outer ring with its holes spliced in along their cuts (each a zero-width
        horizontal cut through the part's own pixels: it crosses nothing), as points."""
        ring_of = np.searchsorted(self.starts, self.cut[holes, 1], side="right") - 1
        hanging: dict[int, list[int]] = {}
        for hole, parent in zip(holes, ring_of.tolist(), strict=True):
            hanging.setdefault(parent, []).append(hole)
        return self.points[self._walk(outer, int(self.starts[outer]), hanging)]

    def _walk(self, k: int, start: int, hanging: dict[int, list[int]]) -> np.ndarray:
        """Ring ``k``'s point indices from ``start`` round to ``start`` again (a hole's: back to
        its cut), each hole hanging on it walked where its cut meets it."""
        begin, end = int(self.starts[k]), self._end(k)
        around = np.concatenate((np.arange(start, end), np.arange(begin, start)))
        if not hanging.get(k):
            return around if self.outer[k] else np.append(around, start)
        where: dict[int, list[int]] = {}
        for h in hanging[k]:
            where.setdefault(int(self.cut[h, 1]), []).append(h)
        pieces, last = [], 0
        for n in np.flatnonzero(np.isin(around, list(where))).tolist():
            for hole in where[int(around[n])]:
                pieces += [around[last : n + 1], self._walk(hole, int(self.cut[hole, 0]), hanging)]
                last = n  # back along the cut to this point, then on
        pieces.append(around[last:])
        if not self.outer[k]:
            pieces.append(around[:1])  # a hole's walk ends where it began: back along its cut
        return np.concatenate(pieces)


def class_rings(labels: np.ndarray) -> dict[int, ClassRings]:
    """The rings of each value > 0 of a 2-D ``labels`` image."""
    cells = _boundary_cells(labels)
    values = np.unique(cells[2])
    return {int(v): _rings(*cells, int(v), labels.shape[1]) for v in values if v != 0}


def _boundary_cells(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, corners (n, 4) clockwise) of the cells of the padded image whose corners differ."""
    p = np.pad(labels, 1)
    tl, tr, br, bl = p[:-1, :-1], p[:-1, 1:], p[1:, 1:], p[1:, :-1]
    i, j = np.nonzero((tl != tr) | (tl != bl) | (tl != br))
    return i, j, np.stack([tl[i, j], tr[i, j], br[i, j], bl[i, j]], axis=1)


def _rings(i: np.ndarray, j: np.ndarray, corners: np.ndarray, value: int, width: int) -> ClassRings:
    code = np.zeros(len(i), np.uint8)
    for k in range(4):
        code |= (corners[:, k] == value).view(np.uint8) << k
    crossed = (code != 0) & (code != 15)
    i, j, code = i[crossed], j[crossed], code[crossed]
    entry, exit_, cell = _segments(code)
    following = _following(i, j, width, entry, exit_, cell)
    i, j = i[cell], j[cell]
    rows, cols = 2 * i + MIDPOINT[entry, 0], 2 * j + MIDPOINT[entry, 1]
    first = _smallest_in_cycle(following)
    order = _walk_order(first, _distance_to_cycle_end(following, first))
    rows, cols, ring = rows[order], cols[order], first[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ring)) + 1))
    points = np.stack([rows, cols], axis=1) / 2.0 - 1.0  # the padding's cell 0 is pixel -1
    outer = _signed_areas(points, starts) < 0  # the segments run clockwise round a part
    part, cut = _parts(points, starts, outer)
    return ClassRings(points, starts, outer, part, cut)


def _segments(code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry edge, exit edge, cell) of each segment; a saddle (two opposite corners inside)
    gives one per inside corner, the class's pixels touching only by a corner kept apart."""
    saddle = (code == SADDLES[0]) | (code == SADDLES[1])
    one = np.flatnonzero(~saddle)
    entries, exits, cells = [ENTRY[code[one]]], [EXIT[code[one]]], [one]
    for k in range(4):
        at = np.flatnonzero(saddle & (code >> k & 1 == 1))
        entries.append(np.full(len(at), (k - 1) % 4))
        exits.append(np.full(len(at), k))
        cells.append(at)
    return np.concatenate(entries), np.concatenate(exits), np.concatenate(cells)


# The cell a segment leaving by edge k goes on into (row, column step), and the edge it enters
# that cell by: the same edge, seen from the other side.
STEP = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)], np.int64)
OPPOSITE = np.array([2, 3, 0, 1], np.int64)  # top <-> bottom, right <-> left


def _following(
    i: np.ndarray,
    j: np.ndarray,
    width: int,
    entry: np.ndarray,
    exit_: np.ndarray,
    cell: np.ndarray,
) -> np.ndarray:
    """Each segment's successor: the segment of the cell it leaves into that enters by the
    edge it left by. The cells come from np.nonzero, so in row-major order: a binary search
    finds the neighbour, no sort needed."""
    keys = i * (width + 2) + j  # row-major, sorted
    seg_of = np.full(4 * len(i), -1, np.int64)
    seg_of[4 * cell + entry] = np.arange(len(cell))
    ni, nj = i[cell] + STEP[exit_, 0], j[cell] + STEP[exit_, 1]
    neighbour = np.searchsorted(keys, ni * (width + 2) + nj)
    return seg_of[4 * neighbour + OPPOSITE[exit_]]


def _walk_order(first: np.ndarray, to_last: np.ndarray) -> np.ndarray:
    """The segments ring after ring (by each ring's smallest index), each in walking order: a
    counting sort (each ring's place from its size, each segment's from its distance)."""
    n = len(first)
    sizes = np.bincount(first, minlength=n)
    offset = np.cumsum(sizes) - sizes  # where each ring (by its smallest index) begins
    place = offset[first] + sizes[first] - 1 - to_last
    order = np.empty(n, np.int64)
    order[place] = np.arange(n)
    return order


def _smallest_in_cycle(following: np.ndarray) -> np.ndarray:
    """Each element's cycle's smallest index (pointer jumping: the window doubles each step;
    a step that changes nothing means every cycle already fits in the window)."""
    smallest, jump = np.arange(len(following)), following.copy()
    for _ in range(max(len(following), 1).bit_length() + 1):
        nxt = np.minimum(smallest, smallest[jump])
        if np.array_equal(nxt, smallest):
            break
        smallest, jump = nxt, jump[jump]
    return smallest


def _distance_to_cycle_end(following: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Steps from each element to its cycle's last (the one before ``first``): list ranking,
    until every element's pointer has reached its cycle's last."""
    n = len(following)
    last = following == first
    steps = np.where(last, 0, 1)
    nxt = np.where(last, np.arange(n), following)
    for _ in range(max(n, 1).bit_length() + 1):
        if last[nxt].all():
            break
        steps = steps + steps[nxt]
        nxt = nxt[nxt]
    return steps


def _signed_areas(points: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each ring's signed area (shoelace)."""
    ends = np.append(starts[1:], len(points))
    following = np.arange(1, len(points) + 1)
    following[ends - 1] = starts  # a ring's last point is followed by its first
    y, x = points[:, 0], points[:, 1]
    terms = x * y[following] - x[following] * y
    return 0.5 * np.add.reduceat(terms, starts)


def _parts(
    points: np.ndarray, starts: np.ndarray, outer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The outer ring of each ring's part, and each hole's cut (see :class:`ClassRings`). A
    hole's leftmost crossing of a pixel row has its part's pixels to its left up to the next
    ring met, which bounds the same part (its outer ring, or another of its holes, whose own
    leftmost crossing lies further left)."""
    part = np.arange(len(starts))
    cut = np.full((len(starts), 2), -1, np.int64)
    if outer.all():
        return part, cut
    ring = np.repeat(part, np.diff(np.append(starts, len(points))))
    on_row = np.flatnonzero(points[:, 0] == np.round(points[:, 0]))  # crossings of pixel rows
    stride = 2 * points[:, 1].max() + 8
    keys = points[on_row, 0] * stride + points[on_row, 1]  # row-major: (row, column)
    by_key = np.argsort(keys)
    leftmost = np.lexsort((points[on_row, 1], ring[on_row]))  # by ring, then column
    firsts = leftmost[np.searchsorted(ring[on_row][leftmost], part)]  # each ring's leftmost
    holes = np.flatnonzero(~outer)
    left = by_key[np.searchsorted(keys[by_key], keys[firsts[holes]]) - 1]
    cut[holes, 0], cut[holes, 1] = on_row[firsts[holes]], on_row[left]
    part[holes] = ring[on_row[left]]
    for _ in range(len(starts)):  # a hole's chain of holes leads to its part's outer ring
        if outer[part].all():
            return part, cut
        part = np.where(outer[part], part, part[part])
    raise AssertionError("a hole whose part has no outer ring")  # never: rings are closed
