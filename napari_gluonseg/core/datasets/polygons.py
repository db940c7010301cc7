"""Masks as polygons, one per connected part with its holes joined in, in the two conventions
the formats use:

- ``CENTRES`` (YOLO, and the tools that draw polygons with OpenCV's ``fillPoly``: Ultralytics,
  supervision, CVAT): vertices on the centres of the part's boundary pixels. Filled with the
  boundary drawn, such a ring gives the part back exactly, one-pixel-wide parts included
  (they become rings that go out and back along the part).
- ``CORNERS`` (COCO polygons, read by pycocotools, where pixel (x, y) covers [x, x+1)):
  vertices on the pixel edges between the part and what is around it, each corner cut by a
  quarter-pixel diagonal; a part one pixel wide keeps an area of half a pixel per pixel.

A hole is joined to its part by a cut of zero width from the hole's vertex nearest the part's
boundary (as Ultralytics joins COCO's holes): one ring, filled by even-odd or winding alike.
Straight runs are kept as their two ends (the vertices dropped lie exactly on the ring).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np


class Convention(StrEnum):
    CENTRES = "centres"
    CORNERS = "corners"


def part_polygons(mask: np.ndarray, convention: Convention) -> list[np.ndarray]:
    """The rings (float64 (n, 2) arrays of x, y in pixels) of the 4-connected parts of a
    boolean ``mask``, holes joined in."""
    from skimage.measure import find_contours, points_in_poly

    padded = np.pad(mask.astype(np.float32), 1)
    outers: list[np.ndarray] = []
    holes: list[np.ndarray] = []
    for contour in find_contours(padded, 0.5, fully_connected="low"):
        rc = contour[:-1] - 1.0  # closed (first == last); back to the mask's indices
        (outers if _signed_area(rc) > 0 else holes).append(rc)
    parts: list[list[np.ndarray]] = [[o] for o in outers]
    for hole in holes:
        inside = [i for i, o in enumerate(outers) if points_in_poly(hole[:1], o)[0]]
        if inside:  # the smallest part around it: a hole of a part inside another's hole
            parts[min(inside, key=lambda i: abs(_signed_area(outers[i])))].append(hole)
    rings = []
    for outer, *inner in parts:
        ring = _in_convention(outer, mask, convention)
        for hole in sorted(inner, key=lambda h: h[:, 0].min()):
            ring = _join(ring, _in_convention(hole, mask, convention))
        ring = _without_straight_runs(ring)[:, ::-1]  # (x, y)
        # A part of one or two pixels: its vertices repeated up to the three a polygon needs.
        rings.append(np.resize(ring, (3, 2)) if len(ring) < 3 else ring)
    return rings


def _signed_area(rc: np.ndarray) -> float:
    y, x = rc[:, 0], rc[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _in_convention(rc: np.ndarray, mask: np.ndarray, convention: Convention) -> np.ndarray:
    """A contour of find_contours (points half-way between a pixel of the part and one
    outside) moved to the convention's vertices."""
    if convention is Convention.CORNERS:
        return rc + 0.5
    lo, hi = np.floor(rc).astype(np.int64), np.ceil(rc).astype(np.int64)
    h, w = mask.shape
    inside_lo = mask[np.clip(lo[:, 0], 0, h - 1), np.clip(lo[:, 1], 0, w - 1)]
    inside_lo &= (lo >= 0).all(axis=1)
    centres = np.where(inside_lo[:, None], lo, hi).astype(np.float64)
    keep = np.any(centres != np.roll(centres, 1, axis=0), axis=1)
    return centres[keep] if keep.any() else centres[:1]


def _join(ring: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``ring`` with ``hole`` spliced in at their nearest vertices (a cut of zero width)."""
    best = (np.inf, 0, 0)
    for start in range(0, len(hole), 4096):  # bounded memory for long rings
        d = ((ring[:, None, :] - hole[None, start : start + 4096, :]) ** 2).sum(-1)
        near = np.unravel_index(int(d.argmin()), d.shape)
        if d[near] < best[0]:
            best = (float(d[near]), int(near[0]), int(near[1]) + start)
    _, i, j = best
    hole_loop = np.concatenate((hole[j:], hole[: j + 1]))
    return np.concatenate((ring[: i + 1], hole_loop, ring[i:]))


def _without_straight_runs(ring: np.ndarray) -> np.ndarray:
    """The ring without the vertices that lie on the straight line through their neighbours."""
    if len(ring) < 4:
        return ring
    before, after = np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0)
    a, b = ring - before, after - ring
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    same_way = (a * b).sum(axis=1) > 0
    keep = ~((np.abs(cross) < 1e-9) & same_way)
    return ring[keep] if keep.sum() >= 3 else ring
