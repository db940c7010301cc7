"""Does a head learned from corrected images label images it never saw, and better than what it
must beat? Per task setting: the learning curve of a head fitted on the network's own features
(``core/learn``: the same ``fit_head`` the Review dock's *Learn* runs) after 1, 2, 5, 10 and 20
corrected training images, scored on held-out images; two controls that must fail; what
correcting the held-out images costs a simulated annotator; the time and memory of learning.

    .venv313/bin/python benchmarks/bench_learning.py [--size 576x768] [--curve 1,2,5,10,20] \
        [--held-out-seeds 1000,...,1004] [--settings all|orientation,...] [--annotate-after 5] \
        [--skip annotator|train] [--quick]

The tasks (:func:`make_task`, truth known): synthetic images whose classes have the same mean
colour and the same colours pixel for pixel (every class is a near-binary pattern between the
image's two colours, half of each) and differ only in texture (stripes of two orientations,
a checkerboard, noise blobs) or in shape (discs vs rectangles of one texture): random layouts
per seed, the training images seeds 0-19, the held-out images seeds 1000-1004, never looked at
while the tasks and the check's margin were set (that used seeds 500-504).

Printed per setting, on the held-out images, at full resolution as a run labels them (the head's
scores on the network's grid, upsampled as a run upsamples them):
- the curve: pixel accuracy and mIoU of the learned head after n corrected images;
- control (a), must show no gain: the same training with each image's labels given to another
  image (a derangement); the script exits 1 and prints FAILED where its mIoU is above what
  labels teach without their image by more than ``GAIN_MARGIN``: the higher of chance (another
  held-out image's truth taken as the answer) and (c), the same head fitted on each cell's
  position alone (:func:`position_features`: labels keep where their classes lie). The
  control is the mean over :data:`DERANGEMENTS` derangements: a single one is a coin toss
  (:func:`deranged`), and was the check until the head was told the classes' shares, when it
  came out up to 5 points above chance + 5 in two settings. Beside it, the check run on a
  sabotaged control (the identity in place of the derangement: labels stay on their images,
  i.e. the learned head), which must see a gain where the head learned; and, a diagnostic
  only, the layout prior: each pixel the class the training labels hold most there;
- control (b), the baseline to beat: the same softmax regression (``fit_head``) on each grid
  cell's colours alone: the mean and standard deviation of R, G, B over the pixels the cell
  stands for;
- the ratios of the learned head's held-out error (1 - mIoU) to each control's (below 1: better);
- the corrections' cost: ``correction_annotator.py``'s non-oracle annotator (bench_corrections'
  own, with the dock's functions) corrects each held-out image to 95% and 99.5% pixel accuracy,
  with napari's brush and fill alone and with all the Correct dock's tools (which read each
  pre-annotation's own scores); actions and estimated seconds (the annotator's ``SECONDS``),
  summed over the held-out images. Three pre-annotations, each trained on the first
  ``--annotate-after`` training images and computed as a run computes it (its head's softmax
  on the grid, upsampled): the learned head (saved as a learned model file; that file run by
  ``segment_image`` on the first held-out image is compared with it, pixel for pixel), the base
  model (its own final classifier on the same features; its 150 ADE20K classes renamed to the
  scheme's class each covered most on the training images: the most a model that does not know
  the scheme can give; a real run compared likewise) and the colour-only head.
Then, in a process of its own, twice (OpenBLAS's threads as the shell has them, as the package
runs; then ``OPENBLAS_NUM_THREADS=1``: on 2 loaded cores OpenBLAS's two threads make the head's
fit 10x slower; the main process runs its fits with one): learning from 20 images of 576x768
with ``learn`` (features recomputed from the images, the feature graph opened from the model
cache, not built; fit and leave-one-image-out score included, as the dock runs it), its seconds
and the process's peak memory (``VmHWM`` of /proc/self/status: the whole process, imports and
the onnxruntime session included; ``ru_maxrss`` would carry the forking parent's); the learned
model file's run time against the base model's on the same image, alternated in that process
(best of ``--repeat``).

The backbone is untrained (random weights of the real architecture: no pretrained weights on
this machine), and every table says so: its features are random filters' responses, which
tell textures apart, not real classes. A pretrained backbone is expected to give features that
separate real classes, so that the curve rises faster; it changes neither the timings (the same
graph and sizes) nor what the controls must show (no gain).

``--quick``: one setting at 96x128, 1-2 training images, 2 held out, learning timed on 2 images,
one repeat: a check that it runs (the test suite's), not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# OpenBLAS's own threads, as this process found them (the training part is measured with them
# too), then one: on 2 cores that others load, its two threads make the head's fit 10-20x slower
# (measured: 20.6 s vs 1.8 s for one fit); the curve's many fits run with one.
BLAS = "OPENBLAS_NUM_THREADS"
BLAS_GIVEN = os.environ.get(BLAS)
if __name__ == "__main__" and "--part" not in sys.argv:
    os.environ[BLAS] = "1"

import numpy as np  # noqa: E402 - after the thread count it reads
from scipy import ndimage  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling modules, as a script

from _common import (  # noqa: E402
    parse_args,
    quick_mode,
    rerun,
    size,
    temporary_home,
    untrained,
)

MODEL = "fcn_resnet50_ade"
TRAIN_SEEDS = 20  # seeds 0..19: the training images of every setting
HELD_OUT = "1000,1001,1002,1003,1004"  # the figures' held-out seeds (500-504 set the tasks)
GAIN_MARGIN = 0.05  # mIoU above chance that counts as a gain of control (a)
QUICK = {
    "size": "96x128",
    "curve": "1,2",
    "held_out_seeds": "1000,1001",
    "settings": "four textures",
    "annotate_after": 2,
    "train_images": 2,
    "repeat": 1,
}
UNTRAINED = (
    "Untrained backbone (random weights of the real architecture; no pretrained weights here): "
    "a pretrained one is expected to make the curve rise faster (features that separate real "
    "classes), not to change the timings or what the controls must show (no gain)."
)


# ---------------------------------------------------------------- the tasks


@dataclass(frozen=True)
class Setting:
    """A task: ``classes`` (the first is the background), and the objects on it: each a
    (shape, class index) drawn in turn, ``shape`` "disc", "rect" or "any"."""

    name: str
    classes: tuple[str, ...]
    textures: tuple[str, ...]  # each class's texture
    objects: tuple[tuple[str, int], ...]


SETTINGS = (
    Setting(
        "orientation",
        ("horizontal stripes", "vertical stripes"),
        ("hstripes", "vstripes"),
        (("any", 1),),
    ),
    Setting(
        "four textures",
        ("noise", "horizontal stripes", "vertical stripes", "checkerboard"),
        ("noise", "hstripes", "vstripes", "checker"),
        (("any", 1), ("any", 2), ("any", 3)),
    ),
    Setting(
        "shape",
        ("noise", "disc", "rectangle"),
        ("noise", "checker", "checker"),
        (("disc", 1), ("rect", 2)),
    ),
)
SHARP = 6.0  # how near-binary the patterns are: sigmoid(SHARP * field)


def _pattern(rng: np.random.Generator, kind: str, shape: tuple[int, int], unit: float):
    """A pattern in [0, 1], half high and half low on average: ``kind`` at a period of about
    ``unit`` px, with a random phase and a slight random turn."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    period = unit * rng.uniform(0.8, 1.25)
    turn = rng.uniform(-0.15, 0.15)
    u = yy * np.cos(turn) + xx * np.sin(turn)
    v = xx * np.cos(turn) - yy * np.sin(turn)
    a, b = rng.uniform(0, 2 * np.pi, 2)
    if kind == "hstripes":
        field = np.sin(2 * np.pi * u / period + a)
    elif kind == "vstripes":
        field = np.sin(2 * np.pi * v / period + a)
    elif kind == "checker":
        s = np.sin(np.pi * u / period * 1.4 + a) * np.sin(np.pi * v / period * 1.4 + b)
        field = np.sign(s) * np.sqrt(np.abs(s))
    else:  # noise blobs of about half a period
        field = ndimage.gaussian_filter(rng.normal(0, 1, shape), period / 4).astype(np.float32)
        field /= field.std() + 1e-9
    return 1 / (1 + np.exp(-SHARP * field))


