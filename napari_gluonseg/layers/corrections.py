"""One-gesture corrections on a napari labels layer: :class:`LayerCorrector` reads the plane
shown, the scores its run kept (:mod:`.kept_scores`) and the pixels its edits keep
(:mod:`.hand_edits`), hands them as arrays to the rules of ``core/edits`` (the functions
``benchmarks/bench_corrections.py`` measures, with the same inputs), and writes what they
return as ONE undoable edit.

Qt-free (the dock in ``qt/correct_widget.py`` turns clicks and keys into these calls). What
lives here is the layer's side only: which plane, where the kept scores lie in the layer (their
origin), which pixels are protected, and the write.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.edits.corrections import (
    FOLLOW_RATIO,
    Change,
    Components,
    PreparedWrite,
    class_stroke,
    prepare_write,
    region_at,
    relabel,
    scored_relabel,
    speckles,
)
from ..core.edits.likely import MenuEntry, menu_classes, runner_up
from ..core.edits.merge import Region
from ..core.edits.record import KEPT_FROM_AUTOMATIC, KEPT_FROM_GESTURES
from ..core.edits.snap import CellEdges, snap_to_cells
from ..core.run.scores import ScoreGrid

# HAND_KEY, SCORES_KEY, KeptScores and attach_scores are still importable from here, as before
# the hand-edit tracker and the kept scores had modules of their own (_reader.py, docks and
# tests import them so).
from .hand_edits import HAND_KEY as HAND_KEY
from .hand_edits import hand_tracker
from .kept_scores import SCORES_KEY as SCORES_KEY
from .kept_scores import KeptScores as KeptScores
from .kept_scores import attach_scores as attach_scores
from .kept_scores import kept_scores

# The part of the kept scores under a region: the grid, the plane and the box in the grid's
# image, and the region's mask cut to that box.
Scored = tuple[ScoreGrid, tuple[int, ...], Region, np.ndarray]


class LayerCorrector:
    """One-gesture corrections of a labels layer, plane by plane (the plane shown)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.tracker = hand_tracker(layer)
        self._components: dict[tuple[int, ...], Components] = {}

    def labels(self, plane: tuple[int, ...]) -> np.ndarray:
        """The labels of ``plane`` (2D) as they are now."""
        return np.asarray(self.layer.data[plane])

    def components(self, plane: tuple[int, ...]) -> Components:
        """The plane's regions (for cleaning speckles), labelled again only when its labels
        changed (any way: gesture, brush, undo)."""
        labels = np.asarray(self.layer.data[plane])
        cached = self._components.get(plane)
        if cached is None or not np.array_equal(cached.labels, labels):
            cached = Components(labels.copy())
            self._components = {plane: cached}  # one plane at a time: bounded memory
        return cached

    def region_at(
        self, plane: tuple[int, ...], y: int, x: int, within: Region | None = None
    ) -> tuple[Region, np.ndarray]:
        """The connected region at (y, x) of ``plane``, cut to ``within`` (a 2D box) if given."""
        box, mask = region_at(self.labels(plane), y, x)
        if within is None:
            return box, mask
        cut = tuple(
            slice(max(b.start, w.start), max(min(b.stop, w.stop), max(b.start, w.start)))
            for b, w in zip(box, within, strict=True)
        )
        inner = tuple(
            slice(c.start - b.start, c.stop - b.start) for c, b in zip(cut, box, strict=True)
        )
        return cut, mask[inner]

    def _scored(self, plane: tuple[int, ...], box: Region, mask: np.ndarray) -> Scored | None:
        """The kept scores under the region (``mask`` in the layer ``box``); None where they
        cover none of it."""
        kept = kept_scores(self.layer)
        found = kept.covers(plane, box) if kept is not None else None
        if found is None or kept is None:
            return None
        rel, sub = found
        oy, ox = kept.origin[-2:]
        inner = tuple(
            slice(s.start + o - b.start, s.stop + o - b.start)
            for s, o, b in zip(sub, (oy, ox), box, strict=True)
        )
        part = mask[inner]
        return (kept.grid, rel, sub, part) if part.any() else None

    def _origin(self) -> tuple[int, int]:
        """Where the kept scores' image starts in the layer's planes."""
        kept = kept_scores(self.layer)
        assert kept is not None  # only asked once _scored found them
        oy, ox = kept.origin[-2:]
        return oy, ox

    def menu(
        self,
        plane: tuple[int, ...],
        box: Region,
        mask: np.ndarray,
        point: tuple[int, int],
        k: int = 5,
    ) -> list[MenuEntry]:
        """A click's menu at the layer pixel ``point``: (class, probability, only at the
        point), see :func:`~napari_gluonseg.core.edits.likely.menu_classes`; [] where no kept
        scores cover the region."""
        scored = self._scored(plane, box, mask)
        if scored is None:
            return []
        oy, ox = self._origin()
        return menu_classes(*scored, (point[0] - oy, point[1] - ox), k)

    def runner_up(self, plane: tuple[int, ...], box: Region, mask: np.ndarray) -> int | None:
        """The class the region would take with the runner-up key (None: scores know none)."""
        scored = self._scored(plane, box, mask)
        if scored is None:
            return None
        value = int(self.labels(plane)[box][mask][0])
        found = runner_up(*scored, value)
        return None if found is None else found[0]

    def relabel(
        self,
        plane: tuple[int, ...],
        box: Region,
        mask: np.ndarray,
        class_index: int,
        tool: str,
        threshold: float | None = None,
        follow: tuple[int, int] | None = None,
    ) -> int:
        """Give the region the class (with a ``threshold``: only its pixels where the kept
        probability of the class reaches it, as the class brush paints; with ``follow``, the
        clicked layer pixel: where the scores put the class, see :meth:`followed`); returns the
        pixels changed (one undoable edit)."""
        change = self.relabel_change(plane, box, mask, class_index, threshold, follow)
        return 0 if change is None else self.write(plane, [change], tool)

    def relabel_change(
        self,
        plane: tuple[int, ...],
        box: Region,
        mask: np.ndarray,
        class_index: int,
        threshold: float | None = None,
        follow: tuple[int, int] | None = None,
    ) -> Change | None:
        """What :meth:`relabel` would write, not written."""
        if follow is not None:
            return self.followed(plane, box, mask, class_index, follow)
        if threshold is None:
            return relabel(self.labels(plane), box, mask, class_index + 1, self._protected(plane))
        return self.class_stroke(plane, box, mask, class_index, threshold)

    def why_unchanged(
        self, plane: tuple[int, ...], box: Region, mask: np.ndarray, class_index: int
    ) -> str:
        """Why a gesture over the region changed no pixel, for the person who made it."""
        labels = self.labels(plane)[box][mask]
        protected = self._protected(plane)[box][mask]
        other = labels != class_index + 1
        if not other.any():
            return "the region already has that class"
        if protected[other].all():
            return (
                "the region was set by hand (napari's brush, fill or eraser), which these "
                "gestures never change: use napari's brush or fill there"
            )
        return "the kept scores do not put that class in this region"

    def followed(
        self,
        plane: tuple[int, ...],
        box: Region,
        mask: np.ndarray,
        class_index: int,
        point: tuple[int, int],
    ) -> Change | None:
        """A relabel that follows the scores
        (:func:`~napari_gluonseg.core.edits.corrections.scored_relabel`): the whole region where
        the class is likely over most of it, else the piece around ``point`` where it is; a
        plain relabel where the kept scores do not cover the whole layer."""
        kept = kept_scores(self.layer)
        labels = self.labels(plane)
        protected = self._protected(plane)
        if kept is None or not kept.whole(tuple(self.layer.data.shape)):
            return relabel(labels, box, mask, class_index + 1, protected)
        found = kept.covers(plane, box)
        rel = found[0] if found is not None else plane
        return scored_relabel(
            kept.grid, rel, labels, box, mask, class_index, point, FOLLOW_RATIO, protected
        )

    def speckles(self, plane: tuple[int, ...], min_size: int) -> list[Change]:
        """What cleaning speckles under ``min_size`` pixels would change (the preview)."""
        kept = kept_scores(self.layer)
        grid: ScoreGrid | None = None
        rel: tuple[int, ...] = ()
        whole = tuple(self.layer.data.shape[-2:])
        if kept is not None and kept.origin[-2:] == (0, 0) and kept.grid.image_shape == whole:
            found = kept.covers(plane, tuple(slice(0, n) for n in whole))
            if found is not None:  # the scores cover the whole plane: they choose among borders
                grid, rel = kept.grid, found[0]
        protected = self._protected(plane, automatic=True)
        return speckles(self.components(plane), min_size, protected, grid, rel)

    def snap(
        self, plane: tuple[int, ...], cells: np.ndarray, edges: CellEdges | None = None
    ) -> list[Change]:
        """What snapping the plane's labels to the superpixels ``cells`` would change (with
        their ``edges``: only at edges the image shows)."""
        protected = self._protected(plane, automatic=True)
        return snap_to_cells(self.labels(plane), cells, protected, edges=edges)

    def class_stroke(
        self,
        plane: tuple[int, ...],
        box: Region,
        stroke: np.ndarray,
        class_index: int,
        threshold: float,
        ratio: bool = False,
    ) -> Change | None:
        """The class brush over ``stroke`` (a mask in the layer ``box``; see
        :func:`~napari_gluonseg.core.edits.corrections.class_stroke`) over the part the kept
        scores cover: None where they cover none of it or do not know the class."""
        scored = self._scored(plane, box, stroke)
        if scored is None:
            return None
        grid, rel, sub, part = scored
        (oy, ox), (h, w) = self._origin(), grid.image_shape
        image = (slice(oy, oy + h), slice(ox, ox + w))  # the scores' image in the plane
        labels, protected = self.labels(plane)[image], self._protected(plane)[image]
        change = class_stroke(
            grid, rel, labels, sub, part, class_index, threshold, ratio, protected
        )
        if change is None:
            return None
        moved = (
            slice(sub[0].start + oy, sub[0].stop + oy),
            slice(sub[1].start + ox, sub[1].stop + ox),
        )
        return Change(moved, change.mask, change.value)

    def write(self, plane: tuple[int, ...], changes: list[Change], tool: str) -> int:
        """Write ``changes`` into the plane as ONE undoable edit by ``tool``; pixels changed."""
        prepared = self.prepare(plane, changes)
        changed = 0 if prepared is None else self.apply(prepared, tool)
        assert changed is not None  # prepared just now: nothing changed in between
        return changed

    def prepare(self, plane: tuple[int, ...], changes: list[Change]) -> PreparedWrite | None:
        """The pixels ``changes`` would change, ready for :meth:`apply` (None: none would;
        :func:`~napari_gluonseg.core.edits.corrections.prepare_write`). Any thread: the work
        of an edit but the write (3.5 MP: ~0.5 s of a 0.7 s gesture)."""
        return prepare_write(np.asarray(self.layer.data), plane, changes)

    def apply(self, prepared: PreparedWrite, tool: str) -> int | None:
        """Write a prepared edit as ONE undoable edit by ``tool``: the pixels changed, or None
        (nothing written) where any of them no longer holds what it held when prepared (an
        edit came in between: a stroke by hand is never overwritten)."""
        if not np.array_equal(np.asarray(self.layer.data)[prepared.where], prepared.old):
            return None
        with self.tracker.tool(tool), self.layer.block_history():
            self.layer.data_setitem(prepared.where, prepared.value)
        return int(prepared.value.size)

    def _protected(self, plane: tuple[int, ...], automatic: bool = False) -> np.ndarray:
        """What a gesture leaves alone: pixels set with napari's brush, fill or eraser (a class
        picked with a gesture may be picked again); with ``automatic`` (clean, snap: tools that
        decide alone), the classes picked with the dock too."""
        return self.tracker.mask(KEPT_FROM_AUTOMATIC if automatic else KEPT_FROM_GESTURES, plane)
