"""Labels as polygons, one ring per connected part of a class with its holes joined in, in the
two conventions the formats use:

- ``CENTRES`` (YOLO, and the tools that draw polygons with OpenCV's ``fillPoly``: Ultralytics,
  supervision, CVAT): vertices on the centres of the part's boundary pixels. Filled with the
  boundary drawn, such a ring gives the part back exactly, one-pixel-wide parts included
  (they become rings that go out and back along the part).
- ``CORNERS`` (COCO polygons, read by pycocotools, where pixel (x, y) covers [x, x+1)):
  vertices on the pixel edges between the part and what is around it, each corner cut by a
  quarter-pixel diagonal; a part one pixel wide keeps an area of half a pixel per pixel.

The rings come from :mod:`.rings` (marching squares over every class at once, the points
``find_contours(mask, 0.5)`` gives). A hole is joined to its part by a cut of zero width from
the part's outer vertex nearest to it (as Ultralytics joins COCO's holes): one ring, filled by
even-odd or winding alike. Straight runs are kept as their two ends (the vertices dropped lie
exactly on the ring).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from .rings import ClassRings, class_rings


class Convention(StrEnum):
    CENTRES = "centres"
    CORNERS = "corners"


def class_polygons(labels: np.ndarray, convention: Convention) -> dict[int, list[np.ndarray]]:
    """For each value > 0 of a 2-D ``labels`` image, the rings (float64 (n, 2) arrays of x, y
    in pixels) of its 4-connected parts, holes joined in."""
    return {
        value: _polygons(found, labels, value, convention)
        for value, found in class_rings(labels).items()
    }


def _polygons(
    found: ClassRings, labels: np.ndarray, value: int, convention: Convention
) -> list[np.ndarray]:
    whole = _vertices(found, labels, value, convention)
    has_holes = np.zeros(len(whole.starts), bool)
    has_holes[whole.part[~whole.outer]] = True
    # Rings without holes lose their straight runs' inner points all at once; a part with holes
    # is joined first (the cut from a hole goes to the nearest of all its outline's points, so
    # it stays short and crosses nothing) and then loses them.
    simple = _straight_runs_dropped(whole, keep=has_holes | ~whole.outer)
    out = []
    for (outer, holes), (plain, _) in zip(whole.parts(), simple.parts(), strict=True):
        ring = _without_straight_runs(_joined(outer, holes)) if holes else plain
        ring = ring[:, ::-1]  # (x, y)
        # A part of one or two pixels: its vertices repeated up to the three a polygon needs.
        out.append(np.resize(ring, (3, 2)) if len(ring) < 3 else ring)
    return out


def _vertices(
    found: ClassRings, labels: np.ndarray, value: int, convention: Convention
) -> ClassRings:
    """The rings' points (half-way between a pixel of the part and one outside) moved to the
    convention's vertices, consecutive repeats dropped, every ring at once."""
    points = found.points
    ring = np.repeat(np.arange(len(found.starts)), np.diff(np.append(found.starts,
                                                                      len(points))))  # fmt: skip
    if convention is Convention.CORNERS:
        points = points + 0.5
    else:
        points = _inside_pixel(points, labels, value)
        points, ring = _drop(points, ring, np.all(points == points[_previous(ring)], axis=1))
    return ClassRings(points, _starts(ring), found.outer, found.part)


def _straight_runs_dropped(rings: ClassRings, keep: np.ndarray) -> ClassRings:
    """``rings`` without the points inside straight runs, but for the rings ``keep`` says."""
    points = rings.points
    ring = np.repeat(np.arange(len(rings.starts)), np.diff(np.append(rings.starts,
                                                                     len(points))))  # fmt: skip
    a = points - points[_previous(ring)]
    b = points[_following(ring)] - points
    straight = (np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) < 1e-9) & ((a * b).sum(1) > 0)
    points, ring = _drop(points, ring, straight & ~keep[ring], keep_at_least=3)
    return ClassRings(points, _starts(ring), rings.outer, rings.part)


def _inside_pixel(points: np.ndarray, labels: np.ndarray, value: int) -> np.ndarray:
    """For each point (half-way between two pixels, one of the part), the part's pixel."""
    lo, hi = np.floor(points).astype(np.int64), np.ceil(points).astype(np.int64)
    h, w = labels.shape
    inside = labels[np.clip(lo[:, 0], 0, h - 1), np.clip(lo[:, 1], 0, w - 1)] == value
    inside &= (lo >= 0).all(axis=1)
    return np.where(inside[:, None], lo, hi).astype(np.float64)


def _starts(ring: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.flatnonzero(np.diff(ring)) + 1))


def _previous(ring: np.ndarray) -> np.ndarray:
    """Each point's predecessor in its ring (the first's is the ring's last)."""
    starts = _starts(ring)
    ends = np.append(starts[1:], len(ring))
    previous = np.arange(len(ring)) - 1
    previous[starts] = ends - 1
    return previous


def _following(ring: np.ndarray) -> np.ndarray:
    starts = _starts(ring)
    ends = np.append(starts[1:], len(ring))
    following = np.arange(len(ring)) + 1
    following[ends - 1] = starts
    return following


def _drop(
    points: np.ndarray, ring: np.ndarray, drop: np.ndarray, keep_at_least: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The points not in ``drop``, a ring that would keep fewer than ``keep_at_least`` left
    as it was."""
    sizes = np.bincount(ring, minlength=int(ring[-1]) + 1 if len(ring) else 0)
    left = sizes - np.bincount(ring, weights=drop, minlength=len(sizes)).astype(np.int64)
    drop = drop & (left >= np.minimum(keep_at_least, sizes))[ring]
    return points[~drop], ring[~drop]


def _joined(outer: np.ndarray, holes: list[np.ndarray]) -> np.ndarray:
    """``outer`` with each hole spliced in at the outer vertex nearest to it (a cut of zero
    width out to the hole, round it, and back)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(outer)
    cuts = []
    for hole in holes:
        distance, nearest = tree.query(hole)
        j = int(np.argmin(distance))
        cuts.append((int(nearest[j]), j, hole))
    pieces, start = [], 0
    for i, j, hole in sorted(cuts, key=lambda c: c[0]):
        pieces += [outer[start : i + 1], hole[j:], hole[: j + 1]]
        start = i
    pieces.append(outer[start:])
    return np.concatenate(pieces)


def _without_straight_runs(ring: np.ndarray) -> np.ndarray:
    """One ring without the points inside straight runs (a joined ring: its cuts kept)."""
    if len(ring) < 4:
        return ring
    a = ring - np.roll(ring, 1, axis=0)
    b = np.roll(ring, -1, axis=0) - ring
    straight = (np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) < 1e-9) & ((a * b).sum(1) > 0)
    return ring[~straight] if (~straight).sum() >= 3 else ring