def make_task(setting: Setting, seed: int, shape: tuple[int, int]):
    """(image RGB uint8, truth (H, W) uint8 = class + 1) of ``setting`` at ``seed``."""
    rng = np.random.default_rng((SETTINGS.index(setting), seed))
    h, w = shape
    side = min(h, w)
    unit = max(4.0, side / 48)  # 12 px at 576x768
    regions = np.zeros(shape, np.int32)  # 0: the background; object n: n
    classes = [0]
    yy, xx = np.mgrid[:h, :w]
    n_objects = int(rng.integers(6, 11)) - len(setting.objects)
    kinds = [setting.objects[int(rng.integers(len(setting.objects)))] for _ in range(n_objects)]
    kinds += [setting.objects[n] for n in rng.permutation(len(setting.objects))]  # all, on top
    for n, (form, k) in enumerate(kinds, start=1):
        form = form if form != "any" else ("disc", "rect")[int(rng.integers(2))]
        cy, cx = rng.uniform(0.1, 0.9) * h, rng.uniform(0.1, 0.9) * w
        r = rng.uniform(0.07, 0.16) * side
        if form == "disc":
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:  # a rectangle of the disc's area, aspect 1:2 to 2:1
            aspect = np.exp(rng.uniform(-np.log(2), np.log(2)))
            hh, hw = r * np.sqrt(np.pi / 4 * aspect), r * np.sqrt(np.pi / 4 / aspect)
            inside = (np.abs(yy - cy) <= hh) & (np.abs(xx - cx) <= hw)
        regions[inside] = n
        classes.append(k)
    truth = (np.array(classes)[regions] + 1).astype(np.uint8)
    mix = np.zeros(shape, np.float32)
    for n in np.unique(regions):
        mask = regions == n
        mix[mask] = _pattern(rng, setting.textures[classes[n]], shape, unit)[mask]
    mid = rng.uniform(0.35, 0.65, 3)
    diff = rng.normal(0, 1, 3)
    diff *= rng.uniform(0.25, 0.45) / np.linalg.norm(diff)
    image = mid + (mix[..., None] - 0.5) * diff
    image += rng.normal(0, 0.02, image.shape)
    image = ndimage.gaussian_filter(image, (0.7, 0.7, 0))
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8), truth


