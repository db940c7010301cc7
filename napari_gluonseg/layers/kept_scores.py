"""The scores a run kept for a napari labels layer, in the layer's metadata
(:data:`SCORES_KEY`), so every dock and the export see the same ones: where the run's image lies
in the layer (:class:`KeptScores`: its origin), attached after a run, read by the Correct dock,
the export and the reader.

Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.edits.merge import Region
from ..core.run.scores import ScoreGrid

SCORES_KEY = "napari_gluonseg_scores"


@dataclass(frozen=True)
class KeptScores:
    """A run's score grid and where its image starts in the layer (one offset per axis)."""

    grid: ScoreGrid
    origin: tuple[int, ...]

    def whole(self, shape: tuple[int, ...]) -> bool:
        """Whether the grid covers all of a layer of ``shape``."""
        grid = self.grid
        return not any(self.origin) and (*grid.leading_shape, *grid.image_shape) == tuple(shape)

    def covers(self, plane: tuple[int, ...], box: Region) -> tuple[tuple[int, ...], Region] | None:
        """(plane, box) in the grid's image for a layer ``plane`` and 2D ``box``, the box cut
        to what the grid covers; None where it covers none of it."""
        lead, (oy, ox) = self.origin[:-2], self.origin[-2:]
        rel = tuple(p - o for p, o in zip(plane, lead, strict=True))
        if any(not 0 <= r < n for r, n in zip(rel, self.grid.leading_shape, strict=True)):
            return None
        h, w = self.grid.image_shape
        y0, y1 = max(box[0].start - oy, 0), min(box[0].stop - oy, h)
        x0, x1 = max(box[1].start - ox, 0), min(box[1].stop - ox, w)
        if y0 >= y1 or x0 >= x1:
            return None
        return rel, (slice(y0, y1), slice(x0, x1))


def attach_scores(layer: Any, grid: ScoreGrid | None, origin: tuple[int, ...]) -> None:
    """Give ``layer`` the scores a run kept for it (None: forget earlier ones)."""
    meta = {k: v for k, v in layer.metadata.items() if k != SCORES_KEY}
    if grid is not None:
        meta[SCORES_KEY] = KeptScores(grid, tuple(int(o) for o in origin))
    layer.metadata = meta


def kept_scores(layer: Any) -> KeptScores | None:
    """The scores the layer's run kept (None: none kept, or forgotten)."""
    return layer.metadata.get(SCORES_KEY)
