"""The benchmarks' own modules for their tests: ``bench_corrections`` imported as running it
does (its folder first on sys.path, where its libraries are)."""

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("bench_corrections")
    finally:
        sys.path.remove(str(BENCHMARKS))
