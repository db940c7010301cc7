"""What a segmentation run returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .scores import ScoreGrid


@dataclass
class SegmentationResult:
    """Outputs of one run, shaped like the image's spatial axes (leading axes + H, W).

    Attributes
    ----------
    labels : np.ndarray
        Integer labels: 0 = unlabeled, otherwise class index + 1 (gluoncv's palette convention).
    probabilities : dict[str, np.ndarray]
        Class name -> float32 probability in [0, 1] (softmax over all classes), for the classes
        asked for.
    confidence : np.ndarray
        float32 maximum probability per pixel.
    class_names : tuple[str, ...]
        Name of class index ``k`` (label value ``k + 1``).
    colors : tuple[tuple[int, int, int], ...]
        RGB colour of class index ``k`` (gluoncv's palette for the model's dataset).
    provenance : dict
        How the result was made: model, weights and their sha1, settings, package versions.
    scores : ScoreGrid, optional
        Every class's probability on the run's coarse grid (float16): other classes'
        probability maps, the top classes at a pixel and the margin map, without a new run.
    """

    labels: np.ndarray
    probabilities: dict[str, np.ndarray]
    confidence: np.ndarray
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    provenance: dict[str, Any] = field(default_factory=dict)
    scores: ScoreGrid | None = field(default=None, repr=False)

    @property
    def model_name(self) -> str:
        return str(self.provenance.get("model", ""))

    def class_table(self) -> list[dict[str, Any]]:
        """One row per label value present or not: index (label value), name, colour, pixels."""
        return class_table_rows(self.labels, self.class_names, self.colors)


def class_table_rows(
    labels: np.ndarray, class_names: Sequence[str], colors: Sequence[Sequence[int]]
) -> list[dict[str, Any]]:
    """Rows (index, class_name, color, pixels) for label values 0..len(class_names)."""
    counts = np.bincount(
        np.asarray(labels).ravel().astype(np.int64), minlength=len(class_names) + 1
    )
    rows: list[dict[str, Any]] = [
        {"index": 0, "class_name": "unlabeled", "color": "#00000000", "pixels": int(counts[0])}
    ]
    for k, (name, rgb) in enumerate(zip(class_names, colors, strict=True)):
        rows.append(
            {
                "index": k + 1,
                "class_name": name,
                "color": "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb[:3])),
                "pixels": int(counts[k + 1]),
            }
        )
    return rows
