"""Synthetic pre-annotation tasks for ``bench_corrections.py``: a ground truth, a model's kept
scores with the errors real semantic segmentation makes (each kind with its knob, a
:class:`Setting`), their argmax as the pre-annotation, and the image a camera would show.

Ground truth: a warped, weighted Voronoi partition (regions of varied size and shape) of classes
drawn from ADE20K's, semantic neighbours among them (:data:`CLOSE_PAIRS`), plus small true
objects (discs of radius 4-12). Scores on the stride-8 grid (corners on the image's corners),
float16: softmax of ``8 * (share of a 13x13 window the model believes is the class) + noise``.
What the model believes differs from the truth by the errors of the setting; where it puts a
wrong class on top, the truth comes second (2/3) or third (1/3), or (``beyond``) below five
others. ``size / 8000`` grid points get a stray class on top (speckles). The pre-annotation is
the argmax of the bilinearly upsampled scores, + 1, as the plugin makes it.

Every spread below is chosen, not fitted to any result; the knobs are reported with the figures.
The scores' constants (:class:`Premise`) were chosen with the tools' ratio of 1/20 in sight:
:data:`PREMISE` is the one the figures were tuned on; :data:`HELD_OUT_PREMISE` draws them from
other ranges (fixed before it was first run, never tuned), and :data:`TRUTH_NOT_IN` writes no
truth into the confused cells (a control: the score tools must show no gain there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from napari_gluonseg.core.edits.snap import CellEdges, cell_edges, superpixels
from napari_gluonseg.core.run.resize import resize_rows
from napari_gluonseg.core.run.scores import ScoreGrid, grid_positions

STRIDE = 8
N_CLASSES = 150
BIG_REGION = 2000  # px: regions at least this large may be given a wrong class (whole or part)
# ADE20K classes (index: name) that a model confuses, and that look alike.
CLOSE_PAIRS = (
    (0, 1),  # wall - building
    (3, 28),  # floor - rug
    (4, 17),  # tree - plant
    (6, 11),  # road - sidewalk
    (9, 29),  # grass - field
    (13, 94),  # earth - land
    (16, 68),  # mountain - hill
    (21, 26),  # water - sea
    (19, 30),  # chair - armchair
    (15, 33),  # table - desk
    (10, 35),  # cabinet - wardrobe
)
WHOLE, PARTIAL = "wrong region", "partial region"  # kinds of error
PALETTE = np.array([c for pair in CLOSE_PAIRS for c in pair] + [2, 12])  # + sky, person


@dataclass(frozen=True)
class Setting:
    """The kinds of error a task holds, each with its knob (a share, 0 to 1)."""

    name: str
    whole: float = 0.2  # big regions given a wrong class all over
    partial: float = 0.0  # big regions with a part (by a neighbour) given that neighbour's class
    close: float = 0.0  # wrong classes that are the truth's semantic neighbour (else uniform)
    beyond: float = 0.0  # wrong regions and parts whose truth is not in the top 5
    shifted: float = 1 / 3  # regions whose boundary the model moves by 2-6 px
    textured: float = 0.0  # moved boundaries that follow a texture edge (else a dilation)
    lookalike: float = 0.25  # regions coloured like a touching region of another class
    inner: float = 0.0  # regions with an edge inside them (two tones)

    def knobs(self) -> str:
        names = ("whole", "partial", "close", "beyond", "textured", "lookalike", "inner")
        return ", ".join(f"{n} {getattr(self, n):g}" for n in names if getattr(self, n))


BASE = Setting("whole regions")
SETTINGS = (
    BASE,
    Setting("partial regions", partial=0.3),
    Setting("close classes", close=0.7, lookalike=0.4),
    Setting("truth beyond top 5", beyond=0.3),
    Setting("textured boundaries", textured=0.6, lookalike=0.4, inner=0.3),
    Setting("realistic: all kinds", partial=0.3, close=0.7, beyond=0.2, textured=0.6,
            lookalike=0.4, inner=0.3),
)  # fmt: skip
REALISTIC = SETTINGS[1:]  # the settings with a real model's kinds of error


@dataclass(frozen=True)
class Premise:
    """The scores' constants: what the generated tasks assume of a model's scores. On the cells
    a model confuses, the truth's logit is the wrong class's less ``margin`` (one draw per error,
    or ``per_cell``), unless ``truth_in`` is off (then the truth keeps what the rest gave it: the
    background and its semantic neighbour's leak); the background is ``noise`` (sd) around 0
    against ``scale`` times a class's share of the window; a class's semantic neighbour gets
    ``leak`` of its logit."""

    name: str
    margin: tuple[float, float] = (0.5, 1.5)
    per_cell: bool = False
    truth_in: bool = True
    noise: float = 0.5
    scale: float = 8.0
    leak: tuple[float, float] = (0.3, 0.6)

    def line(self) -> str:
        """The premise in one line, with the truth-to-top ratio it implies (``e^-margin``)."""
        lo, hi = self.margin
        where = "per grid cell" if self.per_cell else "one draw per error"
        truth = (
            f"the truth is written into the confused cells {lo:g}-{hi:g} logits under the wrong"
            f" class ({where}; second, or third or below five others as the setting says): a"
            f" truth-to-top ratio of {np.exp(-hi):.2f}-{np.exp(-lo):.2f}"
            if self.truth_in
            else "the truth is NOT written into the confused cells (it keeps the background and"
            " its neighbour's leak)"
        )
        return (
            f"{self.name}: {truth}; background N(0, {self.noise:g}) against {self.scale:g} x a "
            f"class's share (about e^-{self.scale:g} of the top); neighbour's leak "
            f"{self.leak[0]:g}-{self.leak[1]:g}; the tools paint at a ratio of 1/20"
        )


PREMISE = Premise("the premise the tools' ratio was set with")
HELD_OUT_PREMISE = Premise(
    "held-out constants", margin=(0.25, 3.0), per_cell=True, noise=0.8, scale=7.0,
    leak=(0.15, 0.75),
)  # fmt: skip
TRUTH_NOT_IN = Premise("control, truth not written in", truth_in=False)


@dataclass
class Task:
    setting: Setting
    gt: np.ndarray  # label values (class + 1)
    scores: ScoreGrid
    pre: np.ndarray  # the pre-annotation
    image: np.ndarray  # RGB uint8: the ground truth as a camera sees it
    cells: np.ndarray  # superpixels(image), computed once per task
    edges: CellEdges  # cell_edges(image, cells)
    kinds: dict[str, np.ndarray]  # pixels the model got wrong, by the kind of error made there
    premise: str = PREMISE.line()  # what the scores assume (one line, printed with the figures)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Smooth noise in [-1, 1] (a random grid every ``cell`` px, bilinearly upsampled)."""
    h, w = shape
    grid = rng.uniform(-1, 1, (1, h // cell + 2, w // cell + 2)).astype(np.float32)
    return resize_rows(grid, h, w, 0, h)[0]


def ground_truth(
    rng: np.random.Generator, shape: tuple[int, int], setting: Setting
) -> tuple[np.ndarray, np.ndarray]:
    """(region ids from 1, label values): a warped weighted Voronoi partition and small
    objects; with ``close``, a region next to one of a paired class takes its partner that
    often (semantic neighbours touch: a rug lies on a floor)."""
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
    classes = rng.choice(PALETTE, n + 1)
    for a, b in neighbours(regions, classes[regions]):
        if rng.random() < setting.close / 2 and partner(classes[a]) is not None:
            classes[b] = partner(classes[a])
    for k in range(h * w // 40000):  # small true objects
        r = int(rng.integers(4, 13))
        cy, cx = int(rng.integers(r, h - r)), int(rng.integers(r, w - r))
        disc = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
        regions[cy - r : cy + r + 1, cx - r : cx + r + 1][disc] = n + 1 + k
        classes = np.append(classes, rng.choice(PALETTE))
    return regions, (classes[regions] + 1).astype(np.uint8)


def partner(class_index: int) -> int | None:
    """The semantic neighbour of a class (:data:`CLOSE_PAIRS`), None for one without."""
    for a, b in CLOSE_PAIRS:
        if class_index in (a, b):
            return b if class_index == a else a
    return None


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


@dataclass
class Belief:
    """What the model believes: label values, the confusions to put on the grid (pixels,
    truth, wrong class, the truth's rank, the kind: whole or part of a region), and the bands
    where it follows a texture edge."""

    labels: np.ndarray
    confusions: list[tuple[np.ndarray, int, int, int, str]]
    bands: np.ndarray  # bool: moved-boundary pixels the image shows an edge along


def belief(
    rng: np.random.Generator, regions: np.ndarray, gt: np.ndarray, setting: Setting
) -> Belief:
    """The model's errors of ``setting`` on the ground truth: moved boundaries, whole regions
    and parts of regions given a wrong class. Each region draws from its own stream, so a knob
    changes only what it names: the same regions go wrong at every setting where they can."""
    out = Belief(gt.copy(), [], np.zeros(gt.shape, bool))
    key = int(rng.integers(1 << 31))
    sizes = np.bincount(regions.ravel())
    pairs = neighbours(regions, gt)
    for n, box in enumerate(ndimage.find_objects(regions), start=1):
        own = np.random.default_rng((key, n, 0))
        if box is not None and own.random() < setting.shifted:
            _move_boundary(own, regions, gt, n, box, setting, out)
    for n in np.nonzero(sizes >= BIG_REGION)[0]:
        own = np.random.default_rng((key, int(n), 1))
        truth = int(gt[regions == n][0]) - 1
        roll, beyond, rank, close = own.random(4)
        if roll < setting.whole:
            pixels, kind = regions == n, WHOLE
            wrong = _wrong_class(own, truth, close < setting.close)
        elif roll < setting.whole + setting.partial:
            touching = pairs[(pairs == n).any(axis=1)]
            if not len(touching):
                continue
            other = next(m for m in touching[own.integers(len(touching))] if m != n)
            pixels, kind = _part_by(own, regions, n, int(other)), PARTIAL
            wrong = int(gt[regions == other][0]) - 1
        else:
            continue
        rank = 6 if beyond < setting.beyond else (2 if rank < 2 / 3 else 3)
        out.labels[pixels] = wrong + 1
        out.confusions.append((pixels, truth, wrong, rank, kind))
    return out


def _wrong_class(rng: np.random.Generator, truth: int, close: bool) -> int:
    near = partner(truth)
    uniform = int(rng.choice(PALETTE[truth != PALETTE]))
    return near if close and near is not None else uniform


def _part_by(rng: np.random.Generator, regions: np.ndarray, n: int, other: int) -> np.ndarray:
    """The part of region ``n`` nearest a point of its boundary with region ``other``: within
    30-60% of the region's size (square root of its area) of that point."""
    mine = regions == n
    border = mine & ndimage.binary_dilation(regions == other)
    ys, xs = np.nonzero(border)
    k = int(rng.integers(len(ys)))
    reach = rng.uniform(0.3, 0.6) * np.sqrt(mine.sum())
    yy, xx = np.ogrid[: mine.shape[0], : mine.shape[1]]
    return mine & (np.hypot(yy - ys[k], xx - xs[k]) <= reach)


def _move_boundary(rng, regions, gt, n: int, box, setting: Setting, out: Belief) -> None:
    """Region ``n`` grown over its neighbours: by one distance of 2-6 px (a dilation), or,
    ``textured``, by 0-8 px varying along the boundary, the image showing an edge along the
    moved boundary (the model followed a shadow or a texture, not the object)."""
    textured = rng.random() < setting.textured
    reach = 8 if textured else int(rng.integers(2, 7))
    grown = tuple(slice(max(s.start - reach, 0), s.stop + reach) for s in box)
    inside = regions[grown] == n
    distance = ndimage.distance_transform_edt(~inside)
    if textured:
        shape = inside.shape
        limit = 4 + 4 * smooth_noise(rng, (max(shape[0], 2), max(shape[1], 2)), 24)
        band = (distance > 0) & (distance <= limit[: shape[0], : shape[1]])
        out.bands[grown] |= band
    else:
        band = (distance > 0) & (distance <= reach)
    out.labels[grown][band] = gt[grown][inside][0]


def make_scores(
    rng: np.random.Generator,
    belief: Belief,
    image_shape: tuple[int, int],
    n_classes: int = N_CLASSES,
    premise: Premise = PREMISE,
) -> ScoreGrid:
    """Scores on the stride-8 grid of ``image_shape`` from what the model believes (any size
    with the same corners), with its confusions: the wrong class on top by 0.5-1.5 (logits),
    the truth second, or third or below five others (classes 0.1-0.4 above it), and stray
    classes on single grid points. Wherever a class is, its semantic neighbour gets 0.3-0.6 of
    its logit (a real model's wall is a little bit building everywhere). Those constants are
    ``premise``'s (:data:`PREMISE`'s given here); without ``truth_in`` the same numbers are drawn
    (the same pre-annotation) and the truth and the classes above it are not written."""
    h, w = belief.labels.shape
    gh, gw = -(-image_shape[0] // STRIDE), -(-image_shape[1] // STRIDE)
    rows, cols = grid_positions(h, gh), grid_positions(w, gw)
    window = max(3, 13 * h // image_shape[0]) | 1
    logits = rng.normal(0, premise.noise, (n_classes, gh, gw)).astype(np.float32)
    leak = rng.uniform(*premise.leak, n_classes)
    for v in np.unique(belief.labels):
        share = ndimage.uniform_filter((belief.labels == v).astype(np.float32), window)
        logits[v - 1] += premise.scale * share[np.ix_(rows, cols)]
        near = partner(int(v) - 1)
        if near is not None:  # a semantic neighbour is never far from the model's mind
            logits[near] += leak[v - 1] * premise.scale * share[np.ix_(rows, cols)]
    for pixels, truth, wrong, rank, _ in belief.confusions:
        cells = pixels[np.ix_(rows, cols)]
        if not cells.any():
            continue
        top = logits[wrong, cells]
        margin = rng.uniform(*premise.margin, int(cells.sum()) if premise.per_cell else None)
        others = np.setdiff1d(np.arange(n_classes), [truth, wrong])
        above = rng.choice(others, rank - 2, replace=False)
        lifts = [rng.uniform(0.1, 0.4) for _ in above]
        if premise.truth_in:
            logits[truth, cells] = top - margin
            for c, lift in zip(above, lifts, strict=True):
                logits[c, cells] = logits[truth, cells] + lift
    for _ in range(gh * gw * STRIDE * STRIDE // 8000):  # speckles
        y, x = int(rng.integers(gh)), int(rng.integers(gw))
        logits[rng.integers(n_classes), y, x] = logits[:, y, x].max() + rng.uniform(0.3, 2)
    p = np.exp(logits - logits.max(axis=0))
    p /= p.sum(axis=0)
    return ScoreGrid(p[None].astype(np.float16), (), image_shape, tuple(range(n_classes)))


def noise_scores(rng: np.random.Generator, like: ScoreGrid) -> ScoreGrid:
    """Scores that know nothing (the control): softmax of unit noise on the same grid."""
    logits = rng.normal(0, 1, like.probs.shape).astype(np.float32)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return ScoreGrid(p.astype(np.float16), (), like.image_shape, like.class_ids)


def shuffled_scores(rng: np.random.Generator, like: ScoreGrid) -> ScoreGrid:
    """Argmax-consistent noise (the control): at each grid point the top class keeps its
    probability (the same argmax, the same confidence and margin), and the other classes'
    probabilities are shuffled among them: nothing left on which class comes second."""
    p = like.probs.astype(np.float32)
    order = np.argsort(-p, axis=1)  # per point: the classes by their probability
    top, rest = order[:, :1], order[:, 1:]
    keys = rng.random(rest.shape)
    moved = np.take_along_axis(rest, np.argsort(keys, axis=1), axis=1)  # a random order
    out = np.empty_like(p)
    np.put_along_axis(out, top, np.take_along_axis(p, top, axis=1), axis=1)
    np.put_along_axis(out, moved, np.take_along_axis(p, rest, axis=1), axis=1)
    return ScoreGrid(out.astype(np.float16), (), like.image_shape, like.class_ids)


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


def camera_image(
    rng: np.random.Generator, regions: np.ndarray, gt: np.ndarray, setting: Setting, bands
) -> np.ndarray:
    """The ground truth as a camera sees it (RGB uint8): each class a random fixed colour
    (semantic neighbours alike, within 0.05, where ``close``), each region x 0.75-1.25
    brighter, ``lookalike`` of them the colour of a touching region of another class
    (x 0.95-1.05), ``inner`` of them two-toned along a line through their centre (x 0.7-0.85
    on one side), the ``bands`` of boundaries the model moved x 0.8 (an edge there), a smooth
    shading (+-10%), a texture (+-0.04, 6 px grain), pixel noise (sd 0.02), a 1.5 px blur."""
    n = int(regions.max()) + 1
    classes = np.zeros(n, np.int64)
    classes[regions.ravel()] = gt.ravel() - 1
    palette = rng.uniform(0.1, 0.9, (N_CLASSES, 3))
    if setting.close:
        for a, b in CLOSE_PAIRS:
            palette[b] = np.clip(palette[a] + rng.uniform(-0.05, 0.05, 3), 0, 1)
    colour = palette[classes] * rng.uniform(0.75, 1.25, (n, 1))
    pairs = neighbours(regions, gt)
    for k in rng.permutation(n):
        touching = pairs[(pairs == k).any(axis=1)]
        if len(touching) and rng.random() < setting.lookalike:
            other = next(m for m in touching[rng.integers(len(touching))] if m != k)
            colour[k] = colour[other] * rng.uniform(0.95, 1.05)
    shape = regions.shape
    tone = np.ones(shape, np.float32)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    for k, box in enumerate(ndimage.find_objects(regions), start=1):
        if box is None or rng.random() >= setting.inner:
            continue
        cy, cx = ((s.start + s.stop) / 2 for s in box)
        angle = rng.uniform(0, np.pi)
        side = (yy[box] - cy) * np.cos(angle) - (xx[box] - cx) * np.sin(angle) > 0
        tone[box][side & (regions[box] == k)] = rng.uniform(0.7, 0.85)
    tone[bands] *= 0.8
    shading = 1 + 0.1 * smooth_noise(rng, shape, max(shape) // 4)
    image = colour[regions] * (tone * shading)[..., None]
    for c in range(3):
        image[..., c] += 0.04 * smooth_noise(rng, shape, 6) + rng.normal(0, 0.02, shape)
        image[..., c] = ndimage.gaussian_filter(image[..., c], 1.5)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def make_task(
    shape: tuple[int, int], setting: Setting, seed: int, premise: Premise = PREMISE
) -> Task:
    """The task of ``setting`` at ``seed`` (deterministic), its scores under ``premise``."""
    rng = np.random.default_rng(seed)
    regions, gt = ground_truth(rng, shape, setting)
    model = belief(rng, regions, gt, setting)
    scores = make_scores(rng, model, shape, premise=premise)
    image = camera_image(np.random.default_rng((seed, 1)), regions, gt, setting, model.bands)
    cells = superpixels(image)
    pre = pre_annotation(scores)
    return Task(setting, gt, scores, pre, image, cells, cell_edges(image, cells),
                error_kinds(pre, gt, model), premise.line())  # fmt: skip


def error_kinds(pre: np.ndarray, gt: np.ndarray, model: Belief) -> dict[str, np.ndarray]:
    """The pre-annotation's error pixels by the error the model made there."""
    wrong = pre != gt
    kinds = {WHOLE: np.zeros(gt.shape, bool), PARTIAL: np.zeros(gt.shape, bool)}
    for pixels, *_, kind in model.confusions:
        kinds[kind] |= pixels & wrong
    kinds[PARTIAL] &= ~kinds[WHOLE]
    confused = kinds[WHOLE] | kinds[PARTIAL]
    kinds["boundary"] = wrong & (model.labels != gt) & ~confused
    kinds["speckle"] = wrong & ~confused & ~kinds["boundary"]
    return kinds
