"""Segmenting a folder of images: one image in memory at a time per worker, resumable.

:func:`plan_batch` checks everything that is not an image (inputs, options, weights) before any
image is read; :func:`run_batch` then segments the images one by one (here, or on a Dask
cluster, see :mod:`.cluster`), each with :func:`~.batch_image.process_image`, and writes
``summary.csv`` (:mod:`.batch_summary`).

An image's results are the export :func:`~.export.write_result` writes, whose provenance also
records the input file (size, blake2b) and the batch settings (:mod:`.batch_settings`): a later
run skips the image while both still match, and refuses to replace results that do not (unless
``overwrite``). A bad image is reported, with its path and reason, and the batch goes on.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .. import checks
from ..atomic import folder_lock
from ..errors import OptionError
from ..events import Progress
from ..models.registry import DEFAULT_MODEL
from ..run.options import RunOptions
from ..run.segment import run_to_end
from .image import OnProgress, process_image
from .inputs import BatchItem, collect_inputs
from .settings import BatchSettings, prepare_settings
from .summary import SUMMARY_NAME, BatchSummary, ImageReport, read_summary_rows, write_summary

__all__ = [
    "BatchPlan",
    "iter_batch",
    "plan_batch",
    "run_batch",
    "segment_folder",
]


@dataclass(frozen=True)
class BatchPlan:
    """A checked batch: images, output folder, settings, where it runs."""

    items: tuple[BatchItem, ...]
    out_dir: Path
    settings: BatchSettings
    overwrite: bool = False
    workers: int | None = None
    scheduler: str | None = None


def plan_batch(
    inputs: Iterable[str | os.PathLike] | str | os.PathLike,
    out_dir: str | os.PathLike,
    options: RunOptions = RunOptions(),
    *,
    recursive: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    overlay: bool = False,
    keep_scores: bool = False,
    on_weights: Callable[[Progress], None] | None = None,
) -> BatchPlan:
    """Check a batch before any image is read: inputs, the run's options (one
    :class:`~..run.options.RunOptions`, as every caller builds it), workers, weights.

    Raises :class:`OptionError` (and the other errors of :func:`~..run.segment.plan_run`) for
    bad arguments and :class:`~..errors.WeightsUnavailableError` for missing weights.
    ``on_weights`` hears the weights' progress (a download).
    """
    if not isinstance(options, RunOptions):
        raise OptionError(f"options must be a RunOptions; got {checks.shown(options)}.")
    given = checks.path_list(inputs, "inputs", "image files, folders or globs")
    out = Path(checks.required_path(out_dir, "out_dir", "the output folder")).absolute()
    recursive, overwrite = checks.flag(recursive, "recursive"), checks.flag(overwrite, "overwrite")
    overlay, keep_scores = checks.flag(overlay, "overlay"), checks.flag(keep_scores, "keep_scores")
    if workers is not None:
        workers = checks.integer_at_least(workers, "workers", 1)
    if scheduler is not None and not isinstance(scheduler, str):
        raise OptionError(
            f"scheduler must be an address such as 'tcp://host:port', or None; "
            f"got {checks.shown(scheduler)}."
        )
    if out.exists() and not out.is_dir():
        raise OptionError(f"The output folder {out} is a file; give a folder.")
    items = collect_inputs(given, recursive, exclude=out)
    if workers is not None and scheduler is not None:
        raise OptionError("Give either workers (a local cluster) or a scheduler address.")
    if workers is not None or scheduler is not None:
        from .cluster import require_distributed

        require_distributed(f"workers={workers}" if workers is not None else f"{scheduler=}")
    settings = prepare_settings(options, overlay, keep_scores, on_weights)
    _check_writable(out)
    read_summary_rows(out / SUMMARY_NAME)  # an earlier summary this one merges with, readable
    return BatchPlan(tuple(items), out, settings, overwrite, workers, scheduler)


def _check_writable(folder: Path) -> None:
    """Refuse, before any image is segmented, an output folder that cannot be written: a file
    is written (and removed) in it, or in the folder it would be created in (nothing is
    created before the first result)."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is a file")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise OptionError(
            f"Cannot write into the output folder {folder}: {exc.strerror or exc}. "
            "Give a folder you can write to."
        ) from exc


