"""Segmenting an image: the public entry points.

:func:`iter_segment_image` checks every argument and plans the run (:func:`~.plan.check_run`),
then carries it out (:func:`~.run.iter_run`) as a generator of progress events that returns the
result; :func:`segment_image` (scripts, CLI, tests) consumes it synchronously and the widget in a
napari ``thread_worker``. Closing the generator between two events cancels the run cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar

from .engines import ENGINES
from .errors import SegmentationCancelled
from .events import Progress
from .plan import (
    RunPlan,
    check_memory,
    check_run,
    estimate_run,
    peak_bytes,
    plan_estimate,
    working_size,
)
from .registry import DEFAULT_MODEL
from .result import SegmentationResult
from .run import iter_run
from .scheme import LabelScheme

__all__ = [
    "ENGINES",
    "RunPlan",
    "check_memory",
    "check_run",
    "estimate_run",
    "iter_segment_image",
    "peak_bytes",
    "plan_estimate",
    "run_to_end",
    "segment_image",
    "working_size",
]

T = TypeVar("T")
Y = TypeVar("Y")


def iter_segment_image(
    image: Any,
    model_name: str = DEFAULT_MODEL,
    *,
    weights: str | os.PathLike | None = None,
    scale: float | str = "auto",
    tile_size: int | str | None = "auto",
    engine: str = "auto",
    flip: bool = False,
    tta_scales: Iterable[float] = (),
    probability_classes: Iterable[str | int] = (),
    classes: Iterable[str | int] | None = None,
    min_confidence: float = 0.0,
    scheme: str | os.PathLike | LabelScheme | None = None,
    rgb: bool | None = None,
    intensity_range: tuple[float, float] | None = None,
    check_memory_first: bool = True,
    threads: int | None = None,
) -> Generator[Progress, None, SegmentationResult]:
    """Segment ``image``, yielding :class:`Progress` events; returns a SegmentationResult.

    Arguments as for :func:`segment_image`. All checks of the arguments (memory included)
    happen before the first event (:func:`check_run`), so bad input fails fast and nothing is
    downloaded for it.
    """
    plan = check_run(
        image,
        model_name,
        weights=weights,
        scale=scale,
        tile_size=tile_size,
        engine=engine,
        flip=flip,
        tta_scales=tta_scales,
        probability_classes=probability_classes,
        classes=classes,
        min_confidence=min_confidence,
        scheme=scheme,
        rgb=rgb,
        intensity_range=intensity_range,
        check_memory_first=check_memory_first,
        threads=threads,
    )
    return (yield from iter_run(plan))


def run_to_end(
    events: Generator[Y, None, T],
    on_progress: Callable[[Y], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> T:
    """Drive a generator of events (progress, image reports) to its result; raise
    SegmentationCancelled if asked to stop."""
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(event)
        if should_cancel is not None and should_cancel():
            events.close()
            raise SegmentationCancelled("Segmentation cancelled.")


def segment_image(
    image: Any,
    model_name: str = DEFAULT_MODEL,
    *,
    weights: str | os.PathLike | None = None,
    scale: float | str = "auto",
    tile_size: int | str | None = "auto",
    engine: str = "auto",
    flip: bool = False,
    tta_scales: Iterable[float] = (),
    probability_classes: Iterable[str | int] = (),
    classes: Iterable[str | int] | None = None,
    min_confidence: float = 0.0,
    scheme: str | os.PathLike | LabelScheme | None = None,
    rgb: bool | None = None,
    intensity_range: tuple[float, float] | None = None,
    check_memory_first: bool = True,
    threads: int | None = None,
) -> SegmentationResult:
    """Segment an image with a GluonCV model.

    Parameters
    ----------
    image : array-like
        (..., H, W) greyscale or (..., H, W, 3|4) RGB(A); uint8, uint16 or float (see
        :mod:`napari_gluonseg.core.preprocess` for the scaling). Leading axes are planes.
    model_name : str
        A registry name (:func:`napari_gluonseg.model_names`).
    weights : path, optional
        ``None``: the model zoo's pretrained weights (downloaded into ``$MXNET_HOME/models`` if
        missing); otherwise a local ``.params`` file, or a ``.onnx`` file made by
        ``napari-gluonseg export-onnx`` (runs with onnxruntime alone, without mxnet).
    scale : float or "auto"
        Working resolution: ``"auto"`` (default) resizes the long side to the model's
        ``base_size`` (520 for ADE20K), as GluonCV evaluates; a number is a factor on the image's
        own size (1.0 = as is). Outputs always have the image's full resolution.
    tile_size : int, "auto" or None
        Sliding windows of this size with 2/3 stride, logits averaged where they overlap;
        ``"auto"`` (default) is the model's ``crop_size`` (480); ``None`` runs the whole working
        image at once (the reference workflow: memory grows with the image).
    engine : str
        ``"auto"`` (default: onnxruntime when installed, else MXNet), ``"mxnet"`` or
        ``"onnxruntime"`` (exported once per weights file, for every image size, in a child
        process; PSP, DeepLab and other models with fixed pooling sizes once per size, the last
        four kept; cached in ``$MXNET_HOME/models/onnx``).
    flip : bool
        Test-time augmentation: also run the mirrored image and average the probabilities.
    tta_scales : iterable of float
        Test-time augmentation: extra passes at these factors of the working size (e.g.
        ``(0.75, 1.25)``), probabilities averaged with the main pass at the working size.
    probability_classes : iterable of str or int
        Classes (names, first synonyms or indices) whose probability maps to return.
    classes : iterable of str or int, optional
        Predict only among these classes: their probabilities are renormalized over them, no
        other class appears in the labels.
    min_confidence : float
        Pixels whose top probability is below this are left unlabeled (0), for the annotator.
    scheme : path or LabelScheme, optional
        The user's own labels (:mod:`napari_gluonseg.core.scheme`): each label's probability is
        the sum of its classes'; labels, names, colours and probability maps follow the scheme,
        and pixels won by classes outside it stay unlabeled.
    rgb : bool, optional
        Whether the last axis is colour; guessed when ``None`` (a (3|4, H, W) array is refused
        then: pass it channels last, or ``rgb=False`` for a stack of planes).
    intensity_range : (float, float), optional
        Values mapped to black and white for the network (clipped), for any dtype: e.g. a
        viewer's contrast limits, or ``(0, 4095)`` for 12-bit data stored as uint16. ``None``
        scales by dtype (uint8 /255, uint16 /65535, floats in [0, 1] as is, else min-max).
    check_memory_first : bool
        Estimate the peak memory first and raise :class:`InsufficientMemoryError` (with a setting
        that fits) rather than start a run the machine cannot finish.
    threads : int, optional
        onnxruntime's intra-op threads (MXNet's OpenMP threads for the process); ``None``: all
        cores. Set it when several runs share a machine.

    Returns
    -------
    SegmentationResult
    """
    return run_to_end(
        iter_segment_image(
            image,
            model_name,
            weights=weights,
            scale=scale,
            tile_size=tile_size,
            engine=engine,
            flip=flip,
            tta_scales=tta_scales,
            probability_classes=probability_classes,
            classes=classes,
            min_confidence=min_confidence,
            scheme=scheme,
            rgb=rgb,
            intensity_range=intensity_range,
            check_memory_first=check_memory_first,
            threads=threads,
        )
    )
