"""``napari-gluonseg segment``: a batch of files, folders or globs, with a progress bar (or a
log's lines), Ctrl-C to stop after the running images, and a summary."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

from ..core.atomic import release_held_locks
from ..core.batch.ctrl_c import stop_on_ctrl_c
from ..core.batch.folder import BatchPlan, plan_batch, run_batch, summary_of
from ..core.batch.inputs import BatchItem
from ..core.batch.summary import BatchSummary, ImageReport, write_summary
from ..core.errors import GluonsegError
from ..core.events import Progress
from .exits import EXIT_SOME_FAILED, EXIT_STOPPED, report
from .parser import run_options
from .progress import Notices


def segment_batch(args: argparse.Namespace) -> int:
    """``segment``: check everything, then run the images with a progress bar."""
    notices = Notices(print)
    try:
        plan = plan_batch(
            args.inputs,
            args.out,
            run_options(args),
            recursive=args.recursive,
            workers=args.workers,
            scheduler=args.scheduler,
            overwrite=args.overwrite,
            overlay=args.overlay,
            keep_scores=args.keep_scores,
            on_weights=None if args.quiet else partial(notices, args.model_name),
        )
        ended: list[ImageReport] = []
        started = time.perf_counter()

        def hard_stop() -> None:  # a second Ctrl-C inside a long call: the process ends now
            if ended:
                write_summary(summary_of(plan, ended, time.perf_counter() - started))
            release_held_locks()

        with stop_on_ctrl_c(hard_stop, EXIT_STOPPED) as stop:
            summary = _run_with_progress(plan, stop, args.quiet, ended.append)
    except GluonsegError as exc:
        return report(exc)
    except KeyboardInterrupt:
        print("Stopped. Finished images are kept; rerun to resume.", file=sys.stderr)
        return EXIT_STOPPED
    if not args.quiet:
        _print_summary(summary)
    if summary.stopped:
        return EXIT_STOPPED
    return EXIT_SOME_FAILED if summary.count("failed") else 0


def _run_with_progress(
    plan: BatchPlan, stop: threading.Event, quiet: bool, ended: Callable[[ImageReport], None]
) -> BatchSummary:
    """The batch with a progress bar (a log's lines where stderr is not a terminal); ``ended``
    hears each image's report first."""
    if not quiet and not sys.stderr.isatty():
        return _run_with_log_lines(plan, stop, ended)
    from tqdm import tqdm

    with tqdm(total=len(plan.items), unit="image", disable=quiet, file=sys.stderr) as bar:
        notices = Notices(partial(bar.write, file=sys.stdout))

        def on_image(report: ImageReport) -> None:
            ended(report)
            bar.update(1)
            if report.status == "failed":  # named even with --quiet: it needs attention
                bar.write(f"failed: {report.error}", file=sys.stderr)

        def on_progress(item: BatchItem, event: Progress) -> None:
            notices(item.key, event)

        return run_batch(
            plan,
            on_image=on_image,
            should_stop=stop.is_set,
            on_progress=None if quiet else on_progress,
        )


def _run_with_log_lines(
    plan: BatchPlan, stop: threading.Event, ended: Callable[[ImageReport], None]
) -> BatchSummary:
    """Not a terminal (a log, a pipe): a progress bar would be redrawn with carriage returns
    into one endless line; instead each image once, numbered, when it ends."""
    notices = Notices(partial(print, flush=True))
    total, count = len(plan.items), 0

    def on_image(report: ImageReport) -> None:
        nonlocal count
        ended(report)
        count += 1
        failed = report.status == "failed"  # on stderr, as on a terminal: it needs attention
        why = f": {report.error}" if failed else f" ({report.seconds:.1f} s)"
        line = f"[{count}/{total}] {report.key}: {report.status}{why}"
        print(line, file=sys.stderr if failed else sys.stdout, flush=True)

    def on_progress(item: BatchItem, event: Progress) -> None:
        notices(item.key, event)

    return run_batch(plan, on_image=on_image, should_stop=stop.is_set, on_progress=on_progress)


def _print_summary(summary: BatchSummary) -> None:
    per_image = summary.seconds_per_image
    timing = f", {per_image:.2f} s per image" if per_image is not None else ""
    print(
        f"{summary.count('done')} done, {summary.count('skipped')} skipped, "
        f"{summary.count('failed')} failed of {summary.total} in {summary.seconds:.1f} s"
        f"{timing}; summary: {summary.summary_csv}"
    )
    if summary.stopped:
        print("Stopped early: rerun the same command to resume.")
