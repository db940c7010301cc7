"""Does correcting a pre-annotation with the Correct dock's tools take fewer actions and less
time than napari's brush and fill? A simulated annotator without an oracle
(``correction_annotator.py``) corrects synthetic tasks (``correction_task.py``) over a grid of
error settings, once per set of tools, to 95%, 98% and 99.5% pixel accuracy; then the tools'
latency on a 12 MP image. The tools are the dock's own functions (``core/edits``: what its
``LayerCorrector`` calls, with the same inputs), not copies.

    .venv313/bin/python benchmarks/bench_corrections.py \
        [--size 600x800] [--seeds 0,1,...,9] [--settings all|0,5] [--ratio 0.05] \
        [--latency-size 3000x4000] [--repeat 5] [--skip simulation|latency] [--quick]

Printed: for each target, the ratio of brush + fill's actions to each mode's, and of its
estimated seconds (``SECONDS`` in the annotator: a click 1 s, a key 0.5 s, a label pick 2 s, a
stroke 1 s + 150 px/s of path, a look 1 s, a look over the whole plane 3 s), summed over the
seeds; brush + fill's own counts; the must-fail control (the tools that read the scores:
the runner-up key, the menu and the class brush, reading noise instead), which must come out at
or below 1.0x (snap and clean read no scores, or only to choose among bordering labels: each is
measured alone; the control with clean is printed beside it); "-" where a mode did not reach the
target at every seed. A simulation: the figures hold for these tasks and this annotator. The
exit status is 1 where the control showed a gain anywhere (the figures then measure nothing).

Latency (``--latency-size``, 150 classes on the stride-8 grid): labelling the components (what
clean speckles starts with), one relabel click (region_at + likely_classes + relabel + apply),
runner_up, the menu and the relabel that follows the scores, clean speckles with and without
scores, one class-brush stroke (where the class comes close), the superpixels
and snap to edges; best of ``--repeat`` runs.

``--quick``: a 120x160 task of the first setting at one seed, latency on 480x640, one repeat: a
check that it runs (the test suite's), not a measurement.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling modules, as a script

from correction_annotator import RATIO, TARGETS, Annotator, Tools
from correction_task import (
    BASE,
    REALISTIC,
    SETTINGS,
    Setting,
    belief,
    camera_image,
    ground_truth,
    make_scores,
    make_task,
    pre_annotation,
)

from napari_gluonseg.core.edits.corrections import (
    Components,
    apply,
    class_stroke,
    region_at,
    relabel,
    scored_relabel,
    speckles,
)
from napari_gluonseg.core.edits.likely import likely_classes, menu_classes, runner_up
from napari_gluonseg.core.edits.snap import CellEdges, cell_edges, snap_to_cells, superpixels

BASELINE = "brush + fill"
CONTROL = "control: the score tools on noise scores"
CONTROL_CLEAN = "the same, with clean (which needs no scores)"
SCORED = Tools(runner_up=True, menu=True, class_brush=True)  # the tools that read the scores
MODES = (
    (BASELINE, Tools()),
    (CONTROL, Tools(runner_up=True, menu=True, class_brush=True, noise=True)),
    (CONTROL_CLEAN, Tools(runner_up=True, menu=True, class_brush=True, clean=True, noise=True)),
    ("runner-up key", Tools(runner_up=True)),
    ("menu (top-k, scored relabel)", Tools(menu=True)),
    ("class brush", Tools(class_brush=True)),
    ("clean speckles", Tools(clean=True)),
    ("snap to edges", Tools(snap=True)),
    ("the score tools (key, menu, class brush)", SCORED),
    ("the tools, snap off (score tools + clean)", Tools(True, True, True, clean=True)),
    ("all tools", Tools(True, True, True, True, True)),
)
QUICK = {"size": "120x160", "seeds": "0", "settings": "0", "latency_size": "480x640", "repeat": 1}


# ---------------------------------------------------------------- the simulation


def simulate(
    shape: tuple[int, int], settings: list[Setting], seeds: list[int], ratio: float = RATIO
) -> dict:
    """{(setting name, mode): {target: (actions, seconds) summed over the seeds, or None where
    a seed did not reach it}}, printing each task's errors as it goes."""
    out: dict = {}
    for setting in settings:
        for seed in seeds:
            start = time.perf_counter()
            task = make_task(shape, setting, seed)
            kinds = {k: int(v.sum()) for k, v in task.kinds.items()}
            right = 100 * (task.pre == task.gt).mean()
            print(f"{setting.name} ({setting.knobs()}), seed {seed}: pre-annotation"
                  f" {right:.1f}% right; error px {kinds}")  # fmt: skip
            for name, tools in MODES:
                a = Annotator(task, tools, seed, ratio).run()
                cell = out.setdefault((setting.name, name), dict.fromkeys(TARGETS, (0, 0.0)))
                for t in TARGETS:
                    got = a.reached.get(t)
                    cell[t] = None if got is None or cell[t] is None else (
                        cell[t][0] + got[0], cell[t][1] + got[1])  # fmt: skip
            print(f"  {time.perf_counter() - start:.1f} s")
    return out


