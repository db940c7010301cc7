"""Correcting a pre-annotation: a simulated annotator with napari's brush and fill only, and with
the one-gesture tools of ``core/corrections.py``; then the tools' latency on a 12 MP image.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_corrections.py \
        [--size 1200x1600] [--classes 150] [--seed 0] [--target 0.98] [--stroke-length 300] \
        [--threshold 0.3] [--hand exact|realistic] [--radius R] [--jitter 2] [--order gain|class]
        [--care 1] [--latency-size 3000x4000] [--repeat 5] [--skip simulation|latency]

The task (seeded, deterministic)
    Ground truth: a warped, weighted Voronoi partition (regions of varied sizes and shapes, each
    given one of ``--palette`` classes out of ``--classes``) plus small true objects (discs of
    radius 4-12). Kept scores on the stride-8 grid (corners on the image's corners), float16,
    softmax of ``8 * (class fraction in a 13x13 window) + noise``, computed from a ground truth in
    which a third of the regions grew 2-6 px (shifted boundaries). Known confusions: 20% of the
    regions over 2000 px get a wrong top class whose second is the truth (a third of them: the
    truth third); ``size / 8000`` grid points get a stray class on top (speckles). The
    pre-annotation is the argmax of the bilinearly upsampled scores, + 1, as the plugin makes it.
    The image (for the superpixels): the ground truth as a camera sees it, with its own seeded
    stream (so the task above is the same as without it): each class a random fixed colour, each
    region x 0.75-1.25 brighter, a smooth shading, a texture, pixel noise and a 1.5 px blur
    (edges 3-4 px soft). In real photos object boundaries lie on visible edges only partly, so
    ``LOW_CONTRAST`` (a quarter, chosen, not fitted) of the regions take the colour of a touching
    region of another class (x 0.95-1.05): SLIC cannot follow those boundaries. Reported: the
    share of touching class pairs whose colours end up under 0.1 apart.

The annotator (an oracle: it knows the ground truth; greedy, stops at ``--target`` accuracy)
    Takes, again and again, the available action that fixes the most pixels (net: fixed minus
    broken) per action, until the target is reached or nothing helps. Actions counted:
    - pick a label to paint: 1, unless it is the one selected (napari's label spin box / picker);
    - napari fill: 1 click; contiguous, it replaces the clicked label's 4-connected component
      (``Labels.fill`` with ``contiguous=True``), so a fill is the region of the clicked value;
    - a brush stroke: 1 per ``--stroke-length`` px of path. A stroke fixes one connected patch of
      wrong pixels whose true class is one class, painting a disc along its path over whatever
      is there. How the hand moves (``--hand``):
      exact: an oracle's; the path is the patch's skeleton and the brush as wide as the patch
      (radius = max distance to its edge, at most 20: napari's discs);
      realistic (default): one brush radius for the session (``--radius``, or whichever of
      3, 5, 8, 12 reaches the target in the fewest actions, each mode its own; napari's
      default size 10 is radius 5); the intended path keeps the disc's edge on the true
      boundary (the disc inside the true region of the class), rows 2 r apart where that
      region is wider, the patch's skeleton where it is narrower than the brush (it spills);
      the path as drawn strays from it by a smooth seeded offset of at most ``--jitter`` px
      in y and x, so the brush also paints right pixels (counted as broken);
    tools mode, in addition (fill and brush stay available):
    - relabel a region (the clicked component) to one of its top-5 likely classes: 2 (click,
      choice), 1 where it is the runner-up (one key over the region); no label pick; with the
      dock's "relabel" setting either the whole region (where that class is most of its truth)
      or only where the class is likely (P >= ``--threshold``; for any region with 500 px or
      more of that true class): 1 more action each time the setting changes;
    - clean speckles: 1, with the oracle's best N of 16..512 (set in the dock, not counted);
      the scores pick among bordering classes; hand-set pixels stay;
    - class brush: the plain brush's stroke (same path, same count; exact: 2 px wider),
      painting only where P(class) >= ``--threshold``, never hand-set pixels; needs the class
      picked like the brush;
    - snap to edges: 1, over the whole plane: ``snap_to_cells`` with the task's superpixels
      (``superpixels(image)`` at the default cell size and their ``cell_edges``, computed
      once per task, timed), each cell where one label holds most of it giving that label to
      the rest where the image shows the edge (the dock's default contrast, 0.1); hand-set
      pixels stay.
    Relabel, fill and strokes in tools mode mark the pixels they change as set by hand
    (``HandEdits``); later relabels, cleans and snaps leave them alone (clean and snap, being
    automatic, do not protect what they write).
An action whose area changed since the annotator looked is looked at again before it is taken.
``--care K``: the annotator chooses by pixels fixed minus K times the right pixels an action
breaks (default 1: the net gain; a careful person avoids a fill that wipes out a right region,
as each broken pixel is work later); counts and accuracy are always the true ones.
``--order class`` (default): picking a label makes that label's waiting work cheaper at once (the
queue is weighed again), so work is grouped by class where that saves picks; ``gain``: not
(with ``--hand exact`` it reproduces the first version's numbers).
Limits: the annotator is an oracle of the truth and chooses each stroke by what it will fix as
drawn (it foresees its own jitter); the realistic intent is careful (the disc's edge on the true
boundary), so the class brush can win only where the jitter spills or a true region is narrower
than the brush. The oracle snaps when the net gain pays best, knowing it (a person would try it
and undo it where it breaks more than it fixes: one action more). The image is kinder than a
photo apart from its low-contrast pairs: regions nearly flat in colour, no shadows, highlights,
reflections or textured objects whose inner edges SLIC follows instead.
Reported: actions by tool, pixels changed (and of them, right ones broken), accuracy reached, the
ratio of actions; and the error pixels of the pre-annotation by kind (in a component under 300 px:
speckle; in a region given a wrong class: wrong class; the rest: boundary), with how many of the
boundary ones each tool fixed, and the right pixels each tool broke.

Latency (``--latency-size``, 150 classes on the stride-8 grid): labelling the components (what
clean speckles starts with), one relabel click (region_at + likely_classes + relabel + apply),
runner_up, clean speckles with and without scores, one class-brush stroke; best of
``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from napari_gluonseg.core.edits.corrections import (
    CellEdges,
    Change,
    Components,
    HandEdits,
    apply,
    cell_edges,
    class_brush,
    class_probability,
    likely_classes,
    region_at,
    relabel,
    runner_up,
    snap_to_cells,
    speckles,
    superpixels,
)
from napari_gluonseg.core.run.resize import resize_rows
from napari_gluonseg.core.run.scores import ScoreGrid, grid_positions

STRIDE = 8
MAX_RADIUS = 20
SESSION_RADII = (3, 5, 8, 12)  # napari's default brush size 10 is radius 5
JITTER_CELL = 16  # px along which a hand's deviation from the intended path changes
CLEAN_SIZES = (16, 32, 64, 128, 256, 512)
SPECKLE_KIND_MAX = 300
LOW_CONTRAST = 0.25  # the share of regions that take a neighbour's colour (chosen, not fitted)
SNAP = "snap to edges"
WHOLE, LIKELY = "whole region", "where the class is likely"  # the dock's "relabel" settings
SPLIT_MIN = 500  # px of a region's wrong part worth a relabel "where the class is likely"


@dataclass
class Task:
    gt: np.ndarray  # label values (class + 1)
    scores: ScoreGrid
    pre: np.ndarray  # the pre-annotation
    wrong_regions: np.ndarray  # bool: pixels of regions given a wrong top class
    image: np.ndarray  # RGB uint8: the ground truth as a camera sees it
    low_contrast: float  # share of the touching pairs of classes barely told apart in it
    cells: np.ndarray  # superpixels(image), computed once per task
    edges: CellEdges  # cell_edges(image, cells)
    cells_seconds: float  # how long superpixels(image) and cell_edges took


@dataclass(frozen=True)
class Hand:
    """Where a brush stroke lands. ``radius`` None: an oracle's hand (each patch brushed along
    its skeleton, as wide as the patch, the class brush 2 px wider); otherwise one brush radius
    for the session, the patch covered by strokes of that radius, each drawn ``jitter`` px at
    most off its intended path (smooth, seeded by ``seed`` and the patch)."""

    radius: int | None = None
    jitter: float = 0.0
    seed: int = 0


EXACT = Hand()


# ---------------------------------------------------------------- the synthetic task


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Smooth noise in [-1, 1] (a random grid every ``cell`` px, bilinearly upsampled)."""
    h, w = shape
    grid = rng.uniform(-1, 1, (1, h // cell + 2, w // cell + 2)).astype(np.float32)
    return resize_rows(grid, h, w, 0, h)[0]


def ground_truth(
    rng: np.random.Generator, shape: tuple[int, int], palette: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(region ids from 1, label values): a warped weighted Voronoi partition and small objects."""
    h, w = shape
    n = max(8, h * w // 15000)
    seeds = rng.uniform((0, 0), (h, w), (n, 2)).astype(np.float32)
    weights = rng.lognormal(0, 0.5, n).astype(np.float32)
    amp = 0.02 * max(h, w)
    yy = np.arange(h, dtype=np.float32)[:, None] + amp * smooth_noise(rng, shape, h // 6)
    xx = np.arange(w, dtype=np.float32)[None, :] + amp * smooth_noise(rng, shape, w // 6)
    best = np.full(shape, np.inf, np.float32)
    regions = np.zeros(shape, np.int32)
    for k, ((sy, sx), wk) in enumerate(zip(seeds, weights, strict=True)):
        d = np.hypot(yy - sy, xx - sx) / wk
        closer = d < best
        best[closer] = d[closer]
        regions[closer] = k + 1
    classes = rng.choice(palette, n + 1)
    for k in range(h * w // 40000):  # small true objects
        r = int(rng.integers(4, 13))
        cy, cx = int(rng.integers(r, h - r)), int(rng.integers(r, w - r))
        disc = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
        regions[cy - r : cy + r + 1, cx - r : cx + r + 1][disc] = n + 1 + k
        classes = np.append(classes, rng.choice(palette))
    return regions, (classes[regions] + 1).astype(np.uint8)


def shifted(rng: np.random.Generator, regions: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The labels the scores are made from: a third of the regions grown by 2-6 px."""
    out = gt.copy()
    for n, box in enumerate(ndimage.find_objects(regions)):
        if box is None or rng.random() > 1 / 3:
            continue
        d = int(rng.integers(2, 7))
        grown = tuple(slice(max(s.start - d, 0), s.stop + d) for s in box)
        inside = regions[grown] == n + 1
        out[grown][ndimage.distance_transform_edt(~inside) <= d] = gt[grown][inside][0]
    return out


def make_scores(
    rng: np.random.Generator,
    regions: np.ndarray,
    gt: np.ndarray,
    n_classes: int,
    image_shape: tuple[int, int],
) -> tuple[ScoreGrid, list[int]]:
    """Scores on the stride-8 grid of ``image_shape`` from ``gt`` (any size with the same
    corners), with the known confusions; and the regions given a wrong top class."""
    h, w = gt.shape
    gh, gw = -(-image_shape[0] // STRIDE), -(-image_shape[1] // STRIDE)
    rows, cols = grid_positions(h, gh), grid_positions(w, gw)
    window = max(3, 13 * h // image_shape[0]) | 1
    target = shifted(rng, regions, gt)
    logits = rng.normal(0, 0.5, (n_classes, gh, gw)).astype(np.float32)
    for v in np.unique(target):
        frac = ndimage.uniform_filter((target == v).astype(np.float32), window)
        logits[v - 1] += 8 * frac[np.ix_(rows, cols)]
    at = regions[np.ix_(rows, cols)]
    wrong = []
    sizes = np.bincount(regions.ravel()) * (image_shape[0] * image_shape[1] / (h * w))
    palette = np.unique(gt) - 1
    for n in np.nonzero(sizes > 2000)[0]:
        if rng.random() > 0.2 or not (at == n).any():
            continue
        cells = at == n
        true = int(gt[regions == n][0]) - 1
        others = rng.choice(palette[palette != true], 2, replace=False)
        logits[others[0], cells] = logits[true, cells] + rng.uniform(0.5, 1.5)
        if rng.random() < 1 / 3:  # the truth third
            logits[others[1], cells] = logits[true, cells] + 0.3
        wrong.append(int(n))
    for _ in range(gh * gw * STRIDE * STRIDE // 8000):  # speckles
        y, x = int(rng.integers(gh)), int(rng.integers(gw))
        logits[rng.integers(n_classes), y, x] = logits[:, y, x].max() + rng.uniform(0.3, 2)
    p = np.exp(logits - logits.max(axis=0))
    p /= p.sum(axis=0)
    scores = ScoreGrid(p[None].astype(np.float16), (), image_shape, tuple(range(n_classes)))
    return scores, wrong


def pre_annotation(scores: ScoreGrid, classes: np.ndarray | None = None) -> np.ndarray:
    """argmax + 1 of the bilinearly upsampled scores, in strips (over ``classes`` only, where
    given: the latency image uses the classes on top somewhere on the grid)."""
    h, w = scores.image_shape
    rows = np.arange(len(scores.class_ids)) if classes is None else classes
    grid = scores.probs[0, rows].astype(np.float32)
    out = np.empty((h, w), np.uint8)
    step = max(1, (1 << 22) // (w * len(rows)))
    for r0 in range(0, h, step):
        r1 = min(h, r0 + step)
        out[r0:r1] = rows[resize_rows(grid, h, w, r0, r1).argmax(axis=0)] + 1
    return out


def neighbours(regions: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(a, b) rows: the pairs of touching regions (4-connected) of different classes, a < b."""
    n = int(regions.max()) + 1
    keys = []
    for a, b in ((regions[1:], regions[:-1]), (regions[:, 1:], regions[:, :-1])):
        edge = a != b
        keys.append(np.minimum(a, b)[edge].astype(np.int64) * n + np.maximum(a, b)[edge])
    keys = np.unique(np.concatenate(keys))
    pairs = np.stack([keys // n, keys % n], 1)
    classes = np.zeros(n, np.int64)
    classes[regions.ravel()] = gt.ravel()
    return pairs[classes[pairs[:, 0]] != classes[pairs[:, 1]]]


def camera_image(
    rng: np.random.Generator, regions: np.ndarray, gt: np.ndarray
) -> tuple[np.ndarray, float]:
    """The ground truth as a camera sees it (RGB uint8), and the share of the touching region
    pairs of different classes whose colours differ by under 0.1 (of 1) in every channel.
    Each class a random fixed colour, each region brighter or darker (x 0.75-1.25),
    ``LOW_CONTRAST`` of the regions the colour of a touching region of another class
    (x 0.95-1.05: a boundary barely visible), a smooth shading over the image (+-10%), a texture
    (+-0.04, 6 px grain) and pixel noise (sd 0.02), blurred (sigma 1.5 px: edges 3-4 px soft).
    ``LOW_CONTRAST`` and the spreads are chosen, not fitted to any result."""
    n = int(regions.max()) + 1
    classes = np.zeros(n, np.int64)
    classes[regions.ravel()] = gt.ravel()
    colour = rng.uniform(0.1, 0.9, (256, 3))[classes] * rng.uniform(0.75, 1.25, (n, 1))
    pairs = neighbours(regions, gt)
    for k in rng.permutation(n):
        touching = pairs[(pairs == k).any(axis=1)]
        if len(touching) == 0 or rng.random() >= LOW_CONTRAST:
            continue
        other = touching[rng.integers(len(touching))]
        other = other[other != k][0]
        colour[k] = colour[other] * rng.uniform(0.95, 1.05)
    shape = regions.shape
    image = colour[regions] * (1 + 0.1 * smooth_noise(rng, shape, max(shape) // 4))[..., None]
    for c in range(3):
        image[..., c] += 0.04 * smooth_noise(rng, shape, 6) + rng.normal(0, 0.02, shape)
        image[..., c] = ndimage.gaussian_filter(image[..., c], 1.5)
    low = np.abs(colour[pairs[:, 0]] - colour[pairs[:, 1]]).max(axis=1) < 0.1
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8), float(low.mean())


def make_task(shape: tuple[int, int], n_classes: int, palette: int, seed: int) -> Task:
    rng = np.random.default_rng(seed)
    colours = rng.choice(n_classes, palette, replace=False)
    regions, gt = ground_truth(rng, shape, colours)
    scores, wrong = make_scores(rng, regions, gt, n_classes, shape)
    image, low = camera_image(np.random.default_rng((seed, 1)), regions, gt)  # own stream
    start = time.perf_counter()
    cells = superpixels(image)
    edges = cell_edges(image, cells)
    took = time.perf_counter() - start
    pre = pre_annotation(scores)
    return Task(gt, scores, pre, np.isin(regions, wrong), image, low, cells, edges, took)


def error_masks(task: Task) -> dict[str, np.ndarray]:
    """The pre-annotation's error pixels by kind."""
    wrong = task.pre != task.gt
    parts = Components(task.pre)
    speckle = wrong & (parts.sizes[parts.ids] < SPECKLE_KIND_MAX)
    region = wrong & ~speckle & task.wrong_regions
    return {"speckle": speckle, "wrong class": region, "boundary": wrong & ~speckle & ~region}


def error_kinds(task: Task) -> dict[str, int]:
    return {kind: int(mask.sum()) for kind, mask in error_masks(task).items()}


# ---------------------------------------------------------------- the simulated annotator


@dataclass
class Action:
    """One thing the annotator may do: ``changes`` for ``clicks`` actions, after picking
    ``label`` (0: no label to pick); ``box`` is the area whose change makes it stale."""

    tool: str
    changes: list[Change]
    clicks: int
    label: int
    box: tuple[slice, slice]
    gain: float = 0
    within: str | None = None  # the dock's "relabel" setting it needs (None: any)


@dataclass
class Later:
    """Actions looked at only when they could win: ``gain`` is the most they can fix with one
    action; ``expand`` gives them, exactly counted."""

    box: tuple[slice, slice]
    gain: float
    expand: Callable[[], list[Action]]


@dataclass
class Annotator:
    task: Task
    tools: bool
    target: float
    stroke_length: int
    threshold: float
    hand: Hand = EXACT
    by_class: bool = False
    care: float = 1.0  # how much a right pixel broken weighs against one fixed, in choosing
    labels: np.ndarray = field(init=False)
    counts: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, int] = field(default_factory=dict)
    pixels: int = 0
    broken: int = 0  # right pixels made wrong
    broken_by: dict[str, int] = field(default_factory=dict)
    boundary_fixed: dict[str, int] = field(default_factory=dict)  # of the boundary errors
    selected: int = 1  # napari's default label
    within: str = WHOLE  # the dock's "relabel" setting
    budget: int | None = None

    def __post_init__(self) -> None:
        self.labels = self.task.pre.copy()
        self.gt = self.task.gt
        self.correct = int((self.labels == self.gt).sum())
        self.hand_set = HandEdits(self.labels.shape) if self.tools else None
        self.boundary = error_masks(self.task)["boundary"]

    @property
    def accuracy(self) -> float:
        return self.correct / self.gt.size

    @property
    def actions(self) -> int:
        return sum(self.counts.values())

    def run(self, budget: int | None = None) -> Annotator:
        """Act until the target is reached, nothing helps, or (where given) more than
        ``budget`` actions were spent."""
        self.budget = budget
        while not self._done() and self._round():
            pass
        return self

    def _done(self) -> bool:
        over = self.budget is not None and self.actions > self.budget
        return over or self.accuracy >= self.target

    # -- one round: look at everything, act until something looked at has changed

    def _round(self) -> bool:
        tie = itertools.count()
        heap = [(-a.gain / self._cost(a), next(tie), a) for a in self._candidates()]
        heapq.heapify(heap)
        dirty = np.zeros(self.labels.shape, bool)
        acted = False
        while heap and not self._done():
            key, _, a = heapq.heappop(heap)
            if dirty[a.box].any():
                return True
            if isinstance(a, Later):
                for b in a.expand():
                    heapq.heappush(heap, (-b.gain / self._cost(b), next(tie), b))
                continue
            ratio = a.gain / self._cost(a)
            if a.gain <= 0:
                continue
            if ratio < -key - 1e-12:  # the label selected since makes it dearer
                heapq.heappush(heap, (-ratio, next(tie), a))
                continue
            picked = a.label not in (0, self.selected)
            self._take(a, dirty)
            acted = True
            if picked and self.by_class:  # the new label's work is cheaper now: ask again
                heap = [(-b.gain / self._cost(b), t, b) for _, t, b in heap]
                heapq.heapify(heap)
        return acted

    def _cost(self, a: Action | Later) -> int:
        if isinstance(a, Later):
            return 1
        switch = a.within is not None and a.within != self.within
        return a.clicks + (a.label not in (0, self.selected)) + switch

    def _gain(self, changes: list[Change], care: float | None = None) -> float:
        """Pixels fixed minus right pixels broken (weighed by ``care``, default the
        annotator's: what it chooses by; 1: the net change of right pixels)."""
        care = self.care if care is None else care
        total = 0.0
        for c in changes:
            truth = self.gt[c.box][c.mask]
            now = self.labels[c.box][c.mask]
            fixed = int(((truth == c.value) & (now != truth)).sum())
            total += fixed - care * int(((now == truth) & (c.value != truth)).sum())
        return total

    def _take(self, a: Action, dirty: np.ndarray) -> None:
        gain = int(self._gain(a.changes, care=1.0))
        self.correct += gain
        _add(self.fixed, a.tool, gain)
        if a.label not in (0, self.selected):
            _add(self.counts, "pick label", 1)
            self.selected = a.label
        if a.within is not None and a.within != self.within:
            _add(self.counts, "relabel setting", 1)
            self.within = a.within
        _add(self.counts, a.tool, a.clicks)
        for c in a.changes:
            changed = c.mask & (self.labels[c.box] != c.value)
            broken = int((changed & (self.labels[c.box] == self.gt[c.box])).sum())
            fixed = changed & (self.gt[c.box] == c.value) & self.boundary[c.box]
            self.broken += broken
            _add(self.broken_by, a.tool, broken)
            _add(self.boundary_fixed, a.tool, int(fixed.sum()))
            dirty[c.box] |= changed
            if self.hand_set is not None:  # automatic tools do not protect what they wrote
                protect = a.tool not in ("clean", SNAP)
                self.hand_set.record(a.tool, c.box, changed, protect=protect)
        self.pixels += apply(self.labels, a.changes)

    # -- what there is to do

    def _candidates(self) -> list[Action | Later]:
        parts = Components(self.labels)
        out: list[Action | Later] = self._region_fixes(parts)
        out += self._patches()
        if self.tools:
            out += [self._clean(parts), self._snap()]
        return out

    def _region_fixes(self, parts: Components) -> list[Action | Later]:
        """Fill (and, with the tools, relabel) each region whose true class is mostly another."""
        n = parts.sizes.size
        counts = np.bincount(parts.ids.ravel() * 256 + self.gt.ravel(), minlength=n * 256)
        counts = counts.reshape(n, 256)
        value = np.zeros(n, np.int64)
        value[parts.ids.ravel()] = self.labels.ravel()
        rows = np.arange(n)
        best = counts.argmax(axis=1)
        others = counts.copy()
        others[rows, value] = 0
        other = others.argmax(axis=1)  # the true class most wrongly labelled in each region
        out: list[Action | Later] = []
        wanted = counts[rows, best] > counts[rows, value]
        if self.tools:
            wanted |= counts[rows, other] >= SPLIT_MIN
        for i in np.nonzero(wanted)[0]:
            box = parts.boxes[i - 1]
            mask = parts.ids[box] == i
            grown = _grow(box, 1, self.labels.shape)
            if best[i] != value[i]:
                fill = Change(box, mask, int(best[i]))
                out.append(Action("fill", [fill], 1, fill.value, grown, self._gain([fill])))
            if self.tools:
                whole = best[i] == other[i]
                args = (box, mask, int(other[i]), int(value[i]), grown, whole)
                bound = int(counts[i, other[i]])
                out.append(Later(grown, bound, lambda args=args: self._relabel(*args)))
        return out

    def _relabel(self, box, mask, target: int, value: int, grown, whole: bool) -> list[Action]:
        """The region relabelled ``target``: whole (where that is its true class mostly), and
        only where the class is likely (the dock's other "relabel" setting)."""
        scores = self.task.scores
        if target - 1 not in [k for k, _ in likely_classes(scores, (), box, mask, 5)]:
            return []
        hand = self.hand_set.mask
        second = runner_up(scores, (), box, mask, value)
        tool, clicks = (
            ("runner-up key", 1) if second and second[0] == target - 1 else ("relabel", 2)
        )
        p = class_probability(scores, (), target - 1, box)
        changes = {LIKELY: class_brush(self.labels, box, mask, p, self.threshold, target, hand)}
        if whole:
            changes[WHOLE] = relabel(self.labels, box, mask, target, hand)
        return [
            Action(tool, [change], clicks, 0, grown, self._gain([change]), within)
            for within, change in changes.items()
        ]

    def _patches(self) -> list[Action | Later]:
        from skimage.measure import label

        wrong = np.where(self.labels != self.gt, self.gt, 0)
        ids = label(wrong, background=0, connectivity=2)
        out: list[Action | Later] = []
        for i, box in enumerate(ndimage.find_objects(ids)):
            patch = ids[box] == i + 1
            value = int(wrong[box][patch][0])
            stale = _grow(box, MAX_RADIUS + 3, self.labels.shape)
            brush = lambda a=(box, patch, value): self._strokes(*a)  # noqa: E731
            out.append(Later(stale, int(patch.sum()), brush))
        return out

    def _strokes(self, where, patch: np.ndarray, value: int) -> list[Action]:
        """Brushing a patch: with the plain brush, and (tools) the class brush."""
        from skimage.morphology import skeletonize

        if self.hand.radius is None:
            path = skeletonize(patch)
            if not path.any():
                path = patch
            edge = ndimage.distance_transform_edt(np.pad(patch, 1))[1:-1, 1:-1]
            radius = int(min(MAX_RADIUS, max(0, round(edge.max()) - 1)))
            tools = (("brush", radius), ("class brush", radius + 2))
            drawn = {r: (where, path) for _, r in tools}
        else:
            radius = self.hand.radius
            at, path = self._intended(where, patch, value, radius)
            tools = (("brush", radius), ("class brush", radius))
            drawn = {radius: self._drawn(at, path, value)}
        strokes = max(1, -(-int(path.sum()) // self.stroke_length))
        out = []
        for tool, r in tools:
            if tool == "class brush" and not self.tools:
                continue
            at, line = drawn[r]
            box = _grow(at, r, self.labels.shape)
            on_path = np.zeros([b.stop - b.start for b in box], bool)
            on_path[_inside(at, box)] = line
            disc = ndimage.distance_transform_edt(~on_path) <= r + 0.5
            if tool == "brush":
                change = Change(box, disc, value)
            else:
                p = class_probability(self.task.scores, (), value - 1, box)
                hand = self.hand_set.mask
                change = class_brush(self.labels, box, disc, p, self.threshold, value, hand)
            stale = _grow(box, 1, self.labels.shape)
            out.append(Action(tool, [change], strokes, value, stale, self._gain([change])))
        return out

    def _intended(
        self, where, patch: np.ndarray, value: int, r: int
    ) -> tuple[tuple[slice, ...], np.ndarray]:
        """Where a careful person means to put a radius-``r`` brush's centre to cover ``patch``
        (within ``where``) with ``value``: as near the patch as keeps the disc inside the true
        region of ``value`` (its edge on the true boundary), rows ``2 r`` apart where that
        region is wider, and the skeleton of what that cannot reach (a true region narrower than
        the brush: the disc spills). (A box, the centres in it.)"""
        from skimage.morphology import skeletonize

        box = _grow(where, 2 * r + 2, self.labels.shape)
        mine = np.zeros([b.stop - b.start for b in box], bool)
        mine[_inside(where, box)] = patch
        allowed = np.pad(self.gt[box] == value, 1, constant_values=True)  # outside: harmless
        depth = ndimage.distance_transform_edt(allowed)[1:-1, 1:-1]
        near = (depth > r + 0.5) & (ndimage.distance_transform_edt(~mine) <= r + 0.5)
        rim = near & (depth <= r + 1.5)
        rows = near & (depth > 2 * r + 1) & (np.arange(mine.shape[0])[:, None] % (2 * r) == r)
        centres = rim | rows
        covered = ndimage.distance_transform_edt(~centres) <= r + 0.5 if centres.any() else False
        rest = mine & ~covered
        if rest.any():
            line = skeletonize(rest)
            centres |= line if line.any() else rest
        return box, centres

    def _drawn(self, where, path: np.ndarray, value: int) -> tuple[tuple[slice, ...], np.ndarray]:
        """The ``path`` (within ``where``) as a hand draws it: each point moved by a smooth
        seeded offset of at most ``jitter`` px in y and x; (its box, the drawn path in it)."""
        j = int(np.ceil(self.hand.jitter))
        box = _grow(where, j, self.labels.shape)
        shape = tuple(b.stop - b.start for b in box)
        key = (self.hand.seed, where[0].start, where[1].start, value)
        rng = np.random.default_rng(key)
        ys, xs = np.nonzero(path)
        ys, xs = ys + where[0].start - box[0].start, xs + where[1].start - box[1].start
        drawn = np.zeros(shape, bool)
        moved = []
        for axis, at in enumerate((ys, xs)):
            offset = self.hand.jitter * smooth_noise(rng, shape, JITTER_CELL)[ys, xs]
            moved.append(np.clip(np.rint(at + offset).astype(int), 0, shape[axis] - 1))
        drawn[tuple(moved)] = True
        return box, drawn

    def _clean(self, parts: Components) -> Action:
        """Clean speckles with the N that fixes the most."""
        full = (slice(0, self.labels.shape[0]), slice(0, self.labels.shape[1]))
        best = Action("clean", [], 1, 0, full, 0)
        for n in CLEAN_SIZES:
            changes = speckles(parts, n, self.hand_set.mask, self.task.scores)
            gain = self._gain(changes)
            if gain > best.gain:
                best = Action("clean", changes, 1, 0, full, gain)
        return best

    def _snap(self) -> Action:
        """Snap to image edges: one click over the whole plane; hand-set pixels stay."""
        full = (slice(0, self.labels.shape[0]), slice(0, self.labels.shape[1]))
        task = self.task
        changes = snap_to_cells(self.labels, task.cells, self.hand_set.mask, edges=task.edges)
        return Action(SNAP, changes, 1, 0, full, self._gain(changes))


def _add(tally: dict[str, int], key: str, n: int) -> None:
    tally[key] = tally.get(key, 0) + n


def _inside(box: tuple[slice, ...], outer: tuple[slice, ...]) -> tuple[slice, ...]:
    """``box`` in the coordinates of ``outer``, which contains it."""
    return tuple(
        slice(a.start - b.start, a.stop - b.start) for a, b in zip(box, outer, strict=True)
    )


def _grow(box: tuple[slice, ...], r: int, shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(
        slice(max(s.start - r, 0), min(s.stop + r, n)) for s, n in zip(box, shape, strict=True)
    )


# ---------------------------------------------------------------- latency on a 12 MP image


def best_of(repeat: int, step: Callable[[], object], undo: Callable[[], object] = lambda: None):
    """Best wall time (ms) of ``repeat`` runs of ``step``, ``undo`` (untimed) after each."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        undo()
    return 1000 * min(times)


def latency(shape: tuple[int, int], n_classes: int, seed: int, repeat: int) -> list[tuple]:
    """(step, ms, goal) rows for the tools on a ``shape`` pre-annotation with realistic speckles;
    its ground truth is drawn at a quarter of the size (the scores only see the stride-8 grid)."""
    rng = np.random.default_rng(seed)
    work = (shape[0] // 4, shape[1] // 4)
    regions, gt = ground_truth(rng, work, rng.choice(n_classes, 24, replace=False))
    scores, _ = make_scores(rng, regions, gt, n_classes, shape)
    labels = pre_annotation(scores, np.unique(scores.probs[0].argmax(axis=0)))
    protected = np.zeros(shape, bool)
    rows = [("labels", f"{shape[0]}x{shape[1]}, {n_classes} classes, grid {scores.grid_shape}")]

    def components() -> Components:
        parts = Components(labels)
        parts.boxes  # noqa: B018 - the boxes are part of labelling once
        return parts

    rows.append(("Components (labelling, for clean speckles)", best_of(repeat, components), None))
    parts = components()
    n_speckles = int((parts.sizes[1:] < 100).sum())
    for name, i in (("largest", int(np.argmax(parts.sizes[1:]))), ("median", _median(parts))):
        rows += _click_rows(parts, scores, protected, i, name, repeat)
    for with_scores in (False, True):
        kept = scores if with_scores else None
        saved = labels.copy()

        def clean(kept=kept):
            apply(labels, speckles(parts, 100, protected, kept))

        def undo(saved=saved):
            labels[:] = saved

        name = f"clean speckles < 100 px ({n_speckles}), {'with' if with_scores else 'no'} scores"
        rows.append((name, best_of(repeat, clean, undo), 1000))
    rows.append(_stroke_row(labels, scores, protected, repeat))
    rows += _snap_rows(rng, regions, gt, labels, protected, repeat)
    return rows


def _snap_rows(rng, regions, gt, labels, protected, repeat: int) -> list:
    """Snap to edges on the full-size labels: the superpixels of a camera image of the
    (quarter-size) ground truth blown up to the labels' size (once, as the dock computes them
    once per plane in a worker), then the snap itself."""
    up = (labels.shape[0] // regions.shape[0], labels.shape[1] // regions.shape[1])

    def blown_up(a: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(a, up[0], axis=0), up[1], axis=1)

    image, _ = camera_image(rng, blown_up(regions), blown_up(gt))
    cells: list[np.ndarray] = []
    rows = [("superpixels (SLIC, once per plane, in a worker)",
             best_of(1, lambda: cells.append(superpixels(image))), None)]  # fmt: skip
    found: list[CellEdges] = []
    rows.append(("cell edges (once per plane, in the worker)",
                 best_of(1, lambda: found.append(cell_edges(image, cells[0]))), None))  # fmt: skip
    edges = found[0]

    def snap() -> None:
        snap_to_cells(labels, cells[0], edges=edges)

    rows.append(("snap to edges (the edges the image shows)", best_of(repeat, snap), None))
    return rows


def _median(parts: Components) -> int:
    """The median of the regions worth a click (1000 px or more)."""
    big = np.nonzero(parts.sizes[1:] >= 1000)[0]
    return int(big[np.argsort(parts.sizes[1:][big])[len(big) // 2]])


def _click_rows(parts: Components, scores, protected, i: int, name: str, repeat: int) -> list:
    """A relabel click on region ``i`` (at + likely_classes + relabel + apply), its steps, and
    runner_up."""
    labels = parts.labels
    box = parts.boxes[i]
    y, x = (int(v[0]) for v in np.nonzero(parts.ids[box] == i + 1))
    y, x = y + box[0].start, x + box[1].start
    box, mask = parts.at(y, x)
    old = labels[box].copy()
    value = likely_classes(scores, (), box, mask, 5)[1][0] + 1

    def click():
        box, mask = region_at(labels, y, x)
        top = likely_classes(scores, (), box, mask, 5)
        apply(labels, [relabel(labels, box, mask, top[1][0] + 1, protected)])

    def undo():
        labels[box] = old

    def write():
        apply(labels, [relabel(labels, box, mask, value, protected)])

    return [
        (f"relabel click, {name} region ({mask.sum()} px)", best_of(repeat, click, undo), 150),
        ("  of which region_at (flood)", best_of(repeat, lambda: region_at(labels, y, x)), None),
        (
            "  of which likely_classes",
            best_of(repeat, lambda: likely_classes(scores, (), box, mask, 5)),
            None,
        ),
        ("  of which relabel + apply", best_of(repeat, write, undo), None),
        (
            f"runner_up, {name} region",
            best_of(repeat, lambda: runner_up(scores, (), box, mask, int(labels[y, x]))),
            None,
        ),
    ]


def _stroke_row(labels, scores, protected, repeat) -> tuple:
    """One class-brush stroke: a 300 px diagonal drag with a 21 px brush in the middle."""
    h, w = labels.shape
    box = (slice(h // 2 - 120, h // 2 + 120), slice(w // 2 - 120, w // 2 + 120))
    yy, xx = np.mgrid[:240, :240]
    stroke = np.abs(yy - xx) <= 10 * np.sqrt(2)
    value = int(labels[h // 2, w // 2]) % len(scores.class_ids) + 1
    saved = labels[box].copy()

    def brush():
        p = class_probability(scores, (), value - 1, box)
        apply(labels, [class_brush(labels, box, stroke, p, 0.3, value, protected)])

    def undo():
        labels[box] = saved

    return (
        "class brush stroke (class_probability + class_brush)",
        best_of(repeat, brush, undo),
        None,
    )


# ---------------------------------------------------------------- the report


def simulate(args) -> None:
    shape = tuple(int(v) for v in args.size.split("x"))
    start = time.perf_counter()
    task = make_task(shape, args.classes, args.palette, args.seed)
    kinds = error_kinds(task)
    print(
        f"task {shape[0]}x{shape[1]}, {args.classes} classes ({args.palette} used), seed"
        f" {args.seed}: pre-annotation {100 * (task.pre == task.gt).mean():.2f}% right;"
        f" error pixels by kind: {kinds} ({time.perf_counter() - start:.1f} s)"
    )
    print(
        f"image: {100 * task.low_contrast:.0f}% of the touching pairs of classes in colours"
        f" under 0.1 apart; superpixels(image): {task.cells.max() + 1} cells in"
        f" {task.cells_seconds:.2f} s"
    )
    print(f"hand {args.hand}, order {args.order}", end="")
    print(f", jitter {args.jitter} px" if args.hand == "realistic" else "")
    runs = {tools: session(task, tools, args) for tools in (False, True)}
    print(
        "\n| mode | radius | actions | by tool | pixels changed | of which broken | accuracy |"
        " pixels fixed by tool |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---|")
    for tools, a in runs.items():
        name = "corrections tools" if tools else "napari brush + fill"
        radius = "exact" if a.hand.radius is None else a.hand.radius
        print(
            f"| {name} | {radius} | {a.actions} | {_tally(a.counts)} | {a.pixels} | {a.broken} |"
            f" {100 * a.accuracy:.2f}% | {_tally(a.fixed)} |"
        )
    print(f"\nactions, brush + fill / tools: {runs[False].actions / runs[True].actions:.2f}x")
    for tools, a in runs.items():
        print(
            f"{'tools' if tools else 'brush + fill'}: of the {kinds['boundary']} boundary error"
            f" pixels, fixed by tool: {_tally(a.boundary_fixed)}; right pixels broken by tool:"
            f" {_tally(a.broken_by)}"
        )


def session(task: Task, tools: bool, args) -> Annotator:
    """The annotator of one mode; with a realistic hand and no ``--radius``, the one of the
    session radii that reaches the target in the fewest actions (each printed; a radius is
    stopped once it has spent more than the best so far: it cannot win)."""
    radii: tuple[int | None, ...] = (None,)
    if args.hand == "realistic":
        radii = (args.radius,) if args.radius else SESSION_RADII
    best = None
    for r in radii:
        hand = EXACT if r is None else Hand(r, args.jitter, args.seed)
        start = time.perf_counter()
        budget = best.actions if best and best.accuracy >= args.target else None
        a = Annotator(
            task,
            tools,
            args.target,
            args.stroke_length,
            args.threshold,
            hand,
            args.order == "class",
            args.care,
        ).run(budget)
        if len(radii) > 1:
            spent = f"stopped past {budget}" if budget and a.actions > budget else a.actions
            print(
                f"  {'tools' if tools else 'brush + fill'}, radius {r}: {spent} actions,"
                f" {100 * a.accuracy:.2f}% ({time.perf_counter() - start:.0f} s)"
            )
        if best is None or (a.accuracy < args.target, a.actions) < (
            best.accuracy < args.target,
            best.actions,
        ):
            best = a
    return best


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options (``argv``; default: the process's)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1200x1600")
    parser.add_argument("--classes", type=int, default=150)
    parser.add_argument("--palette", type=int, default=24, help="classes in the ground truth")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.98)
    parser.add_argument("--stroke-length", type=int, default=300, help="px of path per stroke")
    parser.add_argument("--threshold", type=float, default=0.3, help="class brush's P(class)")
    parser.add_argument("--hand", choices=("exact", "realistic"), default="realistic")
    parser.add_argument(
        "--radius",
        type=int,
        help=f"the session's brush radius (realistic; default: best of {SESSION_RADII})",
    )
    parser.add_argument("--jitter", type=float, default=2.0, help="px a drawn path strays")
    parser.add_argument(
        "--order",
        choices=("gain", "class"),
        default="class",
        help="class: a label pick makes that label's work cheaper at once",
    )
    parser.add_argument(
        "--care",
        type=float,
        default=1.0,
        help="a right pixel broken weighs this many fixed ones when choosing (1: net gain)",
    )
    parser.add_argument("--latency-size", default="3000x4000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip", choices=("simulation", "latency"))
    return parser.parse_args(argv)


def main() -> None:
    args = options()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if args.skip != "simulation":
        simulate(args)
    if args.skip != "latency":
        shape = tuple(int(v) for v in args.latency_size.split("x"))
        rows = latency(shape, args.classes, args.seed, args.repeat)
        print(f"\n{rows[0][0]}: {rows[0][1]}; best of {args.repeat}\n")
        print("| step | ms | goal ms |")
        print("|---|---:|---:|")
        for name, ms, goal in rows[1:]:
            print(f"| {name} | {ms:.1f} | {goal or ''} |")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
