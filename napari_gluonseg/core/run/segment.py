"""Segmenting an image: the public entry points.

:func:`iter_segment_image` checks every argument and plans the run (:func:`~.plan.plan_run`),
then carries it out (:func:`~.run.iter_run`) as a generator of progress events that returns the
result; :func:`segment_image` (scripts, CLI, tests) consumes it synchronously and the widget in a
napari ``thread_worker``. Closing the generator between two events cancels the run cleanly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

from ..errors import SegmentationCancelled
from ..events import Progress, Stage
from ..models.engines import ENGINES
from ..models.learned import is_model_file, read_learned
from ..models.registry import DEFAULT_MODEL
from .execute import iter_run
from .options import RunOptions
from .plan import (
    RunPlan,
    check_memory,
    estimate_run,
    peak_bytes,
    plan_estimate,
    plan_options,
    plan_run,
    working_size,
)
from .result import SegmentationResult

__all__ = [
    "ENGINES",
    "RunOptions",
    "RunPlan",
    "check_memory",
    "estimate_run",
    "iter_segment",
    "iter_segment_image",
    "peak_bytes",
    "plan_estimate",
    "plan_options",
    "plan_run",
    "run_to_end",
    "segment_image",
    "working_size",
]

T = TypeVar("T")
Y = TypeVar("Y")


def iter_segment_image(
    image: Any, model_name: str = DEFAULT_MODEL, **options: Any
) -> Generator[Progress, None, SegmentationResult]:
    """Segment ``image``, yielding :class:`Progress` events; returns a SegmentationResult.

    Arguments as for :func:`segment_image`. All checks of the arguments (memory included)
    happen before the first event (:func:`~.plan.plan_run`), so bad input fails fast and
    nothing is downloaded for it.
    """
    return (yield from iter_segment(image, RunOptions.of(model_name, **options)))


def iter_segment(image: Any, options: RunOptions) -> Generator[Progress, None, SegmentationResult]:
    """:func:`iter_segment_image` with the options as one object (what the docks, the CLI and
    the batch build once and pass on)."""
    plan = plan_options(image, options)
    note = _learned_scale_note(plan)
    if note is not None:
        yield Progress(Stage.PLAN, 1, 1, note, notice=True)
    return (yield from iter_run(plan))


def _learned_scale_note(plan: RunPlan) -> str | None:
    """A learned model run at another working resolution than it learned at sees features of
    another scale, and labels worse: said, not refused (the person may mean it)."""
    if not is_model_file(plan.options.model_name):
        return None
    learned = read_learned(plan.options.model_name)
    at = learned.record.get("scale", "auto")
    scales = at if isinstance(at, list) else [at]
    if plan.options.scale in scales:
        return None
    said = f"scale={at!r}" if len(scales) == 1 else f"scales {', '.join(map(repr, scales))}"
    return (
        f"{learned.path.name} learned at {said}; this run is at scale="
        f"{plan.options.scale!r}, where its features differ: expect worse labels."
    )


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
    image: Any, model_name: str = DEFAULT_MODEL, **options: Any
) -> SegmentationResult:
    """Segment an image with a GluonCV model.

    Parameters
    ----------
    image : array-like
        (..., H, W) greyscale or (..., H, W, 3|4) RGB(A); uint8, uint16 or float (see
        :mod:`napari_gluonseg.core.run.preprocess` for the scaling). Leading axes are planes.
    model_name : str
        A registry name (:func:`napari_gluonseg.model_names`).
    **options
        The fields of :class:`~napari_gluonseg.core.run.options.RunOptions`, each documented
        there (``help(RunOptions)``). An unknown one is an
        :class:`~napari_gluonseg.core.errors.OptionError`.

    Returns
    -------
    SegmentationResult
    """
    return run_to_end(iter_segment_image(image, model_name, **options))
