"""A new last classifier fitted on the network's features: a softmax regression.

A softmax regression over the features of one grid cell (averaged over its neighbourhood:
``samples.neighbourhood_mean``) is a 1x1 convolution followed by the run's softmax, so a learned
model is the base graph with its final classifier's weights and bias replaced (and its logits
averaged over the same neighbourhood). It is fitted with scipy's L-BFGS on the exact
cross-entropy, L2-regularised and class-balanced: the problem is convex and small (a few classes
x 512 features), scipy is already installed (scikit-image needs it), and L-BFGS on this loss is
what scikit-learn's ``lbfgs`` solver runs too. Classes no corrected pixel holds keep their place
in the class table (the labels keep their meaning) but are never predicted.

Balanced, then told the classes' frequencies: the balanced fit learns the rare classes as well
as the common ones (each weighs the same), which estimates p(class | cell) / p(class); adding
log p(class) (the share of the corrected cells each class holds) to the bias gives back
p(class | cell), so a cell the features leave in doubt goes to the class the images hold most
instead of a rare one spread over the background (logit adjustment; Menon et al., ICLR 2021).
On the benchmark's tasks (benchmarks/bench_learning.py, untrained backbone), after 5 images:
0.4-8.4 points of held-out accuracy alone; with the neighbourhood, 2.4-11.8 points, and 11-54%
fewer actions to correct a pre-annotation to 95% with brush and fill (docs/learning.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LearningError, SegmentationCancelled
from .samples import NEIGHBOURHOOD, Samples, neighbourhood_mean

L2 = 1e-3  # on the standardized features' weights: a mild pull towards 0, for few images
# L-BFGS iterations: on the benchmark's tasks the held-out scores after 100 are those after 200
# or 400 (within 0.4 points), in half the time.
MAX_ITERATIONS = 100
# Rows a fit uses at most, shared equally by the classes: a linear head on 512 features is as
# good from 12,000 rows as from all the cells of twenty photos, in a fraction of the time.
MAX_ROWS = 12_000
# The bias of a class no training pixel holds (its weights 0): below any fitted logit, so its
# probability is 0 wherever the features lie.
NEVER = -1e4


@dataclass(frozen=True)
class LinearHead:
    """``weight`` (K, C) and ``bias`` (K,), float32: logits = weight @ features + bias, on
    features averaged over ``neighbourhood`` grid cells each way (1: each cell alone)."""

    weight: np.ndarray
    bias: np.ndarray
    neighbourhood: int = 1

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(n, K) for rows ``features`` (n, C), already averaged over the neighbourhood."""
        return features @ self.weight.T + self.bias

    def grid_logits(self, grid: np.ndarray) -> np.ndarray:
        """(K, h, w) for the network's features ``grid`` (C, h, w): what the learned model file
        gives before its resize."""
        c, h, w = grid.shape
        rows = neighbourhood_mean(grid, self.neighbourhood).reshape(c, h * w).T
        return self.logits(rows).T.reshape(-1, h, w)

    @property
    def classes(self) -> np.ndarray:
        """The classes it was fitted on (the others have weights 0 and bias ``NEVER``)."""
        return np.flatnonzero((self.weight != 0).any(axis=1) | (self.bias != NEVER))

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.argmax(self.logits(features), axis=1)


def balanced_weights(samples: Samples) -> np.ndarray:
    """Each row's weight, scaled so that every class present weighs the same in all (a class
    of a few pixels is not drowned by the background), summing to 1."""
    present, index = np.unique(samples.targets, return_inverse=True)
    totals = np.bincount(index, weights=samples.weights, minlength=len(present))
    weights = samples.weights / totals[index]
    return weights / weights.sum()


def fewer_rows(targets: np.ndarray, limit: int = MAX_ROWS, seed: int = 0) -> np.ndarray:
    """The indices of at most ``limit`` of the rows of ``targets``, each class keeping an equal
    share (all its rows if fewer), drawn at random with a fixed seed: the same corrections
    give the same head."""
    if len(targets) <= limit:
        return np.arange(len(targets))
    rng = np.random.default_rng(seed)
    present = np.unique(targets)
    share = limit // len(present)
    keep = []
    for k in present:
        rows = np.flatnonzero(targets == k)
        keep.append(rows if len(rows) <= share else rng.choice(rows, share, replace=False))
    return np.sort(np.concatenate(keep))


_blas_lock = threading.Lock()
_blas_users: list[Any] = []  # the limiter while any fit runs, once per fit running


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """OpenBLAS on one thread while any fit runs, in any thread; its threads given back when
    the last one ends. (threadpoolctl's own limits, entered and left by fits running side by
    side, could restore the threads under the other one, or leave them at one for good.)

    One thread: products of a few thousand rows by 512 gain nothing from more, and on 2 busy
    cores (the dock's GUI, a run beside) OpenBLAS's threads made learning from 20 images 1.6x
    slower (59.7 s against 38 s: benchmarks/bench_learning.py)."""
    from threadpoolctl import threadpool_limits

    with _blas_lock:
        limiter = _blas_users[0] if _blas_users else threadpool_limits(1, user_api="blas")
        _blas_users.append(limiter)
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users.pop()
            if not _blas_users:
                limiter.restore_original_limits()


