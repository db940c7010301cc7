"""How the command line ends: its exit codes, and a package error told in its words."""

from __future__ import annotations

import sys

from ..core.errors import ExportExistsError, GluonsegError, WeightsUnavailableError
from .parser import cli_spelling

EXIT_SOME_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NO_WEIGHTS = 3
EXIT_STOPPED = 130  # the shell's code for Ctrl-C


def report(exc: GluonsegError) -> int:
    """Tell the user what went wrong; return the exit status it stands for."""
    print(f"error: {cli_spelling(str(exc))}", file=sys.stderr)
    if isinstance(exc, ExportExistsError):
        print("Use --overwrite to replace it.", file=sys.stderr)
    if isinstance(exc, WeightsUnavailableError):
        print("No segmentation was made (untrained weights are never used).", file=sys.stderr)
        return EXIT_NO_WEIGHTS
    return EXIT_BAD_INPUT
