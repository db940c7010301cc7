"""Training rows from one corrected image: each cell of the network's feature grid, with the
label the person gave the pixel under it.

The logits a run resizes to the image are the grid's, stretched with aligned corners, so each
grid cell stands for one image pixel (:meth:`~.features.ImageFeatures.grid_pixels`): its label
is that cell's target. Cells in the padding, and unlabeled pixels (0), are not rows; pixels set
by hand weigh more.

A row's features are the mean of its cell's over the cells around it
(:func:`neighbourhood_mean`, :data:`NEIGHBOURHOOD` cells wide): the learned model averages its
logits over the same neighbourhood (the mean of a linear map is the map of the mean), so a cell
is judged by its surroundings as well as itself. On an untrained backbone's features this was
worth 2.5-5.5 points of held-out accuracy and 4-6 points of mIoU after 5 images, alone
(benchmarks/bench_learning.py's tasks); 3 cells (24 px at stride 8) is the smallest: 5 or 7
were no better there overall (a scratch script), and a wider one blurs boundaries more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LearningError

# A hand-set pixel counts this many times a pixel the person only accepted from the model.
HAND_WEIGHT = 2.0
NEIGHBOURHOOD = 3  # grid cells each way over which a learned head averages (odd)


def neighbourhood_mean(grid: np.ndarray, size: int = NEIGHBOURHOOD) -> np.ndarray:
    """(C, h, w) each cell's mean over the ``size`` x ``size`` cells centred on it that lie in
    the grid (at the borders, the fewer that do): ONNX's AveragePool with
    ``count_include_pad=0``, which the learned model file runs on its logits."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"a neighbourhood is an odd number of cells, not {size}")
    x = np.asarray(grid, np.float32)
    if size == 1:
        return x
    from scipy import ndimage  # on first use: importing the package stays light

    total = ndimage.uniform_filter(x, size=(1, size, size), mode="constant")  # / size**2
    inside = ndimage.uniform_filter(np.ones(x.shape[1:], np.float32), size, mode="constant")
    return total / inside


@dataclass(frozen=True)
class Samples:
    """Rows of a fit: ``features`` (n, C) float32, ``targets`` (n,) class index, ``weights``
    (n,) float32, ``image`` (n,) the index of the image each row came from."""

    features: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    image: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)

    def where(self, keep: np.ndarray) -> Samples:
        """The rows where ``keep`` (a mask or indices)."""
        return Samples(
            self.features[keep], self.targets[keep], self.weights[keep], self.image[keep]
        )

    @staticmethod
    def join(parts: list[Samples]) -> Samples:
        return Samples(
            np.concatenate([p.features for p in parts]),
            np.concatenate([p.targets for p in parts]),
            np.concatenate([p.weights for p in parts]),
            np.concatenate([p.image for p in parts]),
        )


def grid_samples(
    features: np.ndarray,
    pixels: tuple[np.ndarray, np.ndarray],
    labels: np.ndarray,
    image: int,
    hand: np.ndarray | None = None,
    hand_weight: float = HAND_WEIGHT,
    neighbourhood: int = NEIGHBOURHOOD,
) -> Samples:
    """The rows of one image: ``features`` (C, h, w) on the network's grid, each averaged over
    its ``neighbourhood``; ``pixels`` each grid row's and column's image pixel (-1: padding),
    ``labels`` (H, W) the corrected labels (0 unlabeled, label v is class v - 1), ``hand``
    (H, W) the pixels set by hand (None: not known, all weigh 1)."""
    if labels.ndim != 2:
        raise LearningError(f"Labels of shape {labels.shape}: one 2-D plane per image.")
    features = neighbourhood_mean(features, neighbourhood)
    c, h, w = features.shape
    y, x = pixels
    under = labels[np.ix_(y, x)].astype(np.int64)
    keep = (under > 0) & (y[:, None] >= 0) & (x[None, :] >= 0)
    rows = features.reshape(c, h * w).T[keep.ravel()]
    weights = np.ones(int(keep.sum()), np.float32)
    if hand is not None:
        weights[hand[np.ix_(y, x)][keep]] = hand_weight
    targets = under[keep] - 1
    return Samples(
        np.ascontiguousarray(rows, np.float32),
        targets,
        weights,
        np.full(len(targets), image, np.int32),
    )
