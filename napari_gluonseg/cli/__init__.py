"""Command line: segment images, files, folders or globs (here or on a Dask cluster); the demo;
the list of models and of the shipped label schemes; the model cache and portable ONNX model
files. One module per sub-command; the parser (:mod:`.parser`) makes each run option's flag
from its declaration.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from ..core.errors import GluonsegError
from .dataset import export_command
from .demo import run_demo
from .exits import EXIT_BAD_INPUT, EXIT_NO_WEIGHTS, EXIT_SOME_FAILED, EXIT_STOPPED, report
from .learn import learn
from .listings import cache, export_onnx, models, schemes
from .parser import build_parser, cli_spelling
from .segment import segment_batch

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_NO_WEIGHTS",
    "EXIT_SOME_FAILED",
    "EXIT_STOPPED",
    "build_parser",
    "cli_spelling",
    "main",
]


def main(argv: Sequence[str] | None = None) -> int:
    # Our own messages at INFO; other libraries' (Dask's scheduler logs a few dozen lines per
    # batch at INFO) only from WARNING up.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("napari_gluonseg").setLevel(logging.INFO)
    args = build_parser().parse_args(argv)
    if args.command == "models":
        return models()
    if args.command == "schemes":
        return schemes()
    if args.command == "segment":
        return segment_batch(args)
    if args.command == "cache":
        return cache(args.clear, args.all)
    if args.command == "demo":
        return run_demo(args)
    if args.command == "learn":
        return learn(args)
    if args.command == "export":
        return export_command(args)
    try:
        return export_onnx(args.model, args.weights, args.output, args.overwrite, args.exporter)
    except GluonsegError as exc:
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
