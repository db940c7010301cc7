"""Masks as polygons, one per connected part with its holes joined in, in the two conventions
the formats use:

- ``CENTRES`` (YOLO, and the tools that draw polygons with OpenCV's ``fillPoly``: Ultralytics,
  supervision, CVAT): vertices on the centres of the part's boundary pixels. Filled with the
  boundary drawn, such a ring gives the part back exactly, one-pixel-wide parts included
  (they become rings that go out and back along the part).
- ``CORNERS`` (COCO polygons, read by pycocotools, where pixel (x, y) covers [x, x+1)):
  vertices on the pixel edges between the part and what is around it, each corner cut by a
  quarter-pixel diagonal; a part one pixel wide keeps an area of half a pixel per pixel.

A hole is joined to its part by a cut of zero width from the part's outer vertex nearest to it
(as Ultralytics joins COCO's holes): one ring, filled by even-odd or winding alike.
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
    from scipy import ndimage
    from skimage.measure import find_contours

    parts, _ = ndimage.label(mask)  # 4-connected, as find_contours' "low" sees the mask
    padded = np.pad(mask.astype(np.float32), 1)
    rings_of: dict[int, list[np.ndarray]] = {}
    for contour in find_contours(padded, 0.5, fully_connected="low"):
        rc = contour[:-1] - 1.0  # closed (first == last); back to the mask's indices
        y, x = _pixel_inside(rc[:1], mask)[0]
        # The part a ring bounds is the part of the pixel it runs along: an outer ring first.
        ring_list = rings_of.setdefault(int(parts[y, x]), [])
        if _signed_area(rc) > 0:
            ring_list.insert(0, rc)
        else:
            ring_list.append(rc)
    rings = []
    for outer, *inner in rings_of.values():
        holes = [_in_convention(h, mask, convention) for h in inner]
        ring = _joined(_in_convention(outer, mask, convention), holes)
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
    centres = _pixel_inside(rc, mask).astype(np.float64)
    keep = np.any(centres != np.roll(centres, 1, axis=0), axis=1)
    return centres[keep] if keep.any() else centres[:1]


def _pixel_inside(rc: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """For each contour point (half-way between two pixels, one of the part and one not),
    the (row, column) of the part's pixel."""
    lo, hi = np.floor(rc).astype(np.int64), np.ceil(rc).astype(np.int64)
    h, w = mask.shape
    inside_lo = mask[np.clip(lo[:, 0], 0, h - 1), np.clip(lo[:, 1], 0, w - 1)]
    inside_lo &= (lo >= 0).all(axis=1)
    return np.where(inside_lo[:, None], lo, hi)


def _joined(outer: np.ndarray, holes: list[np.ndarray]) -> np.ndarray:
    """``outer`` with each hole spliced in at the outer vertex nearest to it (a cut of zero
    width out to the hole, round it, and back)."""
    if not holes:
        return outer
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
    """The ring without the vertices that lie on the straight line through their neighbours."""
    if len(ring) < 4:
        return ring
    before, after = np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0)
    a, b = ring - before, after - ring
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    same_way = (a * b).sum(axis=1) > 0
    keep = ~((np.abs(cross) < 1e-9) & same_way)
    return ring[keep] if keep.sum() >= 3 else ring
