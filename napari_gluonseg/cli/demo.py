"""``napari-gluonseg demo``: napari with the dock and the sample photo; without a display, the
sample segmented into ``--out``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from ..core.errors import ExportError, ExportExistsError, GluonsegError
from ..core.events import Progress, Stage
from ..core.files.export import existing_export_files, write_result
from ..core.provenance import weights_note
from ..core.run.segment import iter_segment, run_to_end
from .exits import report
from .parser import run_options
from .progress import Notices, ProgressLine


def run_demo(args: argparse.Namespace) -> int:
    """The demo: a window where there is a display, else the sample segmented headless."""
    if not args.headless and os.environ.get("DISPLAY"):
        return _open_napari()
    try:
        from .._sample_data import SAMPLE_NAME, sample_image

        image = sample_image()
        _check_outputs(SAMPLE_NAME, args.out, args.overwrite)
        _segment_one(SAMPLE_NAME, image, args)
    except GluonsegError as exc:
        return report(exc)
    return 0


def _check_outputs(stem: str, out: Path, overwrite: bool) -> None:
    """Refuse, before the run, to replace earlier results (unless overwrite)."""
    existing = [] if overwrite else existing_export_files(out, stem)
    if existing:
        raise ExportExistsError(
            f"Results named {stem!r} are already in {out}: {', '.join(p.name for p in existing)}."
        )


def _segment_one(stem: str, image: np.ndarray, args: argparse.Namespace) -> None:
    line = ProgressLine()
    notices = Notices(line.note)

    def report(event: Progress) -> None:
        notices(stem, event)
        if event.notice:
            return
        if event.stage in (Stage.INFER, Stage.LOAD) or event.done == event.total:
            line.show(f"{stem}: {event.message}")

    events = iter_segment(image, run_options(args))
    result = run_to_end(events, on_progress=report)
    line.end()
    try:
        paths = write_result(
            result, args.out, stem, image=image, overwrite=args.overwrite, probability_maps=True
        )
    except GluonsegError:  # ExportExistsError is an OSError too, with its own message
        raise
    except OSError as exc:  # a full disk, no permission, a file where the folder should be
        raise ExportError(f"Cannot write the results of {stem} into {args.out}: {exc}") from exc
    print(f"{stem}: results written to {args.out.resolve()}/")
    for kind, path in paths.items():
        print(f"  {kind:12s} {path.name}")
    print(weights_note(result.provenance))  # a local file is not vouched for as trained


def _open_napari() -> int:
    import napari

    from .._sample_data import load_sample
    from ..qt.segment_widget import SegmentWidget

    viewer = napari.Viewer(title="napari-gluonseg")
    for data, kwargs, _ in load_sample():
        viewer.add_image(data, **kwargs)
    viewer.window.add_dock_widget(SegmentWidget(viewer), name="Semantic segmentation")
    napari.run()
    return 0