def report(results: dict, settings: list[Setting]) -> bool:
    """Print the tables; returns whether the control stayed at or below 1.0x everywhere."""
    held = True
    for t in TARGETS:
        print(f"\nto {100 * t:g}% right: brush + fill's actions / seconds over the mode's")
        print("| mode | " + " | ".join(s.name for s in settings) + " |")
        print("|---|" + "---:|" * len(settings))
        for name, _ in MODES:
            cells = []
            for s in settings:
                base, got = results[(s.name, BASELINE)][t], results[(s.name, name)][t]
                if name == BASELINE:
                    cells.append("-" if got is None else f"{got[0]} / {got[1]:.0f} s")
                elif base is None or got is None:
                    cells.append("-")
                else:
                    a, sec = base[0] / got[0], base[1] / got[1]
                    cells.append(f"{a:.2f}x / {sec:.2f}x")
                    if name == CONTROL and max(a, sec) > 1.0:
                        held = False
            print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\ncontrol at or below 1.0x (actions and time) everywhere: {'yes' if held else 'NO'}")
    return held


def best_of(repeat: int, step: Callable[[], object], undo: Callable[[], object] = lambda: None):
    """Best wall time (ms) of ``repeat`` runs of ``step``, ``undo`` (untimed) after each."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        undo()
    return 1000 * min(times)


def latency(shape: tuple[int, int], n_classes: int, seed: int, repeat: int) -> list[tuple]:
    """(step, ms, goal) rows for the tools on a ``shape`` pre-annotation with realistic speckles;
    its ground truth is drawn at a quarter of the size (the scores only see the stride-8 grid)."""
    rng = np.random.default_rng(seed)
    work = (shape[0] // 4, shape[1] // 4)
    regions, gt = ground_truth(rng, work, BASE)
    scores = make_scores(rng, belief(rng, regions, gt, BASE), shape, n_classes)
    labels = pre_annotation(scores, np.unique(scores.probs[0].argmax(axis=0)))
    protected = np.zeros(shape, bool)
    rows = [("labels", f"{shape[0]}x{shape[1]}, {n_classes} classes, grid {scores.grid_shape}")]

    def components() -> Components:
        parts = Components(labels)
        parts.boxes  # noqa: B018 - the boxes are part of labelling once
        return parts

    rows.append(("Components (labelling, for clean speckles)", best_of(repeat, components), None))
    parts = components()
    n_speckles = int((parts.sizes[1:] < 100).sum())
    for name, i in (("largest", int(np.argmax(parts.sizes[1:]))), ("median", _median(parts))):
        rows += _click_rows(parts, scores, protected, i, name, repeat)
    for with_scores in (False, True):
        kept = scores if with_scores else None
        saved = labels.copy()

        def clean(kept=kept):
            apply(labels, speckles(parts, 100, protected, kept))

        def undo(saved=saved):
            labels[:] = saved

        name = f"clean speckles < 100 px ({n_speckles}), {'with' if with_scores else 'no'} scores"
        rows.append((name, best_of(repeat, clean, undo), 1000))
    rows.append(_stroke_row(labels, scores, protected, repeat))
    rows += _snap_rows(rng, regions, gt, labels, protected, repeat)
    return rows


def _snap_rows(rng, regions, gt, labels, protected, repeat: int) -> list:
    """Snap to edges on the full-size labels: the superpixels of a camera image of the
    (quarter-size) ground truth blown up to the labels' size (once, as the dock computes them
    once per plane in a worker), then the snap itself."""
    up = (labels.shape[0] // regions.shape[0], labels.shape[1] // regions.shape[1])

    def blown_up(a: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(a, up[0], axis=0), up[1], axis=1)

    image = camera_image(rng, blown_up(regions), blown_up(gt), BASE, np.zeros(labels.shape, bool))
    cells: list[np.ndarray] = []
    rows = [("superpixels (SLIC, once per plane, in a worker)",
             best_of(1, lambda: cells.append(superpixels(image))), None)]  # fmt: skip
    found: list[CellEdges] = []
    rows.append(("cell edges (once per plane, in the worker)",
                 best_of(1, lambda: found.append(cell_edges(image, cells[0]))), None))  # fmt: skip
    edges = found[0]

    def snap() -> None:
        snap_to_cells(labels, cells[0], edges=edges)

    rows.append(("snap to edges (the edges the image shows)", best_of(repeat, snap), None))
    return rows


def _median(parts: Components) -> int:
    """The median of the regions worth a click (1000 px or more)."""
    big = np.nonzero(parts.sizes[1:] >= 1000)[0]
    return int(big[np.argsort(parts.sizes[1:][big])[len(big) // 2]])


def _click_rows(parts: Components, scores, protected, i: int, name: str, repeat: int) -> list:
    """A relabel click on region ``i`` (at + likely_classes + relabel + apply), its steps,
    runner_up, and the menu and relabel that follow the scores (menu_classes, scored_relabel)."""
    labels = parts.labels
    box = parts.boxes[i]
    y, x = (int(v[0]) for v in np.nonzero(parts.ids[box] == i + 1))
    y, x = y + box[0].start, x + box[1].start
    box, mask = parts.at(y, x)
    old = labels[box].copy()
    value = likely_classes(scores, (), box, mask, 5)[1][0] + 1

    def click():
        box, mask = region_at(labels, y, x)
        top = likely_classes(scores, (), box, mask, 5)
        apply(labels, [relabel(labels, box, mask, top[1][0] + 1, protected)])

    def undo():
        labels[box] = old

    def write():
        apply(labels, [relabel(labels, box, mask, value, protected)])

    def scored():
        at = (y, x)
        menu_classes(scores, (), box, mask, at)
        change = scored_relabel(scores, (), labels, box, mask, value - 1, at, RATIO, protected)
        apply(labels, [change])

    return [
        (f"relabel click, {name} region ({mask.sum()} px)", best_of(repeat, click, undo), 150),
        ("  of which region_at (flood)", best_of(repeat, lambda: region_at(labels, y, x)), None),
        (
            "  of which likely_classes",
            best_of(repeat, lambda: likely_classes(scores, (), box, mask, 5)),
            None,
        ),
        ("  of which relabel + apply", best_of(repeat, write, undo), None),
        (
            f"runner_up, {name} region",
            best_of(repeat, lambda: runner_up(scores, (), box, mask, int(labels[y, x]))),
            None,
        ),
        (
            f"menu_classes + scored_relabel + apply, {name} region",
            best_of(repeat, scored, undo),
            150,
        ),
    ]


def _stroke_row(labels, scores, protected, repeat) -> tuple:
    """One class-brush stroke as the dock paints by default (where the class comes close): a
    300 px diagonal drag with a 21 px brush in the middle."""
    h, w = labels.shape
    box = (slice(h // 2 - 120, h // 2 + 120), slice(w // 2 - 120, w // 2 + 120))
    yy, xx = np.mgrid[:240, :240]
    stroke = np.abs(yy - xx) <= 10 * np.sqrt(2)
    value = int(labels[h // 2, w // 2]) % len(scores.class_ids) + 1
    saved = labels[box].copy()

    def brush():
        change = class_stroke(scores, (), labels, box, stroke, value - 1, RATIO, True,
                              protected)  # fmt: skip
        apply(labels, [] if change is None else [change])

    def undo():
        labels[box] = saved

    return ("class brush stroke (class_stroke, where the class comes close)",
            best_of(repeat, brush, undo), None)  # fmt: skip


# ---------------------------------------------------------------- the command


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options (``argv``; default: the process's)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="600x800")
    parser.add_argument("--seeds", default=",".join(map(str, range(10))))
    parser.add_argument("--settings", default="all", help="all, or indices into SETTINGS")
    parser.add_argument(
        "--ratio",
        type=float,
        default=RATIO,
        help="the class ratio of the scored relabel and class brush",
    )
    parser.add_argument("--classes", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0, help="the latency image's")
    parser.add_argument("--latency-size", default="3000x4000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip", choices=("simulation", "latency"))
    parser.add_argument("--quick", action="store_true", help="tiny: a check that it runs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run what the options ask; the exit status: 1 where the control showed a gain (the
    benchmark then measures nothing), else 0."""
    args = options(argv)
    held = True
    if args.quick:
        print("quick mode: a check that the benchmark runs, not a measurement")
        vars(args).update(QUICK)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if args.skip != "simulation":
        shape = tuple(int(v) for v in args.size.split("x"))
        chosen = SETTINGS if args.settings == "all" else [
            SETTINGS[int(i)] for i in args.settings.split(",")]  # fmt: skip
        seeds = [int(s) for s in args.seeds.split(",")]
        start = time.perf_counter()
        held = report(simulate(shape, list(chosen), seeds, args.ratio), list(chosen))
        realistic = ", ".join(s.name for s in REALISTIC)
        print(f"(realistic settings: {realistic}; {time.perf_counter() - start:.0f} s)")
    if args.skip != "latency":
        shape = tuple(int(v) for v in args.latency_size.split("x"))
        rows = latency(shape, args.classes, args.seed, args.repeat)
        print(f"\n{rows[0][0]}: {rows[0][1]}; best of {args.repeat}\n")
        print("| step | ms | goal ms |")
        print("|---|---:|---:|")
        for name, ms, goal in rows[1:]:
            print(f"| {name} | {ms:.1f} | {goal or ''} |")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if not held:
        print("FAILED: the control (the score tools on noise) beat brush + fill", file=sys.stderr)
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
