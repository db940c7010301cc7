"""Every benchmark and script still imports with the package as it is (a renamed module broke
calibrate_estimate.py unseen): each is loaded as a module, its main() not run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from napari_gluonseg.core.models import _mxnet

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py")])
NEED_MXNET = {"gen_class_tables.py", "gen_param_shapes.py", "count_macs.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports(script):
    if script.name in NEED_MXNET and not _mxnet.installed():
        pytest.skip("imports gluoncv: needs the [mxnet] extra (Python 3.11; make test's first leg)")
    spec = importlib.util.spec_from_file_location(f"_checked_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)  # top-level imports and definitions only
    finally:
        del sys.modules[spec.name]
    assert module.__doc__, f"{script.name} opens without saying what it measures or does"