def run_batch(
    plan: BatchPlan,
    on_image: Callable[[ImageReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_progress: OnProgress | None = None,
) -> BatchSummary:
    """Segment the plan's images; ``on_image`` hears of each as it ends, ``should_stop`` is
    asked before each (True: start no other image; those running finish), ``on_progress``
    hears each image's progress events (from Dask's workers, their notices only). Writes
    ``summary.csv`` (also when stopped or failing; merged with earlier batches' rows) and
    returns the summary of this batch's images."""
    return run_to_end(iter_batch(plan, should_stop, on_progress), on_image)


def iter_batch(
    plan: BatchPlan,
    should_stop: Callable[[], bool] | None = None,
    on_progress: OnProgress | None = None,
) -> Generator[ImageReport, None, BatchSummary]:
    """:func:`run_batch` as a generator of each image's report (for a napari thread worker);
    returns the summary. Closing it stops after the images running, summary written. The
    output folder is held for this batch alone while it runs (:func:`folder_lock`)."""
    created = not plan.out_dir.exists()
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with folder_lock(plan.out_dir):
            return (yield from _iter_locked(plan, should_stop, on_progress))
    finally:
        _remove_if_empty(plan.out_dir, created)


def _iter_locked(
    plan: BatchPlan, should_stop: Callable[[], bool] | None, on_progress: OnProgress | None
) -> Generator[ImageReport, None, BatchSummary]:
    task = partial(
        process_image, out_dir=plan.out_dir, settings=plan.settings, overwrite=plan.overwrite
    )
    stop = should_stop if should_stop is not None else lambda: False
    if plan.workers is None and plan.scheduler is None:
        here = partial(task, on_progress=on_progress)
        runner: Generator[ImageReport, None, None] = _run_here(plan.items, here, stop)
    else:
        from .cluster import run_on_dask, send_notice

        if on_progress is not None:
            task = partial(task, on_progress=send_notice)
        runner = run_on_dask(
            plan.items, task, stop, plan.workers, plan.scheduler, on_notice=on_progress
        )
    started = time.perf_counter()
    reports: list[ImageReport] = []
    try:
        for report in runner:
            reports.append(report)
            yield report
    finally:
        runner.close()
        failed = isinstance(sys.exc_info()[1], Exception)  # e.g. weights no image could load
        summary = summary_of(plan, reports, time.perf_counter() - started)
        if reports or not failed:  # a table of no image beside nothing else says nothing
            write_summary(summary)
    return summary


def summary_of(plan: BatchPlan, reports: Iterable[ImageReport], seconds: float) -> BatchSummary:
    """The summary of the plan's images that ended (``reports``, in the plan's order); stopped
    if some did not."""
    order = {item.key: n for n, item in enumerate(plan.items)}
    ended = tuple(sorted(reports, key=lambda r: order[r.key]))
    return BatchSummary(plan.out_dir, ended, len(plan.items), seconds, len(ended) < len(plan.items))


def _remove_if_empty(folder: Path, created: bool) -> None:
    """The output folder this batch made, if it wrote nothing into it."""
    if created and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _run_here(
    items: Iterable[BatchItem], task: Callable, should_stop: Callable[[], bool]
) -> Generator[ImageReport, None, None]:
    for item in items:
        if should_stop():
            return
        yield task(item)


def segment_folder(
    inputs: Iterable[str | os.PathLike] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    recursive: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    overlay: bool = False,
    keep_scores: bool = False,
    model_name: str = DEFAULT_MODEL,
    **segment_kwargs: Any,
) -> BatchSummary:
    """Segment image files, folders or globs into ``out_dir``, as the command line does.

    Parameters
    ----------
    inputs : path, glob, or iterable of them
        Results keep each image's path relative to its folder, glob prefix or (a file) its
        parent (:mod:`.inputs`).
    out_dir : path
        ``{key}_labels.png``, ``_classes.csv``, ``_provenance.json`` (and ``_overlay.png``,
        ``_prob-class.png``) per image, and ``summary.csv``.
    recursive : bool
        Descend into sub-folders (and let ``**`` in globs match folders).
    workers : int, optional
        Run on a local Dask cluster of this many processes (each loads the model once).
    scheduler : str, optional
        Run on the Dask scheduler at this address; its workers must see the same files.
    overwrite : bool
        Redo images whose results exist (else they are skipped if made from the same file
        with the same settings, and failed otherwise). Hand-corrected labels are never redone.
    overlay : bool
        Also write the image blended with its labels.
    keep_scores : bool
        Also write the run's probabilities on its coarse grid (``_scores.npz``): the review
        dock shows any class's probability and the model's doubtful places from them.
    model_name, **segment_kwargs
        The run's options (:class:`~..run.options.RunOptions`), as for
        :func:`~..run.segment.segment_image`.

    Returns
    -------
    BatchSummary
    """
    plan = plan_batch(
        inputs,
        out_dir,
        RunOptions.of(model_name, **segment_kwargs),
        recursive=recursive,
        workers=workers,
        scheduler=scheduler,
        overwrite=overwrite,
        overlay=overlay,
        keep_scores=keep_scores,
    )
    return run_batch(plan)
