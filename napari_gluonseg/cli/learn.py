"""``napari-gluonseg learn``: a model learned from a review folder's corrections, written to one
``.onnx`` file that ``--model FILE.onnx`` (and the docks, and Python) then choose like a zoo
model. Its arguments are declared with the others in :mod:`.parser`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..core.errors import GluonsegError
from ..core.events import Progress
from ..core.learn.corrected import learn_from_folder
from ..core.learn.learn import Learned
from .exits import report
from .progress import with_progress_line


def learn(args: argparse.Namespace) -> int:
    def fit(said: Callable[[Progress], None]) -> Learned:
        return learn_from_folder(
            args.images,
            args.results,
            args.out,
            model_name=args.model,
            weights=args.weights,
            recursive=args.recursive,
            overwrite=args.overwrite,
            on_progress=said,
        )

    try:
        learned = with_progress_line(fit, lambda event: event.message)
    except GluonsegError as exc:
        return report(exc)
    print(learned.summary())
    print(f"Written to {args.out}: use it with --model {args.out}")
    return 0
