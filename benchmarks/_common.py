"""What the benchmarks' command lines share: ``--quick`` and its first line, ``HxW`` sizes, a
model cache of the run's own (``MXNET_HOME``) and untrained weights of the real architecture.

Not a benchmark: the scripts beside it import it (run as a script, a benchmark's folder is first
on ``sys.path``). ``--quick`` is tiny inputs and one repeat, a check that the script runs (the
test suite runs each so), never a measurement: the first line a quick run prints says so, and
``tests/test_benchmarks.py`` checks that it does.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

QUICK_LINE = "quick mode: a check that the benchmark runs, not a measurement"
QUICK_HELP = "tiny: a check that it runs"


def parse_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, quick_help: str = QUICK_HELP
) -> argparse.Namespace:
    """``argv`` parsed by ``parser`` with ``--quick`` added as its last option (``--help``
    lists it last)."""
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser.parse_args(argv)


def quick_mode(args: argparse.Namespace, overrides: Mapping[str, Any] | None = None) -> bool:
    """Whether ``args`` asks for quick mode; if so, print :data:`QUICK_LINE` and set the
    options in ``overrides`` (the tiny inputs) on ``args``. A script that runs its parts in
    subprocesses calls it after handing a part over, so that only the top process says it."""
    if args.quick:
        print(QUICK_LINE)
        vars(args).update(overrides or {})
    return bool(args.quick)


def options(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    overrides: Mapping[str, Any] | None = None,
    quick_help: str = QUICK_HELP,
) -> argparse.Namespace:
    """:func:`parse_args`, then :func:`quick_mode`: a benchmark run in one process."""
    args = parse_args(parser, argv, quick_help)
    quick_mode(args, overrides)
    return args


def size(text: str) -> tuple[int, int]:
    """``"3000x4000"`` as ``(3000, 4000)``: height by width."""
    h, w = (int(v) for v in text.split("x"))
    return h, w


@contextmanager
def temporary_home() -> Iterator[Path]:
    """A temporary folder, removed at the end, with ``MXNET_HOME`` pointing at an empty model
    cache inside it: the run builds its networks itself (a first run's cost, measured as such)
    and writes nothing into the user's cache."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MXNET_HOME"] = str(Path(tmp) / "mxnet_home")
        yield Path(tmp)


def model_home() -> Path:
    """``MXNET_HOME``, set first to a new temporary folder where it is unset (the test suite
    sets one per run; the folder is left behind, as it holds the run's weights and exports)."""
    return Path(os.environ.setdefault("MXNET_HOME", tempfile.mkdtemp()))


def untrained(model: str, folder: Path) -> Path:
    """``folder/untrained.params``: untrained weights of ``model``'s real architecture, written
    by the package's own writer (no download; the figures do not depend on the values)."""
    from napari_gluonseg.core.models.untrained import save_untrained

    params = folder / "untrained.params"
    save_untrained(model, params)
    return params


def rerun(script: str, args: list[str], env: Mapping[str, str]) -> dict:
    """``script`` run again with ``args`` in a fresh Python (a part measured in a process of
    its own: its imports, memory and threads not the caller's): the JSON of its last printed
    line, or ``{"error": ...}`` with the last line of its error output."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])
