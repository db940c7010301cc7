"""``napari-gluonseg export``: a batch's results written as a COCO, VOC, Cityscapes, CVAT or YOLO
dataset (:mod:`..core.datasets.export`). Its arguments are declared in :mod:`.parser`."""

from __future__ import annotations

import argparse

from ..core.datasets.export import export_dataset
from ..core.errors import GluonsegError
from ..core.events import Progress
from .exits import report
from .progress import ProgressLine


def export_command(args: argparse.Namespace) -> int:
    line = ProgressLine()

    def said(event: Progress) -> None:
        line.show(f"{event.done}/{event.total} {event.message}")

    try:
        summary = export_dataset(
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
    except GluonsegError as exc:
        line.end()
        return report(exc)
    line.end()
    print(summary.describe())
    return 0
