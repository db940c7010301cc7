"""Learning a model from corrected images: features of each image, a head fitted on the labels
the person gave, its held-out score, and the learned model file.

:func:`iter_learn` is the generator the docks run in a worker (progress events, closed to
cancel); :func:`learn` runs it for scripts and the command line; :func:`corrected_images` reads
the corrections a review saved. What the images' results hold is never written to.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ExportError, LearningError
from ..events import Progress, Stage
from ..models.learned import learned_entries
from ..models.registry import DEFAULT_MODEL, model_info
from ..models.weights import ResolvedWeights, iter_resolve_weights
from ..run.layout import WINDOW_PIXELS
from ..run.plan import working_size
from ..run.segment import run_to_end
from .features import iter_image_features
from .head import HeldOutScore, LinearHead, fit_head, held_out_score
from .learned_file import write_learned_model
from .samples import Samples, grid_samples

# The largest working image whose features are taken in one piece, beyond the model's own size
# (scale "auto", always taken whole: 3.1 MP for a 3:4 photo on Cityscapes' 2048): the largest
# window a run feeds the network (run/layout.py); a larger one would need the run's tiling, and
# its memory. (Families that cannot run on the grid tile beyond 0.6 MP: between the two, their
# features are the whole image's, not the tiles' a run sees.)
MAX_FEATURE_PIXELS = WINDOW_PIXELS[0]


@dataclass(frozen=True)
class CorrectedImage:
    """An image and the labels a person corrected on it: ``labels`` (H, W), value k + 1 for
    class k of the class table, 0 unlabeled; ``hand`` (H, W) the pixels set by hand, if known;
    ``image_options``: how the image reaches the network, as its run had it
    (:meth:`RunOptions.image_options`)."""

    name: str
    image: Any
    labels: np.ndarray
    hand: np.ndarray | None = None
    image_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Learned:
    """A head learned on a base model, with what it was learned from and how well it labels
    images it was not fitted on (``held_out``: None with one image)."""

    head: LinearHead
    base: str
    weights: ResolvedWeights
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    images: tuple[str, ...]
    pixels: int
    held_out: HeldOutScore | None
    seconds: float
    scale: float | str | list[float | str] = "auto"  # its images' runs' (a list where several)

    def record(self) -> dict[str, Any]:
        """What the learned model file keeps of its learning (its provenance)."""
        score = self.held_out
        return {
            "scale": self.scale,  # the working resolution its features were taken at
            "neighbourhood": self.head.neighbourhood,  # grid cells its logits are averaged over
            "base_weights": str(self.weights.path),  # to learn again on the same features
            "base_weights_sha1": self.weights.sha1,
            "images": list(self.images),
            "pixels": self.pixels,
            "held_out": None
            if score is None
            else {
                "accuracy": round(score.accuracy, 4),
                "iou": [None if np.isnan(v) else round(float(v), 4) for v in score.iou],
                "images": score.images,
                "folds": score.folds,
            },
            "learned": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def summary(self) -> str:
        """What was learned, in a few lines: classes, images, the held-out score per class."""
        present = self.head.classes
        lines = [
            f"Learned {len(present)} classes on {self.base}'s features from "
            f"{len(self.images)} image(s), {self.pixels} labelled grid cells, "
            f"in {self.seconds:.1f} s."
        ]
        score = self.held_out
        if score is None:
            lines.append("No held-out score: one image (correct another to have one).")
            return "\n".join(lines)
        lines.append(
            f"Held out ({score.folds} folds over {score.images} images): pixel accuracy "
            f"{score.accuracy:.1%}, mean IoU {score.mean_iou:.1%}"
        )
        for k in present:
            iou = score.iou[k]
            lines.append(
                f"  {self.class_names[k]:24s} IoU {'-' if np.isnan(iou) else f'{iou:.1%}'}"
            )
        return "\n".join(lines)


def iter_learn(
    images: Sequence[CorrectedImage],
    class_names: Sequence[str],
    colors: Sequence[tuple[int, int, int]],
    model_name: str = DEFAULT_MODEL,
    weights: str | os.PathLike | None = None,
    threads: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Generator[Progress, None, Learned]:
    """Learn a head for ``class_names`` (the labels' class table) on ``model_name``'s features
    from ``images``; yields progress (the features of each image, then the fits).

    Raises :class:`LearningError` naming what cannot teach a head: no image, labels of another
    size, values beyond the class table, fewer than two classes.
    """
    started = time.perf_counter()
    info = model_info(model_name)
    names, table = tuple(class_names), tuple((int(r), int(g), int(b)) for r, g, b in colors)
    _check_images(images, len(names), info.base_size)
    resolved = yield from iter_resolve_weights(info.name, weights)
    parts = []
    for n, item in enumerate(images):
        yield Progress(Stage.INFER, n, len(images), f"features of {item.name}")
        found = yield from iter_image_features(
            item.image, info.name, resolved, threads=threads, **item.image_options
        )
        parts.append(grid_samples(found.features, found.grid_pixels(), item.labels, n, item.hand))
    samples = Samples.join(parts)
    if not len(samples):
        raise LearningError("The corrected labels hold no labelled pixel: nothing to learn.")
    yield Progress(Stage.POSTPROCESS, 0, 2, "fitting the head")
    head = fit_head(samples, len(names), should_stop=should_stop)
    yield Progress(Stage.POSTPROCESS, 1, 2, "scoring it on images it was not fitted on")
    score = held_out_score(samples, len(names), should_stop=should_stop)
    yield Progress(Stage.POSTPROCESS, 2, 2, "learned")
    return Learned(
        head,
        info.name,
        resolved,
        names,
        table,
        tuple(i.name for i in images),
        len(samples),
        score,
        time.perf_counter() - started,
        _scales(images),
    )


def _scales(images: Sequence[CorrectedImage]) -> float | str | list[float | str]:
    """The scale the images' runs had: one value, or the sorted list of them where several."""
    found = sorted({item.image_options.get("scale", "auto") for item in images}, key=str)
    return found[0] if len(found) == 1 else found


def _check_images(images: Sequence[CorrectedImage], n_classes: int, base_size: int) -> None:
    if not images:
        raise LearningError("No corrected image: correct at least one, then learn.")
    for item in images:
        labels = np.asarray(item.labels)
        shape = np.shape(item.image)[: labels.ndim]
        if labels.ndim != 2 or shape != labels.shape:
            raise LearningError(
                f"{item.name}: labels of shape {labels.shape} for an image of shape "
                f"{np.shape(item.image)}: they must cover the image, one 2-D plane."
            )
        height, width = labels.shape
        scale = item.image_options.get("scale", "auto")
        work = working_size(height, width, scale, base_size)
        auto = working_size(height, width, "auto", base_size)  # always taken whole
        if work[0] * work[1] > max(MAX_FEATURE_PIXELS, auto[0] * auto[1]):
            raise LearningError(
                f"{item.name}: its run's scale {scale!r} takes the {height}x{width} image to "
                f"{work[0]}x{work[1]}, over the {MAX_FEATURE_PIXELS:,} pixels learning feeds "
                "the network in one piece: learn from runs at scale 'auto' or a smaller scale."
            )
        top = int(labels.max(initial=0))
        if top > n_classes:
            raise LearningError(
                f"{item.name}: label {top} is beyond the {n_classes} classes of the class "
                "table: labels of another model or scheme."
            )


def learn(
    images: Sequence[CorrectedImage],
    class_names: Sequence[str],
    colors: Sequence[tuple[int, int, int]],
    model_name: str = DEFAULT_MODEL,
    weights: str | os.PathLike | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Learned:
    """:func:`iter_learn` run to its end."""
    return run_to_end(iter_learn(images, class_names, colors, model_name, weights), on_progress)


def check_learned_path(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse, before any learning, a file name that cannot take the model: not ``.onnx``, a
    folder, a folder that does not exist, or a file there (without ``overwrite``)."""
    out = Path(path)
    if out.suffix.lower() != ".onnx":
        raise ExportError(f"The learned model file {out} must end in .onnx.")
    if out.is_dir():
        raise ExportError(f"{out} is a folder: give the .onnx file to write.")
    if not out.absolute().parent.is_dir():
        raise ExportError(f"The folder of {out} does not exist: make it, or give another file.")
    if out.exists() and not overwrite:
        raise ExportError(f"{out} exists: give another name, or overwrite it.")
    return out


def save_learned(learned: Learned, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write the learned model file (whole or not at all); chosen afterwards by its path, like
    a zoo model's name."""
    out = check_learned_path(path, overwrite)
    weight, bias = learned.head.weight, learned.head.bias
    meta = learned_entries(learned.base, learned.class_names, learned.colors, learned.record())
    head = (weight, bias, learned.head.neighbourhood)
    return write_learned_model(out, learned.base, learned.weights, head, meta)