# ---------------------------------------------------------------- features and scores


def colour_features(image: np.ndarray, pixels: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(6, h, w): per grid cell, the mean and standard deviation of R, G, B over the pixels
    the cell stands for (those nearer to its pixel than to its neighbours')."""
    x = image.astype(np.float64) / 255
    total = np.pad(np.cumsum(np.cumsum(x, 0), 1), ((1, 0), (1, 0), (0, 0)))
    squares = np.pad(np.cumsum(np.cumsum(x * x, 0), 1), ((1, 0), (1, 0), (0, 0)))
    (y0, y1), (x0, x1) = (_cell_edges(p, n) for p, n in zip(pixels, image.shape[:2], strict=True))

    def box(s: np.ndarray) -> np.ndarray:
        return s[y1][:, x1] - s[y0][:, x1] - s[y1][:, x0] + s[y0][:, x0]

    count = ((y1 - y0)[:, None] * (x1 - x0)[None, :])[..., None]
    mean = box(total) / count
    std = np.sqrt(np.maximum(box(squares) / count - mean**2, 0))
    return np.concatenate([mean, std], axis=2).transpose(2, 0, 1).astype(np.float32)


def position_features(shape: tuple[int, int]) -> np.ndarray:
    """(10, h, w): where each grid cell is and nothing of the image: its row and column in
    [0, 1], their squares and product, and its distance in cells to the nearest border (0, 1,
    2, 3, 4 or more, one-hot). What a head can learn from the labels' layouts alone; a
    network's features know it too, from its padding."""
    h, w = shape
    u, v = np.mgrid[:h, :w].astype(np.float32)
    u, v = u / max(h - 1, 1), v / max(w - 1, 1)
    d = np.minimum.reduce([np.mgrid[:h, :w][0], h - 1 - np.mgrid[:h, :w][0],
                           np.mgrid[:h, :w][1], w - 1 - np.mgrid[:h, :w][1]])  # fmt: skip
    near = [(np.minimum(d, 4) == n).astype(np.float32) for n in range(5)]
    return np.stack([u, v, u * u, v * v, u * v, *near])


def _cell_edges(p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    p = np.clip(np.where(p < 0, n - 1, p), 0, n - 1)
    mid = np.floor((p[:-1] + p[1:]) / 2).astype(int) + 1
    start = np.concatenate([[0], mid])
    stop = np.maximum(np.concatenate([mid, [n]]), start + 1)
    return start, stop


def grid_scores(head, features: np.ndarray, shape: tuple[int, int]):
    """The head's softmax on the grid as a run keeps it (a ScoreGrid, corners on the image's)."""
    from napari_gluonseg.core.run.scores import ScoreGrid

    logits = head.grid_logits(features)  # averaged over its neighbourhood, as the file does
    p = np.exp(logits - logits.max(axis=0))
    p /= p.sum(axis=0)
    return ScoreGrid(p[None].astype(np.float16), (), shape, tuple(range(len(p))))


def confusion(truth: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(k, k) pixel counts: truth class (row) by label class (column); labels are class + 1."""
    index = (truth.astype(np.int64) - 1) * k + labels.astype(np.int64) - 1
    return np.bincount(index.ravel(), minlength=k * k).reshape(k, k)


def scores_of(m: np.ndarray) -> tuple[float, float]:
    """Pixel accuracy and mIoU (over the classes present in the truth or the labels)."""
    hits = np.diag(m).astype(np.float64)
    union = m.sum(0) + m.sum(1) - hits
    return float(hits.sum() / m.sum()), float(np.mean(hits[union > 0] / union[union > 0]))


@dataclass
class Image:
    seed: int
    image: np.ndarray
    truth: np.ndarray
    features: np.ndarray  # the network's, (C, h, w)
    colour: np.ndarray  # (6, h, w)
    pixels: tuple[np.ndarray, np.ndarray]

    @property
    def position(self) -> np.ndarray:
        return position_features(self.features.shape[1:])

    def samples(self, index: int, truth: np.ndarray | None = None, grid: str = "features"):
        """The rows of a fit on the grid ``grid``: "features", "colour" or "position"."""
        from napari_gluonseg.core.learn.samples import grid_samples

        labels = self.truth if truth is None else truth
        return grid_samples(getattr(self, grid), self.pixels, labels, index)


def load(setting: Setting, seeds: list[int], shape, weights) -> list[Image]:
    from napari_gluonseg.core.learn.features import image_features

    out = []
    for seed in seeds:
        image, truth = make_task(setting, seed, shape)
        found = image_features(image, MODEL, weights)
        pixels = found.grid_pixels()
        out.append(
            Image(seed, image, truth, found.features, colour_features(image, pixels), pixels)
        )
    return out


# ---------------------------------------------------------------- the curve and the controls


def fit(train: list[Image], k: int, grid: str = "features", shift: int = 0):
    """The head fitted on ``train``; ``shift``: image i given the labels of training image
    i + shift (cyclic over all the setting's training images, :data:`POOL`: a derangement
    for 0 < shift < len(POOL)), 0 the real labels."""
    from napari_gluonseg.core.learn.head import fit_head
    from napari_gluonseg.core.learn.samples import Samples

    parts = []
    for i, item in enumerate(train):
        truth = None
        if shift:
            truth = POOL[(i + shift) % len(POOL)].truth
        parts.append(item.samples(i, truth, grid))
    return fit_head(Samples.join(parts), k)


POOL: list[Image] = []  # the training images of the setting being measured (derangement's)
DERANGEMENTS = 4  # control (a) is the mean over this many derangements (shifts 1, 2, ...)


def deranged(train: list[Image], test: list[Image], k: int) -> tuple[float, float, float, float]:
    """Control (a): held-out accuracy and mIoU of heads fitted on deranged labels, each the mean
    over the derangements, and the lowest and highest mIoU among them. One derangement is a
    coin toss: a head fitted to labels that say nothing of its images still picks a direction
    in which the features vary most (here, the texture that tells the classes apart), with
    either sign; the mean over several has no gain to show where the labels teach nothing."""
    shifts = range(1, min(DERANGEMENTS, len(POOL) - 1) + 1)
    got = np.array([held_out(fit(train, k, shift=s), test, k) for s in shifts])
    return float(got[:, 0].mean()), float(got[:, 1].mean()), got[:, 1].min(), got[:, 1].max()


def held_out(head, images: list[Image], k: int, grid: str = "features") -> tuple[float, float]:
    from correction_task import pre_annotation

    m = np.zeros((k, k), np.int64)
    for item in images:
        cells = getattr(item, grid)
        m += confusion(item.truth, pre_annotation(grid_scores(head, cells, item.truth.shape)), k)
    return scores_of(m)


def chance(images: list[Image], k: int) -> tuple[float, float]:
    """Another held-out image's truth taken as the answer: what knowing the layouts' statistics,
    and nothing of the image, scores."""
    m = np.zeros((k, k), np.int64)
    for i, item in enumerate(images):
        m += confusion(item.truth, images[(i + 1) % len(images)].truth, k)
    return scores_of(m)


def layout_prior(train: list[Image], test: list[Image], k: int) -> tuple[float, float]:
    """A diagnostic beside control (a): each pixel given the class its training labels hold
    most often there (class-balanced, as the head's fit): what the labels' layout alone teaches
    a head whose features know where in the image a cell is (a network's do, from its padding)."""
    counts = np.stack([sum((i.truth == c + 1).astype(np.float64) for i in train) for c in range(k)])
    counts /= np.maximum(counts.sum(axis=(1, 2), keepdims=True), 1)
    labels = (counts.argmax(axis=0) + 1).astype(np.uint8)
    m = sum(confusion(item.truth, labels, k) for item in test)
    return scores_of(m)


def gain(miou: float, floor: float) -> bool:
    return miou > floor + GAIN_MARGIN


def curve(setting: Setting, train: list[Image], test: list[Image], counts: list[int]) -> bool:
    """Print the curve and the controls; returns whether control (a) showed no gain."""
    k = len(setting.classes)
    floor = chance(test, k)
    print(
        f"chance (another held-out image's truth as the answer): accuracy {floor[0]:.1%}, "
        f"mIoU {floor[1]:.1%}"
    )
    print(
        f"| corrected images | learned head: accuracy / mIoU | (a) labels deranged: mean of "
        f"{DERANGEMENTS} (their mIoU, lowest-highest) "
        "| (c) position only | layout prior | (b) colour only "
        "| error ratio (1 - mIoU), learned / (a) | learned / (b) | fit s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    held, seen, shown = True, [], []
    for n in counts:
        t = time.perf_counter()
        real = held_out(fit(train[:n], k), test, k)
        seconds = time.perf_counter() - t
        *control, low, high = deranged(train[:n], test, k)
        colour = held_out(fit(train[:n], k, "colour"), test, k, "colour")
        position = held_out(fit(train[:n], k, "position"), test, k, "position")
        sabotaged = real  # the identity for the derangement: the learned head itself
        prior = layout_prior(train[:n], test, k)
        bar = max(floor[1], position[1])  # what labels teach without their image
        held &= not gain(control[1], bar)
        if gain(control[1], bar):
            shown.append(str(n))
        if gain(sabotaged[1], bar):
            seen.append(str(n))
        cells = [f"{a:.1%} / {m:.1%}" for a, m in (real, control, position, prior, colour)]
        cells[1] += f" ({low:.1%}-{high:.1%})"
        ratios = [f"{(1 - real[1]) / max(1 - c[1], 1e-9):.2f}x" for c in (control, colour)]
        print(f"| {n} | " + " | ".join(cells + ratios) + f" | {seconds:.2f} |")
    print(
        f"control (a), labels deranged: gain over chance and over (c), position only (mIoU above"
        f" the higher + {GAIN_MARGIN:.0%}) at any point: "
        f"{'no' if held else 'YES, after ' + ', '.join(shown) + ' images'}"
    )
    print(
        "the same check on a sabotaged control (the identity for the derangement: labels stay "
        "on their images, i.e. the learned head itself) sees a gain after "
        f"{', '.join(seen) or 'none'} of {', '.join(map(str, counts))} images"
    )
    return held


# ---------------------------------------------------------------- the corrections' cost


def base_head(params: Path, channels: int):
    """The base model's own final classifier (a LinearHead): the weight of shape (its classes,
    ``channels``, 1, 1) outside the auxiliary head, and its bias. On the grid its logits are the
    run's (the features are that classifier's input)."""
    from napari_gluonseg.core.learn.head import LinearHead
    from napari_gluonseg.core.models.params_file import read_weights
    from napari_gluonseg.core.models.registry import model_info

    shape = (model_info(MODEL).num_classes, channels, 1, 1)
    arrays = read_weights(params)
    found = [n for n, a in arrays.items() if a.shape == shape and not n.startswith("aux")]
    assert len(found) == 1, found
    weight = arrays[found[0]][:, :, 0, 0]
    return LinearHead(weight, arrays[found[0].removesuffix("weight") + "bias"])


def renamed(head, rename: np.ndarray, k: int):
    """``head``'s scores with each class summed into the scheme class ``rename`` gives it:
    a head whose logits are the log of those sums (a LinearHead's ``grid_logits`` interface)."""

    class Renamed:
        def grid_logits(self, grid: np.ndarray) -> np.ndarray:
            z = head.grid_logits(grid)
            z = np.exp(z - z.max(axis=0, keepdims=True))
            out = np.zeros((k, *z.shape[1:]), np.float64)
            np.add.at(out, rename, z)
            return np.log(np.maximum(out, 1e-30))

    return Renamed()


def annotate(setting, train, test, after: int, params: Path, home: Path) -> None:
    """The annotator's actions and seconds on the held-out images, pre-annotated three ways:
    each pre-annotation and its scores from its head on the image's grid, upsampled as a run
    does; the learned file and the base model are run once each on the first held-out image to
    check that they label it so."""
    from correction_annotator import TARGETS, Annotator, Tools
    from correction_task import BASE, Task, pre_annotation

    from napari_gluonseg import segment_image
    from napari_gluonseg.core.edits.snap import cell_edges, superpixels
    from napari_gluonseg.core.learn.learn import Learned, save_learned
    from napari_gluonseg.core.models.weights import resolve_local_weights

    k = len(setting.classes)
    used = train[:after]
    colors = tuple((40 * i, 255 - 40 * i, 128) for i in range(k))
    head = fit(used, k)
    learned = Learned(
        head,
        MODEL,
        resolve_local_weights(params),
        setting.classes,
        colors,
        tuple(str(i.seed) for i in used),
        0,
        None,
        0.0,
    )
    path = save_learned(learned, home / f"{setting.name.replace(' ', '_')}.onnx", overwrite=True)
    base = base_head(params, used[0].features.shape[0])
    m = np.zeros((len(base.bias), k), np.int64)
    for item in used:
        top = pre_annotation(grid_scores(base, item.features, item.truth.shape))
        np.add.at(m, (top.ravel().astype(np.int64) - 1, item.truth.ravel() - 1), 1)
    rename = np.where(m.sum(1) > 0, m.argmax(1), int(m.sum(0).argmax()))
    heads = {
        "learned model file": (head, False),
        "base model, renamed": (renamed(base, rename, k), False),
        "colour-only head": (fit(used, k, "colour"), True),
    }
    first = test[0]
    agree = {}
    runs = {
        "learned model file": segment_image(first.image, str(path)),
        "base model, renamed": segment_image(first.image, weights=str(params)),
    }
    for name, run in runs.items():
        labels = run.labels if name != "base model, renamed" else rename[run.labels - 1] + 1
        got = pre_annotation(grid_scores(heads[name][0], first.features, first.truth.shape))
        agree[name] = float((got == labels).mean())
    sources = tuple(heads)
    modes = (("brush + fill", Tools()), ("all tools", Tools(True, True, True, True, True)))
    totals = {(s, m): dict.fromkeys(TARGETS, (0, 0.0)) for s in sources for m, _ in modes}
    right = {s: [] for s in sources}
    for item in test:
        cells = superpixels(item.image)
        edges = cell_edges(item.image, cells)
        for name in sources:
            head, colour = heads[name]
            scores = grid_scores(head, item.colour if colour else item.features, item.truth.shape)
            pre = pre_annotation(scores)
            right[name].append(float((pre == item.truth).mean()))
            task = Task(BASE, item.truth, scores, pre, item.image, cells, edges, {})
            for mode, tools in modes:
                a = Annotator(task, tools, item.seed).run()
                cell = totals[(name, mode)]
                for t in TARGETS:
                    got = a.reached.get(t)
                    cell[t] = (
                        None
                        if got is None or cell[t] is None
                        else (cell[t][0] + got[0], cell[t][1] + got[1])
                    )
    print(
        f"\ncorrecting the {len(test)} held-out images (the annotator of bench_corrections; "
        f"each pre-annotation trained on the first {after} training images), actions / "
        "estimated seconds, summed. On the first, the learned file run by segment_image "
        f"labels {agree['learned model file']:.2%} of the pixels as its head on the grid does; "
        f"the base model's run, renamed, {agree['base model, renamed']:.2%}"
    )
    print(f"[{UNTRAINED}]")
    targets = (TARGETS[0], TARGETS[-1])
    titles = " | ".join(f"{mode}, to {100 * t:g}%" for mode, _ in modes for t in targets)
    print(f"| pre-annotated by | right | {titles} |")
    print("|---|---:|" + "---:|" * (len(modes) * len(targets)))
    for name in sources:
        cells = []
        for mode, _ in modes:
            for t in targets:
                got = totals[(name, mode)][t]
                cells.append("-" if got is None else f"{got[0]} / {got[1]:.0f} s")
        print(f"| {name} | {np.mean(right[name]):.1%} | " + " | ".join(cells) + " |")
    for other in ("base model, renamed", "colour-only head"):
        cells = []
        for mode, _ in modes:
            for t in targets:
                a, b = totals[(other, mode)][t], totals[("learned model file", mode)][t]
                cells.append(
                    "-" if a is None or b is None else f"{a[0] / b[0]:.2f}x / {a[1] / b[1]:.2f}x"
                )
        print(f"| {other} over learned | | " + " | ".join(cells) + " |")


# ---------------------------------------------------------------- training: time and memory


def peak_mb() -> float:
    """The process's peak resident memory so far (``VmHWM``; ``ru_maxrss`` where there is no
    /proc, though that one keeps a forking parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_part(args) -> dict:
    """Run in a process of its own: learn from ``train_images`` images, then the learned model
    file's run time against the base model's; the last printed line is JSON."""
    from napari_gluonseg import segment_image
    from napari_gluonseg.core.learn.learn import CorrectedImage, learn, save_learned

    start_mb = peak_mb()
    setting = next(s for s in SETTINGS if s.name == "four textures")
    shape = size(args.size)
    tasks = [make_task(setting, seed, shape) for seed in range(args.train_images)]
    images = [CorrectedImage(str(n), im, truth) for n, (im, truth) in enumerate(tasks)]
    colors = tuple((40 * i, 255 - 40 * i, 128) for i in range(len(setting.classes)))
    t = time.perf_counter()
    learned = learn(images, setting.classes, colors, MODEL, args.params)
    seconds = time.perf_counter() - t
    peak = peak_mb()
    path = save_learned(learned, Path(args.params).with_name("timed.onnx"), overwrite=True)
    image = make_task(setting, 999, shape)[0]
    runs = {
        "base": lambda: segment_image(image, weights=args.params, engine="onnxruntime"),
        "learned": lambda: segment_image(image, str(path), engine="onnxruntime"),
    }
    best = {name: float("inf") for name in runs}
    for run in runs.values() if args.repeat > 1 else ():  # opening the graphs, untimed
        run()
    for _ in range(args.repeat):
        for name, run in runs.items():
            t = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - t)
    return {
        "seconds": seconds,
        "images": len(images),
        "start_mb": start_mb,
        "peak_mb": peak,
        "pixels": learned.pixels,
        "base_s": best["base"],
        "learned_s": best["learned"],
        "cores": os.cpu_count(),
        "blas": os.environ.get(BLAS, "as installed"),
    }


def train_variants(args, params: Path, quick: bool) -> None:
    """The training part with OpenBLAS's threads as installed (as the package runs it), then
    with one thread; quick mode: the one thread only."""
    part = [
        "--part",
        "train",
        "--size",
        args.size,
        "--params",
        str(params),
        "--train-images",
        str(args.train_images),
        "--repeat",
        str(args.repeat),
    ]
    given = {k: v for k, v in os.environ.items() if k != BLAS}
    if BLAS_GIVEN is not None:
        given[BLAS] = BLAS_GIVEN
    variants = [] if quick else [(f"{BLAS} {BLAS_GIVEN or 'unset'} (as this shell has it)", given)]
    variants.append((f"{BLAS}=1", {**given, BLAS: "1"}))
    print(
        f"\nlearning from {args.train_images} images of {args.size} with ``learn``, in a process "
        "of its own (features recomputed from the images, the features graph opened from the "
        "cache; the fit and the held-out score included, as the dock runs them)"
    )
    print(f"[{UNTRAINED}]")
    for name, env in variants:
        found = rerun(__file__, part, env)
        if "error" in found:
            print(f"{name}: the training part failed: {found['error']}")
            continue
        ratio = found["learned_s"] / found["base_s"]
        print(
            f"{name}:\n  {found['seconds']:.1f} s on {found['cores']} cores (goal: 30 s on 2 "
            f"cores), {found['pixels']} labelled grid cells; peak memory {found['peak_mb']:.0f}"
            f" MB (VmHWM of the process, imports and sessions included; goal: 2048 MB), "
            f"{found['start_mb']:.0f} MB after the imports"
        )
        print(
            f"  a run on one {args.size} image, best of {args.repeat}, alternated: base model "
            f"{found['base_s']:.2f} s, learned model file {found['learned_s']:.2f} s: "
            f"{ratio:.3f}x (goal: 1.05x)"
        )


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="576x768")
    parser.add_argument("--curve", default="1,2,5,10,20")
    parser.add_argument("--held-out-seeds", default=HELD_OUT)
    parser.add_argument("--settings", default="all")
    parser.add_argument("--annotate-after", type=int, default=5)
    parser.add_argument("--skip", choices=("annotator", "train"), action="append", default=[])
    parser.add_argument("--train-images", type=int, default=TRAIN_SEEDS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--part", choices=("train",), help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parse_args(parser, argv)
    if args.part == "train":  # the caller gave the sizes
        print(json.dumps(train_part(args)))
        return 0
    quick_mode(args, QUICK)
    shape = size(args.size)
    counts = [int(v) for v in args.curve.split(",")]
    seeds = [int(v) for v in args.held_out_seeds.split(",")]
    chosen = [s for s in SETTINGS if args.settings == "all" or s.name in args.settings.split(",")]
    held = True
    with temporary_home() as home:
        from napari_gluonseg.core.models.weights import resolve_local_weights

        params = untrained(MODEL, home)
        weights = resolve_local_weights(params)
        for setting in chosen:
            start = time.perf_counter()
            train = load(setting, list(range(max(counts))), shape, weights)
            test = load(setting, seeds, shape, weights)
            POOL[:] = train
            print(
                f"\n== {setting.name}: {len(setting.classes)} classes "
                f"({', '.join(setting.classes)}), {args.size}; training seeds 0-"
                f"{max(counts) - 1}, held-out seeds {args.held_out_seeds} =="
            )
            print(f"[{UNTRAINED}]")
            held &= curve(setting, train, test, counts)
            if "annotator" not in args.skip:
                annotate(setting, train, test, min(args.annotate_after, len(train)), params, home)
            print(f"({time.perf_counter() - start:.0f} s)")
        if "train" not in args.skip:
            train_variants(args, params, args.quick)
    print()
    if not held:
        print(
            "FAILED: control (a) (labels deranged) showed a gain over chance: the curve "
            "measures nothing"
        )
        return 1
    print("control (a) (labels deranged) showed no gain in any setting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