def fit_head(
    samples: Samples,
    n_classes: int,
    l2: float = L2,
    should_stop: Callable[[], bool] | None = None,
    neighbourhood: int = NEIGHBOURHOOD,
    rows: np.ndarray | None = None,
) -> LinearHead:
    """The head that best separates ``samples`` (its ``rows``, indices; None: all) into their
    classes (0..n_classes-1), class-balanced, its bias then told each class's share of the
    rows. ``neighbourhood``: the one ``samples``' features were averaged over
    (``grid_samples``'), kept with the head. Only the rows fitted on are copied.

    Raises :class:`LearningError` with fewer than two classes;
    :class:`SegmentationCancelled` when ``should_stop`` answers True between iterations.
    """
    chosen = np.arange(len(samples)) if rows is None else np.asarray(rows)
    present, counts = np.unique(samples.targets[chosen], return_counts=True)
    log_share = np.log(counts / counts.sum())  # before fewer_rows evens the classes out
    samples = samples.where(chosen[fewer_rows(samples.targets[chosen])])
    if len(present) < 2:
        raise LearningError(
            f"The corrected labels hold {len(present)} class(es): a head needs at least two "
            "to tell apart. Correct more of the images, or other classes."
        )
    x = samples.features.astype(np.float32)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    index = np.searchsorted(present, samples.targets)  # class -> its row among the present
    k, c = len(present), z.shape[1]
    onehot = np.zeros((len(index), k), np.float32)
    onehot[np.arange(len(index)), index] = 1.0
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
    from scipy.optimize import minimize  # on first use: importing the package stays light

    with one_blas_thread():
        found = minimize(
            loss,
            theta,
            jac=True,
            method="L-BFGS-B",
            callback=check,
            options={"maxiter": MAX_ITERATIONS},
        )
    v = found.x[: k * c].reshape(k, c) / scale  # back to the features' own units
    b = found.x[k * c :] - v @ mean + log_share
    weight = np.zeros((n_classes, c), np.float32)
    bias = np.full(n_classes, NEVER, np.float32)
    weight[present], bias[present] = v, b
    return LinearHead(weight, bias, neighbourhood)


# Held-out folds at most: up to this many images each is left out in turn; beyond, the images
# are dealt into this many groups, each left out in turn (a few seconds in all).
MAX_FOLDS = 5
FOLD_THREADS = 2  # folds fitted side by side


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
    neighbourhood: int = NEIGHBOURHOOD,
) -> HeldOutScore | None:
    """Leave-one-image-out: each image labelled by a head fitted on the others, from nothing
    (a start from the head fitted on all would carry the left-out image into its score), None
    with fewer than two images, or where no other image has two classes.

    The folds are fitted two at a time: each fit runs its BLAS on one thread, and on 2 cores
    two fits side by side took the 5 folds of 15 images from 6.8 s to 4.2 s."""
    images = np.unique(samples.image)
    if len(images) < 2:
        return None
    folds = min(len(images), MAX_FOLDS)
    group = {int(image): n % folds for n, image in enumerate(images)}
    fold_of = np.array([group[int(i)] for i in samples.image])

    def fold_confusion(fold: int) -> tuple[np.ndarray, int]:
        if should_stop is not None and should_stop():  # a fold not begun when Cancel came
            raise SegmentationCancelled("Learning cancelled.")
        confusion = np.zeros((n_classes, n_classes), np.int64)
        train = np.flatnonzero(fold_of != fold)
        if len(np.unique(samples.targets[train])) < 2:
            return confusion, 0
        head = fit_head(samples, n_classes, should_stop=should_stop,
                        neighbourhood=neighbourhood, rows=train)  # fmt: skip
        test = samples.where(fold_of == fold)
        np.add.at(confusion, (test.targets, head.predict(test.features)), 1)
        return confusion, int(np.unique(test.image).size)

    from concurrent.futures import ThreadPoolExecutor

    confusion = np.zeros((n_classes, n_classes), np.int64)
    scored = 0
    # One BLAS thread around all of it, not only each fit: a fold's prediction with OpenBLAS's
    # threads beside the other fold's fit made learning from 20 images 5 s slower (32.7 s).
    with one_blas_thread():
        pool = ThreadPoolExecutor(FOLD_THREADS)
        try:
            for done, (matrix, images_scored) in enumerate(pool.map(fold_confusion, range(folds))):
                if on_fold is not None:
                    on_fold(done, folds)
                confusion += matrix
                scored += images_scored
        finally:  # a fold that failed (or was cancelled): the others not started are not
            pool.shutdown(wait=True, cancel_futures=True)
    if scored == 0:
        return None
    hits = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, hits / union, np.nan)
    return HeldOutScore(float(hits.sum() / confusion.sum()), iou, scored, folds)
