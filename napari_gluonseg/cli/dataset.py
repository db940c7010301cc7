"""``napari-gluonseg export``: a batch's results written as a COCO, VOC, Cityscapes, CVAT or YOLO
dataset (:mod:`..core.datasets.export`). Its arguments are declared in :mod:`.parser`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..core.datasets.export import DatasetSummary, export_dataset
from ..core.errors import GluonsegError
from ..core.events import Progress
from .exits import report
from .progress import with_progress_line


def export_command(args: argparse.Namespace) -> int:
    def write(said: Callable[[Progress], None]) -> DatasetSummary:
        return export_dataset(
            args.images,
            args.results,
            args.out,
            args.format,
            val_fraction=args.val,
            seed=args.seed,
            link_images=args.link,
            corrected_only=args.corrected_only,
            polygons=args.polygons,
            short_names=args.short_names,
            recursive=args.recursive,
            overwrite=args.overwrite,
            on_progress=said,
        )

    try:
        summary = with_progress_line(write, lambda e: f"{e.done}/{e.total} {e.message}")
    except GluonsegError as exc:
        return report(exc)
    print(summary.describe())
    return 0
