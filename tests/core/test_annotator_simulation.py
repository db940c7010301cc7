"""The simulated annotator of benchmarks/bench_corrections.py, on a small task: both modes reach
the target accuracy, and the tools need fewer actions (how many fewer: see the benchmark)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_corrections.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_corrections", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_task_is_seeded_and_has_every_kind_of_error(bench):
    task = bench.make_task((240, 320), 150, 24, seed=3)
    again = bench.make_task((240, 320), 150, 24, seed=3)
    assert np.array_equal(task.pre, again.pre) and np.array_equal(task.gt, again.gt)
    assert task.scores.grid_shape == (30, 40) and task.scores.probs.dtype == np.float16
    assert all(n > 0 for n in bench.error_kinds(task).values())


def test_both_annotators_reach_98_percent_and_the_tools_need_fewer_actions(bench):
    task = bench.make_task((480, 640), 150, 24, seed=0)
    plain = bench.Annotator(task, False, 0.98, 300, 0.3).run()
    tools = bench.Annotator(task, True, 0.98, 300, 0.3).run()
    assert plain.accuracy >= 0.98 and tools.accuracy >= 0.98
    assert tools.actions < plain.actions
    assert tools.counts.get("runner-up key", 0) + tools.counts.get("relabel", 0) > 0
    assert "clean" in tools.counts and "clean" not in plain.counts
    assert sum(plain.counts.values()) == plain.actions
