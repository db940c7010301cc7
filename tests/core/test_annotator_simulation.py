"""The simulated annotator of benchmarks/bench_corrections.py, on a small task: both modes reach
the target accuracy, and the tools need fewer actions (how many fewer: see the benchmark); the
realistic hand strays as far as its jitter, no farther, the same way each time."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

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


def test_both_annotators_reach_98_percent_and_the_tools_need_fewer_actions(bench, capsys):
    # The default hand: realistic, each mode's best session radius. Here brush + fill / tools
    # was 20 / 14 = 1.43x, 32 / 23 = 1.39x and 29 / 27 = 1.07x at seeds 0, 1, 2.
    args = bench.options(["--size", "480x640", "--seed", "0"])
    task = bench.make_task((480, 640), args.classes, args.palette, args.seed)
    plain = bench.session(task, False, args)
    tools = bench.session(task, True, args)
    assert plain.accuracy >= 0.98 and tools.accuracy >= 0.98
    assert tools.actions < plain.actions
    assert plain.hand.radius in bench.SESSION_RADII and plain.hand.jitter == 2.0
    assert tools.counts.get("runner-up key", 0) + tools.counts.get("relabel", 0) > 0
    assert "clean" in tools.counts and "clean" not in plain.counts
    assert sum(plain.counts.values()) == plain.actions
    assert plain.broken > 0  # a hand off its path breaks right pixels
    assert "radius 12" in capsys.readouterr().out  # every session radius was tried


def test_a_realistic_stroke_strays_at_most_its_jitter_and_is_seeded(bench):
    task = bench.make_task((240, 320), 150, 24, seed=3)
    patch = np.zeros((40, 60), bool)
    patch[10:14, 5:55] = True  # a boundary-like band
    where = (slice(100, 140), slice(100, 160))
    value = int(task.gt[120, 130])
    steady = bench.Annotator(task, False, 0.98, 300, 0.3, bench.Hand(5, 0.0, 0))
    shaky = bench.Annotator(task, False, 0.98, 300, 0.3, bench.Hand(5, 2.0, 0))
    box, centres = steady._intended(where, patch, value, 5)
    assert centres.any()
    at, drawn = steady._drawn(box, centres, value)
    assert at == box and np.array_equal(drawn, centres)
    at, drawn = shaky._drawn(box, centres, value)
    again = shaky._drawn(box, centres, value)[1]
    assert np.array_equal(drawn, again) and not np.array_equal(drawn[2:-2, 2:-2], centres)
    intended = np.zeros(drawn.shape, bool)
    intended[bench._inside(box, at)] = centres
    assert np.all(ndimage.distance_transform_edt(~intended)[drawn] <= 2 * np.sqrt(2))
