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
``find_contours(mask, 0.5)`` gives). A hole is joined to its part by a cut of zero width along a
pixel row, from its leftmost point to the ring met first on its left (the part's own pixels lie
between: the cut crosses nothing; Ultralytics joins COCO's holes by cuts too): one ring, filled
by even-odd or winding alike. Straight runs are kept as their two ends (the vertices dropped lie
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
    parts = list(found.parts())
    # A part with holes is joined along its cuts first; then every part's ring is moved to the
    # convention's vertices, all at once.
    rings = [found.joined(outer, holes) if holes else found.ring(outer) for outer, holes in parts]
    if not rings:
        return []
    starts = np.cumsum([0] + [len(r) for r in rings[:-1]])
    out = []
    for ring in _vertices(np.concatenate(rings), starts, labels, value, convention):
        ring = ring[:, ::-1]  # (x, y)
        # A part of one or two pixels: its vertices repeated up to the three a polygon needs.
        out.append(np.resize(ring, (3, 2)) if len(ring) < 3 else ring)
    return out


def _vertices(
    points: np.ndarray, starts: np.ndarray, labels: np.ndarray, value: int, convention: Convention
) -> list[np.ndarray]:
    """Rings of points (half-way between a pixel of the part and one outside) moved to the
    convention's vertices, consecutive repeats and the points inside straight runs dropped,
    every ring at once."""
    ring = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(points))))
    if convention is Convention.CORNERS:
        points = points + 0.5
    else:
        points = _inside_pixel(points, labels, value)
        points, ring = _drop(points, ring, np.all(points == points[_previous(ring)], axis=1))
    a = points - points[_previous(ring)]
    b = points[_following(ring)] - points
    straight = (np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) < 1e-9) & ((a * b).sum(1) > 0)
    points, ring = _drop(points, ring, straight, keep_at_least=3)
    return np.split(points, _starts(ring)[1:])


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
    left = sizes - np.bincount(ring[drop], minlength=len(sizes))
    drop = drop & (left >= np.minimum(keep_at_least, sizes))[ring]
    return points[~drop], ring[~drop]
