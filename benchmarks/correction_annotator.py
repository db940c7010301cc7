"""The simulated annotator of ``bench_corrections.py``: a person correcting a pre-annotation with
napari's brush and fill, and with some of the tools of the Correct dock, by stated policies,
paying for every try, every undo and every look at a result.

The tools are the dock's own functions (``core/edits``), called with the inputs the dock's
``LayerCorrector`` passes them at its defaults: the menu :func:`menu_classes`, the relabel that
follows the scores :func:`scored_relabel` (after a menu pick and after R), the runner-up
:func:`runner_up`, the class brush where the class comes close :func:`class_stroke`, clean
:func:`speckles`, snap :func:`snap_to_cells`, each written as the dock writes it
(:func:`prepare_write`) and kept from later tools as the dock's edit record keeps it. Only the
write itself differs: into an array here, as one undoable napari edit there.

What the person knows. They see the image, the labels over it, the tools' menus and results,
and they recognise the right class of what they look at: the simulation reads the ground truth
for that only, to see which pixels are wrong (wrong patches of 4 px or more; a patch is a
connected piece of wrong pixels of one true class), to recognise the right class in a menu,
and to judge a result they look at (better: more pixels right than before). It never reads
the truth to choose which tool to try, and never knows a result before taking it.

The policies. First the tools that fix the whole plane in one press (where the person has
them): snap to edges, look at the whole plane, undo if worse; then clean speckles under 64 px
(the dock's default), the same. Then the wrong patches, largest first: scan after scan, each
fixing the patches of 256 px or more (largest first; a patch changed during a scan waits for
the next, as a person looks again), until a scan finds nothing to do or after 6 scans (a
careful stroke can spill and make a new patch: the smaller stages often end there); then snap
and clean again; then the same down to 64 px, 16 px and 4 px (smaller patches by size, class
by class within a size, one label pick per class). A patch:
- a region that looks wrong all over (the patch is 80% or more of the labels' region under
  it): with the runner-up key, press it (the cursor on the patch) and look; if the region
  is still wrong, with the menu, ctrl+click, read the list, and click the right class where
  listed (else Escape); otherwise pick the label and fill (1 click);
- part of a region wrong (under 80% of it, 256 px or more, 16 px wide or more: a part of an
  object, not a sliver along a boundary): with the menu, ctrl+click in the patch, read the
  list, click the right class where listed (a relabel that follows the scores,
  :func:`scored_relabel`), look, and undo if it got worse; otherwise (or the class not listed)
  with the class brush, sweep it (look, undo if worse); else brush it;
- anything else (boundaries, speckles), and what a tool left: brush it; a tool tried on a
  patch is not tried again there.
The brush: the largest of radius 3, 8, 20 that fits the patch (a size change is a click);
the careful path keeps the disc inside the true region, rows ``2 r`` apart, the skeleton where
the region is narrower than the brush, drawn up to r / 3 px off, 2 at most (smooth, seeded); one
stroke per 300 px of path. The class brush is drawn broader and faster: along the patch's
skeleton with the largest brush, painting where the class is at least ``RATIO`` (the dock's
``FOLLOW_RATIO``, 0.05) times as likely as the label there; the scored relabel reads the same
ratio (and 1/4 of the click's, ``AS_AT_CLICK``).

What a person pays for, and misses. A brush path that keeps the disc's edge on the true
boundary (and the skeleton of a region narrower than the brush, where it spills) is drawn at
``CAREFUL_SPEED``, the rest of a path (rows inside a region, the class brush's sweep) at
``SWEEP_SPEED``. A look over the whole plane (after snap or clean) notices each changed patch
with probability ``1 - PLANE_MISS`` (seeded) and judges by those it noticed: it may keep a
result that made things worse, or undo one that helped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from correction_task import Task, noise_scores, shuffled_scores, smooth_noise
from scipy import ndimage

from napari_gluonseg.core.edits.corrections import (
    FOLLOW_RATIO,
    Change,
    Components,
    class_stroke,
    prepare_write,
    region_at,
    scored_relabel,
    speckles,
)
from napari_gluonseg.core.edits.likely import menu_classes, runner_up
from napari_gluonseg.core.edits.record import KEPT_FROM_AUTOMATIC, KEPT_FROM_GESTURES, EditRecord
from napari_gluonseg.core.edits.snap import snap_to_cells

TARGETS = (0.95, 0.98, 0.995)
# Seconds per action (chosen, not measured): a click with the pointer moved to it, a key, a
# label picked among 150 (the dock's list or napari's spin box), a stroke's start, a look at a
# result or a menu, and a look over the whole plane; a stroke's path is paid by its speed below.
SECONDS = {"click": 1.0, "key": 0.5, "pick": 2.0, "stroke": 1.0, "look": 1.0, "plane": 3.0}
# px/s of a stroke's path. The steering law (Accot and Zhai, CHI 1997: T = a + b * length /
# width) makes the speed of a drag grow with the width of the tunnel it must stay in. A sweep
# (the class brush along a skeleton, a row inside a region) stays in a tunnel about the brush's
# width (16-40 px); a stroke that keeps the disc's edge on a boundary, within the 2 px a hand
# wanders here, in one of about 4 px: 4-10x narrower. The careful speed is taken at half the
# sweep's only, the low end, so as not to charge brush + fill (whose strokes follow the most
# boundary) more than the law suggests. Chosen, not measured.
SWEEP_SPEED = 150.0
CAREFUL_SPEED = SWEEP_SPEED / 2
# The share of the changed patches a 3 s look over the whole plane does not notice (each one
# drawn alone, seeded): after snap or clean, a few hundred slivers and speckles change at
# once, too many to check one by one in a glance. Chosen, not measured.
PLANE_MISS = 0.3
KIND = {"pick label": "pick", "runner-up key": "key", "escape": "key", "undo": "key"}
# Each action's tool as the dock's edit record names it: its kind (napari's brush and fill are
# the person's own, kept from every gesture; a class picked with the dock may be picked again;
# snap and clean decide alone) is the dock's (core/edits/record.py).
RECORD_TOOL = {"fill": "fill", "brush stroke": "paint", "menu choice": "relabel",
               "runner-up key": "runner-up", "class brush stroke": "class brush",
               "snap": "snap", "clean": "clean"}  # fmt: skip
STROKE_LENGTH = 300
RADII = (3, 8, 20)
JITTER = 2.0
JITTER_CELL = 16
WHOLE_SHARE = 0.8
PART_MIN = 256
PART_WIDTH = 16  # px: a part of an object, not a sliver along a boundary
MIN_SEEN = 4
RATIO = FOLLOW_RATIO  # the dock's (0.25 left whole regions half done)
CLEAN_SIZE = 64
MAX_SCANS = 6  # per floor
FLOORS = (PART_MIN, 64, 16, MIN_SEEN)  # px: the smallest patch a scan fixes, in turn


@dataclass(frozen=True)
class Tools:
    """Which tools the person has (none: napari's brush and fill), and whether the tools read
    noise instead of the model's scores, or argmax-consistent noise (``shuffled``: the same top
    class and probability at each grid point, the others' probabilities shuffled among them):
    the must-fail controls."""

    runner_up: bool = False
    menu: bool = False
    class_brush: bool = False
    clean: bool = False
    snap: bool = False
    noise: bool = False
    shuffled: bool = False


@dataclass
class Patch:
    box: tuple[slice, slice]
    mask: np.ndarray
    value: int  # the true label value
    point: tuple[int, int]  # where a person clicks: its deepest pixel
    width: float  # twice its deepest pixel's distance to its edge


@dataclass
class Annotator:
    task: Task
    tools: Tools
    seed: int = 0
    ratio: float = RATIO  # the class ratio the scored relabel and the class brush paint from
    counts: dict[str, int] = field(default_factory=dict)
    looks: int = 0
    seconds: float = 0.0
    reached: dict[float, tuple[int, float]] = field(default_factory=dict)
    fixed_by: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)  # the actions in order (strokes as one)

    def __post_init__(self) -> None:
        self.labels = self.task.pre.copy()
        self.gt = self.task.gt
        self.scores = self.task.scores
        if self.tools.noise:
            self.scores = noise_scores(np.random.default_rng((self.seed, 2)), self.scores)
        if self.tools.shuffled:
            self.scores = shuffled_scores(np.random.default_rng((self.seed, 3)), self.scores)
        self.glances = np.random.default_rng((self.seed, 4))  # what a look over the plane misses
        self.edits = EditRecord(self.labels.shape, self.labels.dtype)
        self.tried = np.zeros(self.labels.shape, bool)
        self.selected, self.radius = 1, 5  # napari's defaults: label 1, brush size 10
        self.correct = int((self.labels == self.gt).sum())
        self.dirty = np.zeros(self.labels.shape, bool)  # changed since the last scan
        self._reach()

    @property
    def accuracy(self) -> float:
        return self.correct / self.gt.size

    @property
    def actions(self) -> int:
        return sum(self.counts.values())

    def run(self) -> Annotator:
        """Snap and clean, then scan and fix, the largest errors first: the patches of each
        size in ``FLOORS`` or more, scan after scan until a scan finds nothing to do (at most
        ``MAX_SCANS``), then snap and clean again; then the next size down, until the last
        target is reached."""
        self._global_tools()
        for floor in FLOORS:
            for _ in range(MAX_SCANS):
                if self.done or not self._scan(floor):
                    break
            if self.done:
                break
            self._global_tools()
        return self

    @property
    def done(self) -> bool:
        return self.accuracy >= TARGETS[-1]

    # -- paying

    def _pay(self, action: str, n: int = 1) -> None:
        self.log.append(action)
        self.counts[action] = self.counts.get(action, 0) + n
        self.seconds += n * SECONDS[KIND.get(action, "click")]

    def _look(self, plane: bool = False) -> None:
        self.looks += 1
        self.seconds += SECONDS["plane" if plane else "look"]

    def _reach(self) -> None:
        for target in TARGETS:
            if target not in self.reached and self.accuracy >= target:
                self.reached[target] = (self.actions, self.seconds)

    def _write(self, tool: str, changes: list[Change]) -> np.ndarray:
        """Write ``changes`` as the dock writes a gesture (:func:`prepare_write`: the pixels
        that change, in one write), recording it as the dock's tracker does; returns the labels
        before, to undo."""
        before = self.labels.copy()
        prepared = prepare_write(self.labels, (), changes)
        gain = 0
        if prepared is not None:
            where, value = prepared.where, prepared.value
            truth = self.gt[where]
            gain = int((value == truth).sum()) - int((prepared.old == truth).sum())
            self.edits.record(RECORD_TOOL[tool], where, None, value)
            self.dirty[where] = True
            self.labels[where] = value
        self.correct += gain
        self.fixed_by[tool] = self.fixed_by.get(tool, 0) + gain
        return before

    def _worse(self, before: np.ndarray, plane: bool = False) -> bool:
        """Look at the result (a person recognises right labels): fewer right than before? Over
        the whole ``plane``, judged on the changed patches the look noticed (``PLANE_MISS``)."""
        self._look(plane)
        if not plane:
            return self.correct < int((before == self.gt).sum())
        changed = before != self.labels
        ids, n = ndimage.label(changed, np.ones((3, 3), bool))
        gain = (self.labels == self.gt).astype(np.int64) - (before == self.gt)
        per_patch = np.bincount(ids[changed], gain[changed], minlength=n + 1)[1:]
        noticed = self.glances.random(n) >= PLANE_MISS
        return bool(per_patch[noticed].sum() < 0)

    def _undo(self, before: np.ndarray, tool: str) -> None:
        self._pay("undo")
        now = int((before == self.gt).sum())
        self.fixed_by[tool] = self.fixed_by.get(tool, 0) + now - self.correct
        self.labels[:] = before
        self.correct = now

    # -- what the person sees and does

    def _scan(self, smallest: int) -> bool:
        """Fix every wrong patch of ``smallest`` px or more in sight: the patches of
        ``PART_MIN`` px or more largest first, then the rest by size (tiers 4x apart), class
        by class within a tier (one label pick per class), largest first; a patch changed since
        the scan waits for the next."""
        from skimage.measure import label

        wrong = np.where(self.labels != self.gt, self.gt, 0)
        ids = label(wrong, background=0, connectivity=2)
        sizes = np.bincount(ids.ravel())[1:]
        boxes = ndimage.find_objects(ids)
        values = np.zeros(len(sizes), np.int64)
        values[ids[ids > 0] - 1] = wrong[ids > 0]
        tier = np.floor(np.log2(np.maximum(sizes, 1)) / 2)  # sizes 4x apart: one tier
        big = sizes >= PART_MIN
        order = np.lexsort((-sizes, np.where(big, 0, values), -np.where(big, 99, tier)))
        self.dirty = np.zeros(self.labels.shape, bool)
        acted = False
        for i in order:
            if sizes[i] < smallest or self.done:
                continue
            box = boxes[i]
            mask = ids[box] == i + 1
            if self.dirty[box][mask].any():
                continue
            self._fix(_patch(box, mask, int(values[i])))
            acted = True
            self._reach()
        return acted

    def _fix(self, p: Patch) -> None:
        rbox, rmask = region_at(self.labels, *p.point)
        share = np.count_nonzero(rmask & (self.gt[rbox] == p.value)) / rmask.sum()
        fresh = not self.tried[p.point]
        self.tried[p.box] |= p.mask
        if share >= WHOLE_SHARE:
            done = fresh and self._runner_up(p, rbox, rmask)
            done = done or (fresh and self._menu(p, rbox, rmask, whole=True))
            if not done:
                self._pick(p.value)
                self._pay("fill")
                self._write("fill", [Change(rbox, rmask, p.value)])
        elif p.mask.sum() < PART_MIN or p.width < PART_WIDTH or not fresh:
            self._brush(p)
        elif not self._menu(p, rbox, rmask, whole=False):
            self._class_stroke(p) if self.tools.class_brush else self._brush(p)

    def _runner_up(self, p: Patch, box, mask) -> bool:
        """R with the cursor on the patch: the runner-up class, relabelled as the dock's
        default relabel does (where the scores put it, the cursor's pixel the example)."""
        if not self.tools.runner_up:
            return False
        self._pay("runner-up key")
        value = int(self.labels[p.point])
        found = runner_up(self.scores, (), box, mask, value)
        if found is not None:
            change = scored_relabel(self.scores, (), self.labels, box, mask, found[0], p.point,
                                    self.ratio, self._kept())  # fmt: skip
            self._write("runner-up key", [change])
        self._look()
        return bool(np.mean(self.labels[box][mask] == p.value) > 0.5)  # the region looks right

    def _menu(self, p: Patch, box, mask, whole: bool) -> bool:
        """Ctrl+click, read the list; the right class where it is listed (else Escape). The
        result is looked at, and undone if worse, unless the ``whole`` region was meant and the
        whole region changed (as a fill)."""
        if not self.tools.menu:
            return False
        self._pay("menu")
        self._look()
        listed = menu_classes(self.scores, (), box, mask, p.point)  # the dock's menu
        if p.value - 1 not in [k for k, _, _ in listed]:
            self._pay("escape")
            return False
        self._pay("menu choice")
        change = scored_relabel(self.scores, (), self.labels, box, mask, p.value - 1, p.point,
                                self.ratio, self._kept())  # fmt: skip
        before = self._write("menu choice", [change])
        part = change.pixels < np.count_nonzero(mask & (before[box] != p.value))
        if (part or not whole) and self._worse(before):  # not foreseen, so looked at
            self._undo(before, "menu choice")
        return True

    def _pick(self, value: int) -> None:
        if value != self.selected:
            self._pay("pick label")
            self.selected = value

    def _size(self, radius: int) -> None:
        if radius != self.radius:
            self._pay("brush size")
            self.radius = radius

    def _brush(self, p: Patch) -> None:
        radius = max([r for r in RADII if 2 * r <= p.width] or [RADII[0]])
        self._pick(p.value)
        self._size(radius)
        at, path, careful = self._intended(p, radius)
        self._stroke("brush stroke", at, path, radius, p.value, int(careful.sum()))

    def _class_stroke(self, p: Patch) -> None:
        """A sweep along the patch's skeleton with the largest brush, where the class is
        likely; look, undo if worse."""
        radius = RADII[-1]
        self._pick(p.value)
        self._size(radius)
        from skimage.morphology import skeletonize

        path = skeletonize(p.mask)
        before = self._stroke("class brush stroke", p.box, path if path.any() else p.mask,
                              radius, p.value)  # fmt: skip
        if self._worse(before):
            self._undo(before, "class brush stroke")

    def _stroke(
        self, tool: str, where, path: np.ndarray, radius: int, value: int, careful: int = 0
    ) -> np.ndarray:
        """Draw ``path`` (within ``where``) with a disc of ``radius``, as a hand draws it; its
        ``careful`` px (along a boundary) at ``CAREFUL_SPEED``, the rest at ``SWEEP_SPEED``."""
        length = int(path.sum())
        strokes = max(1, -(-length // STROKE_LENGTH))
        self.log.append(tool)
        self.counts[tool] = self.counts.get(tool, 0) + strokes
        self.seconds += strokes * SECONDS["stroke"] + careful / CAREFUL_SPEED
        self.seconds += (length - careful) / SWEEP_SPEED
        at, drawn = self._drawn(where, path, value, min(JITTER, radius / 3))
        box = _grow(at, radius, self.labels.shape)
        on_path = np.zeros([b.stop - b.start for b in box], bool)
        on_path[_inside(at, box)] = drawn
        disc = ndimage.distance_transform_edt(~on_path) <= radius + 0.5
        if tool == "brush stroke":
            return self._write(tool, [Change(box, disc, value)])
        # The dock's class brush, "where the class comes close" (its default).
        change = class_stroke(self.scores, (), self.labels, box, disc, value - 1, self.ratio,
                              True, self._kept())  # fmt: skip
        return self._write(tool, [] if change is None else [change])

    def _kept(self, automatic: bool = False) -> np.ndarray:
        """The pixels a gesture leaves alone, as in the dock: those set with napari's brush or
        fill that still hold what was set (an undone edit no longer counts); for clean and
        snap (``automatic``), the classes picked with the tools too."""
        return self.edits.mask(
            self.labels, KEPT_FROM_AUTOMATIC if automatic else KEPT_FROM_GESTURES
        )

    def _global_tools(self) -> None:
        """Snap, then clean, over the whole plane, each looked at and undone if worse (pressed
        once per stage: what made things worse before the large patches were fixed may help
        after)."""
        if self.tools.snap:
            cells, edges = self.task.cells, self.task.edges
            self._global("snap", snap_to_cells(self.labels, cells, self._kept(True), edges=edges))
        if self.tools.clean:
            parts = Components(self.labels)
            self._global("clean", speckles(parts, CLEAN_SIZE, self._kept(True), self.scores))
        self._reach()

    def _global(self, tool: str, changes: list[Change]) -> None:
        self._pay(tool)
        before = self._write(tool, changes)
        if self._worse(before, plane=True):
            self._undo(before, tool)

    def _intended(self, p: Patch, r: int) -> tuple[tuple[slice, ...], np.ndarray, np.ndarray]:
        """Where a careful person means to put a radius-``r`` brush's centre to cover the
        patch: as near it as keeps the disc inside the true region (its edge on the true
        boundary), rows ``2 r`` apart where that region is wider, and the skeleton of what that
        cannot reach (a true region narrower than the brush: the disc spills). (box, the
        centres, those of them drawn carefully: along the boundary and the skeleton.)"""
        from skimage.morphology import skeletonize

        box = _grow(p.box, 2 * r + 2, self.labels.shape)
        mine = np.zeros([b.stop - b.start for b in box], bool)
        mine[_inside(p.box, box)] = p.mask
        allowed = np.pad(self.gt[box] == p.value, 1, constant_values=True)
        depth = ndimage.distance_transform_edt(allowed)[1:-1, 1:-1]
        near = (depth > r + 0.5) & (ndimage.distance_transform_edt(~mine) <= r + 0.5)
        rim = near & (depth <= r + 1.5)
        rows = near & (depth > 2 * r + 1) & (np.arange(mine.shape[0])[:, None] % (2 * r) == r)
        centres = rim | rows
        covered = ndimage.distance_transform_edt(~centres) <= r + 0.5 if centres.any() else False
        rest = mine & ~covered
        careful = rim.copy()
        if rest.any():
            line = skeletonize(rest)
            careful |= line if line.any() else rest
        return box, centres | careful, careful

    def _drawn(
        self, where, path: np.ndarray, value: int, jitter: float
    ) -> tuple[tuple[slice, ...], np.ndarray]:
        """The ``path`` (within ``where``) as a hand draws it: each point moved by a smooth
        seeded offset of at most ``jitter`` px in y and x; (its box, the drawn path in it)."""
        j = int(np.ceil(jitter))
        box = _grow(where, j, self.labels.shape)
        shape = tuple(b.stop - b.start for b in box)
        rng = np.random.default_rng((self.seed, where[0].start, where[1].start, value))
        ys, xs = np.nonzero(path)
        ys, xs = ys + where[0].start - box[0].start, xs + where[1].start - box[1].start
        drawn = np.zeros(shape, bool)
        moved = []
        for axis, at in enumerate((ys, xs)):
            offset = jitter * smooth_noise(rng, shape, JITTER_CELL)[ys, xs]
            moved.append(np.clip(np.rint(at + offset).astype(int), 0, shape[axis] - 1))
        drawn[tuple(moved)] = True
        return box, drawn


def _patch(box, mask: np.ndarray, value: int) -> Patch:
    depth = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return Patch(box, mask, value, (int(y) + box[0].start, int(x) + box[1].start),
                 2 * float(depth.max()))  # fmt: skip


def _inside(box, outer) -> tuple[slice, ...]:
    """``box`` in the coordinates of ``outer``, which contains it."""
    return tuple(
        slice(a.start - b.start, a.stop - b.start) for a, b in zip(box, outer, strict=True)
    )


def _grow(box, r: int, shape) -> tuple[slice, ...]:
    return tuple(
        slice(max(s.start - r, 0), min(s.stop + r, n)) for s, n in zip(box, shape, strict=True)
    )
