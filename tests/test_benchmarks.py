"""Every benchmark and script still imports with the package as it is (a renamed module broke
calibrate_estimate.py unseen): each is loaded as a module, its main() not run. And every
benchmark runs end to end in its quick mode (``--quick``: tiny inputs, one repeat), so that a
function renamed in the package but still called in a benchmark's main() fails too."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from napari_gluonseg.core.models import _mxnet

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py")])
NEED_MXNET = {"gen_class_tables.py", "gen_param_shapes.py", "count_macs.py"}

QUICK_LINE = "quick mode: a check that the benchmark runs, not a measurement"
# Imported by the benchmarks, not run: bench_corrections.py's two, and the options they share.
LIBRARIES = {
    "_common.py", "correction_annotator.py", "correction_network.py", "correction_task.py",
}  # fmt: skip
# a shown napari viewer
NEED_DISPLAY = {"bench_cancel.py", "bench_responsiveness.py", "bench_review_next.py"}
MXNET = _mxnet.installed()
# Quick runs whose output depends on MXNet (they compare with it where it is installed) run on
# both legs of make test; the others do the same on both, and run once, on the leg without
# MXNet (Python 3.13, as users have it): a minute and a half less on the other.
WITH_MXNET_TOO = {
    "bench_batch.py",
    "bench_new_sizes.py",
    "bench_onnx_build.py",
    "bench_speed_memory.py",
    "calibrate_estimate.py",
}
# Per run: the script, its options after --quick, lines its output must hold (the last of each
# part it runs) and must not (where a part's failure is printed rather than raised).
QUICK_RUNS = [
    ("bench_batch.py", [], ['{"case": "dask-2"', "batch runner overhead against the loop"], []),
    ("bench_cancel.py", [], ["Cancel during the build: ", "Cancel during the network call: "], []),
    (
        "bench_corrections.py",
        [],
        ["control at or below 1.0x (actions and time) everywhere", "| snap to edges (the edges"],
        [],
    ),
    (
        "bench_learning.py",
        [],
        [
            "| 2 | ",
            "| colour-only head over learned |",
            "OPENBLAS_NUM_THREADS=1:\n",
            "(goal: 1.05x)",
            "control (a) (labels deranged) showed no gain in any setting",
        ],
        ["the training part failed", "FAILED"],
    ),
    ("bench_dataset_export.py", [], ["| yolo | ", "| control: own export again |"], []),
    ("bench_new_sizes.py", [], ["cache {", "forward {"], ['"error"']),
    ("bench_on_demand.py", [], ["margin map:", "top-5 probe:"], []),
    (
        "bench_onnx_build.py",
        [],
        [
            "control, warm run vs a third run",
            "  fastscnn_citys ",
            "control, the pieces again",
            "control, built graph vs a second session" if MXNET else "--speed not run",
        ],
        [],
    ),
    (
        "bench_responsiveness.py",
        [],
        ["run 1: ", "picking floor, flooring after the run", "Clean speckles (control"],
        [],
    ),
    ("bench_review_next.py", [], ["Next, cold", "Next, read ahead: median"], []),
    (
        "bench_speed_memory.py",
        [],
        ["48x64    ort_forward", "48x64    onnxruntime    1.0   480"]
        + (["48x64    reference", "48x64    mxnet"] if MXNET else ["left out, as MXNet"]),
        [" failed: "],
    ),
    ("bench_window_size.py", [], ["max window | windows", "0.1 MP | 5 | 384x256"], []),
    ("bench_window_size.py", ["--end-to-end"], ["384x512, largest window 0.12 MP"], []),
    ("calibrate_estimate.py", [], ["onnxruntime: "] + (["mxnet: "] if MXNET else []), []),
]
QUICK_TIMEOUT_S = 180  # each takes 2-20 s alone on 2 cores; a hang fails, not blocks, the run


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports(script):
    if script.name in NEED_MXNET and not _mxnet.installed():
        pytest.skip("imports gluoncv: needs the [mxnet] extra (Python 3.11; make test's first leg)")
    spec = importlib.util.spec_from_file_location(f"_checked_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    # Run as a script, its folder is first on sys.path (a benchmark imports its libraries so);
    # without it the import would depend on another test having put the folder there.
    sys.path.insert(0, str(script.parent))
    try:
        spec.loader.exec_module(module)  # top-level imports and definitions only
    finally:
        del sys.modules[spec.name]
        sys.path.remove(str(script.parent))
    assert module.__doc__, f"{script.name} opens without saying what it measures or does"


def test_every_benchmark_has_a_quick_run():
    measuring = {p.name for p in ROOT.glob("benchmarks/*.py")} - LIBRARIES
    assert measuring == {script for script, *_ in QUICK_RUNS}


@pytest.mark.parametrize(
    ("script", "options", "expected", "unexpected"),
    QUICK_RUNS,
    ids=[" ".join([script, *options]) for script, options, *_ in QUICK_RUNS],
)
def test_quick_mode(script, options, expected, unexpected, tmp_path):
    if MXNET and script not in WITH_MXNET_TOO:
        pytest.skip("the same with or without MXNet: runs on make test's leg without it")
    if script in NEED_DISPLAY and not os.environ.get("DISPLAY"):
        pytest.skip("shows a napari viewer: needs a display (make test runs pytest in xvfb-run)")
    # A model cache of its own (no sharing of the session's ONNX export across processes; some
    # scripts write their weights file into it, as into ~/.mxnet), and its temporary files kept
    # under tmp_path.
    home = tmp_path / "mxnet_home"
    home.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "MXNET_HOME": str(home),
        "TMPDIR": str(tmp_path),
    }
    command = [sys.executable, str(ROOT / "benchmarks" / script), "--quick", *options]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=QUICK_TIMEOUT_S, cwd=tmp_path
    )
    shown = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, shown
    assert done.stdout.startswith(QUICK_LINE), shown
    for text in expected:
        assert text in done.stdout, f"{text!r} not printed\n{shown}"
    for text in unexpected:
        assert text not in done.stdout, f"{text!r} printed\n{shown}"
    shutil.rmtree(tmp_path)  # weights and exports, up to ~300 MB: kept only when a test fails
