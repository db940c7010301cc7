"""``napari-gluonseg learn``: a model learned from a review folder's corrections, written to one
``.onnx`` file that ``--model FILE.onnx`` (and the docks, and Python) then choose like a zoo
model. Its arguments are declared with the others in :mod:`.parser`."""

from __future__ import annotations

import argparse

from ..core.errors import GluonsegError
from ..core.events import Progress
from ..core.learn.corrected import learn_from_folder
from .exits import report
from .progress import ProgressLine


def learn(args: argparse.Namespace) -> int:
    line = ProgressLine()

    def said(event: Progress) -> None:
        line.show(event.message)

    try:
        learned = learn_from_folder(
            args.images,
            args.results,
            args.out,
            model_name=args.model,
            weights=args.weights,
            recursive=args.recursive,
            overwrite=args.overwrite,
            on_progress=said,
        )
    except GluonsegError as exc:
        line.end()
        return report(exc)
    line.end()
    print(learned.summary())
    print(f"Written to {args.out}: use it with --model {args.out}")
    return 0
