"""A new last classifier fitted on the network's features: a softmax regression.

A softmax regression over the features of one grid cell is a 1x1 convolution followed by the
run's softmax, so a learned model is the base graph with its final classifier's weights and
bias replaced. It is fitted with scipy's L-BFGS on the exact cross-entropy, L2-regularised and
class-balanced: the problem is convex and small (a few classes x 512 features), scipy is already
installed (scikit-image needs it), and L-BFGS on this loss is what scikit-learn's ``lbfgs``
solver runs too. Classes no corrected pixel holds keep their place in the class table (the
labels keep their meaning) but are never predicted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import LearningError, SegmentationCancelled
from .samples import Samples

L2 = 1e-3  # on the standardized features' weights: a mild pull towards 0, for few images
MAX_ITERATIONS = 200
# Rows a fit uses at most, shared equally by the classes: a linear head on 512 features is as
# good from 12,000 rows as from all the cells of twenty photos, in a fraction of the time.
MAX_ROWS = 12_000
NEVER = -30.0  # the bias of a class no training pixel holds: its probability is ~1e-13


@dataclass(frozen=True)
class LinearHead:
    """``weight`` (K, C) and ``bias`` (K,), float32: logits = weight @ features + bias."""

    weight: np.ndarray
    bias: np.ndarray

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(n, K) for ``features`` (n, C)."""
        return features @ self.weight.T + self.bias

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.argmax(self.logits(features), axis=1)


def balanced_weights(samples: Samples) -> np.ndarray:
    """Each row's weight, scaled so that every class present weighs the same in all (a class
    of a few pixels is not drowned by the background), summing to 1."""
    present, index = np.unique(samples.targets, return_inverse=True)
    totals = np.bincount(index, weights=samples.weights, minlength=len(present))
    weights = samples.weights / totals[index]
    return weights / weights.sum()


def fewer_rows(samples: Samples, limit: int = MAX_ROWS, seed: int = 0) -> Samples:
    """At most ``limit`` rows, each class keeping an equal share (all its rows if fewer),
    drawn at random with a fixed seed: the same corrections give the same head."""
    if len(samples) <= limit:
        return samples
    rng = np.random.default_rng(seed)
    present = np.unique(samples.targets)
    share = limit // len(present)
    keep = []
    for k in present:
        rows = np.flatnonzero(samples.targets == k)
        keep.append(rows if len(rows) <= share else rng.choice(rows, share, replace=False))
    return samples.where(np.sort(np.concatenate(keep)))


def fit_head(
    samples: Samples,
    n_classes: int,
    l2: float = L2,
    should_stop: Callable[[], bool] | None = None,
    start: LinearHead | None = None,
) -> LinearHead:
    """The head that best separates ``samples`` into their classes (0..n_classes-1), from
    ``start`` if given (a head fitted on more rows: a few iterations then suffice).

    Raises :class:`LearningError` with fewer than two classes;
    :class:`SegmentationCancelled` when ``should_stop`` answers True between iterations.
    """
    samples = fewer_rows(samples)
    present = np.unique(samples.targets)
    if len(present) < 2:
        raise LearningError(
            f"The corrected labels hold {len(present)} class(es): a head needs at least two "
            "to tell apart. Correct more of the images, or other classes."
        )
    x = samples.features.astype(np.float32)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    rows = np.searchsorted(present, samples.targets)  # class -> its row among the present
    k, c = len(present), z.shape[1]
    onehot = np.zeros((len(rows), k), np.float32)
    onehot[np.arange(len(rows)), rows] = 1.0
    weights = balanced_weights(samples).astype(np.float32)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        v = theta[: k * c].reshape(k, c).astype(np.float32)
        b = theta[k * c :].astype(np.float32)
        logits = z @ v.T + b
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        total = exp.sum(axis=1, keepdims=True)
        value = float(weights @ (np.log(total[:, 0]) - (logits * onehot).sum(axis=1)))
        residual = (exp / total - onehot) * weights[:, None]
        grad_v = residual.T @ z + l2 * v
        grad_b = residual.sum(axis=0)
        value += 0.5 * l2 * float((v.astype(np.float64) ** 2).sum())
        return value, np.concatenate([grad_v.ravel(), grad_b]).astype(np.float64)

    def check(_theta: np.ndarray) -> None:
        if should_stop is not None and should_stop():
            raise SegmentationCancelled("Learning cancelled.")

    theta = np.zeros(k * c + k)
    if start is not None:  # in the standardized units of these rows
        v0 = start.weight[present] * scale
        theta = np.concatenate([v0.ravel(), start.bias[present] + start.weight[present] @ mean])
    from scipy.optimize import minimize  # on first use: importing the package stays light
    from threadpoolctl import threadpool_limits

    # One BLAS thread: products of a few thousand rows by 512 gain nothing from more, and on 2
    # busy cores (the dock's GUI, a run beside) OpenBLAS's threads made learning from 20 images
    # 1.6x slower (59.7 s against 38 s: benchmarks/bench_learning.py).
    with threadpool_limits(limits=1, user_api="blas"):
        found = minimize(
            loss,
            theta,
            jac=True,
            method="L-BFGS-B",
            callback=check,
            options={"maxiter": MAX_ITERATIONS},
        )
    v = found.x[: k * c].reshape(k, c) / scale  # back to the features' own units
    b = found.x[k * c :] - v @ mean
    weight = np.zeros((n_classes, c), np.float32)
    bias = np.full(n_classes, NEVER, np.float32)
    weight[present], bias[present] = v, b
    return LinearHead(weight, bias)


# Held-out folds at most: up to this many images each is left out in turn; beyond, the images
# are dealt into this many groups, each left out in turn (a few seconds in all).
MAX_FOLDS = 5


@dataclass(frozen=True)
class HeldOutScore:
    """How a head fitted without an image labels that image, over all images in turn
    (leave-one-image-out, in at most :data:`MAX_FOLDS` groups of images): pixel ``accuracy``
    and per-class ``iou`` (NaN: class never present nor predicted), over the grid cells the
    person labelled."""

    accuracy: float
    iou: np.ndarray
    images: int
    folds: int

    @property
    def mean_iou(self) -> float:
        return float(np.nanmean(self.iou)) if np.isfinite(self.iou).any() else float("nan")


def held_out_score(
    samples: Samples,
    n_classes: int,
    should_stop: Callable[[], bool] | None = None,
    on_fold: Callable[[int, int], None] | None = None,
) -> HeldOutScore | None:
    """Leave-one-image-out: each image labelled by a head fitted on the others (None with
    fewer than two images, or where no other image has two classes)."""
    images = np.unique(samples.image)
    if len(images) < 2:
        return None
    everything = fit_head(samples, n_classes, should_stop=should_stop)
    folds = min(len(images), MAX_FOLDS)
    group = {int(image): n % folds for n, image in enumerate(images)}
    fold_of = np.array([group[int(i)] for i in samples.image])
    confusion = np.zeros((n_classes, n_classes), np.int64)
    scored = 0
    for fold in range(folds):
        if on_fold is not None:
            on_fold(fold, folds)
        train = samples.where(fold_of != fold)
        if len(np.unique(train.targets)) < 2:
            continue
        head = fit_head(train, n_classes, should_stop=should_stop, start=everything)
        test = samples.where(fold_of == fold)
        np.add.at(confusion, (test.targets, head.predict(test.features)), 1)
        scored += int(np.unique(test.image).size)
    if scored == 0:
        return None
    hits = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, hits / union, np.nan)
    return HeldOutScore(float(hits.sum() / confusion.sum()), iou, scored, folds)
