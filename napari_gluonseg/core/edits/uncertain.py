"""Where a person should look first: the connected regions the model was unsure about.

A pixel is uncertain when it was left unlabeled (its top probability below the run's
``min_confidence``) or, where the run's scores were kept, when its two best classes are within
MARGIN_THRESHOLD of each other. The review walks these regions largest first and skips those
the person has already edited.
"""

from __future__ import annotations

import numpy as np

from ..run.scores import ScoreGrid
from .merge import Region

# Two best classes within this probability of each other: the model hesitates.
MARGIN_THRESHOLD = 0.1


def uncertain_mask(labels: np.ndarray, scores: ScoreGrid | None) -> np.ndarray:
    """Unlabeled pixels, and those of small margin where ``scores`` were kept (bool array)."""
    mask = np.asarray(labels) == 0
    if scores is not None:
        mask |= scores.margin_map() < MARGIN_THRESHOLD
    return mask


class UncertainRegions:
    """The connected regions of :func:`uncertain_mask` over ``labels`` (as the run left them),
    largest first, visited in turn by :meth:`next_unedited`."""

    def __init__(self, labels: np.ndarray, scores: ScoreGrid | None) -> None:
        from scipy import ndimage

        self.labels = np.asarray(labels)
        self.components, count = ndimage.label(uncertain_mask(self.labels, scores))
        sizes = np.bincount(self.components.ravel(), minlength=count + 1)[1:]
        boxes = ndimage.find_objects(self.components)
        order = sorted(range(count), key=lambda n: (-sizes[n], n))
        self.regions: list[tuple[int, Region, int]] = [
            (n + 1, tuple(boxes[n]), int(sizes[n])) for n in order
        ]
        self._next = 0

    def __len__(self) -> int:
        return len(self.regions)

    def next_unedited(self, current: np.ndarray) -> tuple[int, Region, int] | None:
        """The next region (cycling, largest first) none of whose pixels differs in
        ``current`` from the labels the regions were found in: (its rank from 0, bounding box,
        pixels); None when every region was edited."""
        for _ in range(len(self.regions)):
            rank = self._next
            component, box, size = self.regions[rank]
            self._next = (rank + 1) % len(self.regions)
            inside = self.components[box] == component
            if np.array_equal(np.asarray(current[box])[inside], self.labels[box][inside]):
                return rank, box, size
        return None
