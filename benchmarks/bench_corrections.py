"""Does correcting a pre-annotation with the Correct dock's tools take fewer actions and less
time than napari's brush and fill? A simulated annotator without an oracle
(``correction_annotator.py``) corrects pre-annotations to 95%, 98% and 99.5% pixel accuracy,
once per set of tools: first on tasks whose scores come from a real network
(``correction_network.py``: a head learned on this package's own network, untrained backbone,
from some of ``bench_learning``'s texture and shape images, run on others), then on synthetic
tasks (``correction_task.py``) over a grid of error settings; then the tools' latency on a
12 MP image. The tools are the dock's own functions (``core/edits``: what its
``LayerCorrector`` calls, with the same inputs), not copies.

    .venv313/bin/python benchmarks/bench_corrections.py \
        [--size 480x640] [--seeds 0,1,...,15] [--settings all|0,5] [--ratio 0.05] \
        [--network all|none|shape,...] [--network-size 576x768] [--network-train 10] \
        [--network-seeds 1000,...,1009] \
        [--latency-size 3000x4000] [--repeat 5] [--skip simulation|latency] [--quick]

Printed, 99.5% first: for each target, the ratio of brush + fill's actions to each mode's, and
of its estimated seconds (``SECONDS`` in the annotator: a click 1 s, a key 0.5 s, a label pick
2 s, a stroke 1 s + its path at 150 px/s, 75 px/s where it follows a boundary, a look 1 s, a
look over the whole plane 3 s, which misses 30% of the patches changed), summed over the seeds,
with the per-seed spread of the actions' ratio (min-median-max); brush + fill's own counts;
"-" where a mode did not reach the target at every seed. Each group of tasks opens with its
premise: what its scores assume.

The controls, which must show no gain (at or below 1.0x in actions and in time, summed over
the seeds): the tools that read the scores (the runner-up key, the menu and the class brush)
reading noise instead (``noise``), or argmax-consistent noise (the same top class and
probability at each grid point, the other classes' probabilities shuffled: nothing on which
comes second); and, on generated tasks whose truth is not written into the scores (the
neighbour's leak kept), those tools and each alone. Snap and clean read no scores (or only to
choose among bordering labels): each is measured alone; the noise control with clean is printed
beside it. The exit status is 1 where a control showed a gain anywhere, the real network's tasks
included (the figures then measure nothing), though there (2-4 classes) the menu lists every
class whatever the scores say and the runner-up is one of 1-3: a gain there could be the label
set's (``LABEL_SET``); argmax-consistent noise is not judged on the two-class one, where it is
the score tools themselves (``TWO_CLASSES``).

The held-out generator: the realistic setting with the scores' constants drawn from other ranges
(``HELD_OUT_PREMISE``: a margin of 0.25-3 logits drawn per cell, a noisier, lower background),
fixed before its first run, reported as its own column. A simulation: the figures hold for
these tasks and this annotator.

Latency (``--latency-size``, 150 classes on the stride-8 grid): labelling the components (what
clean speckles starts with), one relabel click (region_at + likely_classes + relabel + apply),
runner_up, the menu and the relabel that follows the scores, clean speckles with and without
scores, one class-brush stroke (where the class comes close), the superpixels
and snap to edges; best of ``--repeat`` runs.

``--quick``: one 120x160 task of the first setting at one seed, one real-network task at 96x128
(learned from 2 images), latency on 480x640, one repeat: a check that it runs (the test
suite's), not a measurement.
"""

from __future__ import annotations

import os
import sys

# OpenBLAS's threads: one, as bench_learning's curve runs its fits (on 2 loaded cores its two
# threads make the head's fit 10-20x slower).
if __name__ == "__main__":
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling modules, as a script

from correction_annotator import RATIO, TARGETS, Annotator, Tools
from correction_task import (
    BASE,
    HELD_OUT_PREMISE,
    PREMISE,
    REALISTIC,
    SETTINGS,
    TRUTH_NOT_IN,
    Premise,
    Setting,
    Task,
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
from napari_gluonseg.core.edits.likely import (
    likely_classes,
    menu_classes,
    runner_up,
)
from napari_gluonseg.core.edits.snap import (
    CellEdges,
    cell_edges,
    snap_to_cells,
    superpixels,
)

BASELINE = "brush + fill"
CONTROL = "control: the score tools on noise scores"
CONTROL_CLEAN = "the same, with clean (which needs no scores)"
SHUFFLED = "control: the score tools on argmax-consistent noise"
SCORED_NAME = "the score tools (key, menu, class brush)"
SCORED = Tools(runner_up=True, menu=True, class_brush=True)  # the tools that read the scores
MODES = (
    (BASELINE, Tools()),
    (CONTROL, Tools(runner_up=True, menu=True, class_brush=True, noise=True)),
    (CONTROL_CLEAN, Tools(runner_up=True, menu=True, class_brush=True, clean=True, noise=True)),
    (SHUFFLED, Tools(runner_up=True, menu=True, class_brush=True, shuffled=True)),
    ("runner-up key", Tools(runner_up=True)),
    ("menu (top-k, scored relabel)", Tools(menu=True)),
    ("class brush", Tools(class_brush=True)),
    ("clean speckles", Tools(clean=True)),
    ("snap to edges", Tools(snap=True)),
    (SCORED_NAME, SCORED),
    ("the tools, snap off (score tools + clean)", Tools(True, True, True, clean=True)),
    ("all tools", Tools(True, True, True, True, True)),
)
ALL = tuple(name for name, _ in MODES)
CONTROLS = (CONTROL, SHUFFLED)  # must show no gain wherever they are judged
# On tasks whose truth is not in the scores, every tool that reads them is a control.
NOT_IN_MODES = (BASELINE, *CONTROLS, "runner-up key", "menu (top-k, scored relabel)",
                "class brush", SCORED_NAME)  # fmt: skip
LABEL_SET = (
    "judged here too, though with 2-4 classes the menu lists every class whatever the scores "
    "say and the runner-up is one of 1-3: a gain here could be the small label set's"
)
TWO_CLASSES = (
    "argmax-consistent noise is not judged on a task of two classes: shuffling the one other "
    "class's probability changes nothing, so it is the score tools themselves, not a control"
)
QUICK = {
    "size": "120x160",
    "seeds": "0",
    "settings": "0",
    "network": "four textures",
    "network_size": "96x128",
    "network_train": 2,
    "network_seeds": "1000",
    "latency_size": "480x640",
    "repeat": 1,
}


# ---------------------------------------------------------------- the simulation


@dataclass(frozen=True)
class Column:
    """A column of the tables: tasks made one seed at a time, the modes run on them, and the
    modes that must show no gain there (the controls)."""

    name: str
    premise: str
    make: Callable[[int], Task]
    seeds: tuple[int, ...]
    modes: tuple[str, ...] = ALL
    judged: tuple[str, ...] = CONTROLS
    group: str = "generated"


def generated_columns(
    shape: tuple[int, int], settings: Sequence[Setting], seeds: Sequence[int]
) -> list[Column]:
    """A column per setting under the premise the tools were set with; on the last setting,
    the held-out constants and the truth-not-written-in control."""
    if not settings:
        return []

    def maker(setting: Setting, premise: Premise) -> Callable[[int], Task]:
        return lambda seed: make_task(shape, setting, seed, premise)

    out = [Column(s.name, PREMISE.line(), maker(s, PREMISE), tuple(seeds)) for s in settings]
    last = settings[-1]
    out.append(Column(f"{last.name}, held-out constants", HELD_OUT_PREMISE.line(),
                      maker(last, HELD_OUT_PREMISE), tuple(seeds)))  # fmt: skip
    out.append(Column(f"{last.name}, truth not written in", TRUTH_NOT_IN.line(),
                      maker(last, TRUTH_NOT_IN), tuple(seeds), NOT_IN_MODES,
                      NOT_IN_MODES[1:]))  # fmt: skip
    return out


def network_columns(
    names: Sequence[str], shape: tuple[int, int], train: int, held_out: Sequence[int]
) -> list[Column]:
    """A column per ``bench_learning`` setting: its held-out images pre-annotated by the head
    learned from ``train`` images, on untrained weights of the real architecture."""
    if not names:
        return []
    from _common import temporary_home, untrained
    from bench_learning import MODEL, SETTINGS
    from correction_network import network_tasks, premise

    from napari_gluonseg.core.models.weights import resolve_local_weights

    out = []
    with temporary_home() as home:
        weights = resolve_local_weights(untrained(MODEL, home))
        for name in names:
            start = time.perf_counter()
            tasks = dict(zip(held_out, network_tasks(name, train, list(held_out), shape, weights),
                             strict=True))  # fmt: skip
            print(f"network: {name}: a head learned from {train} images, {len(tasks)} held-out"
                  f" ({time.perf_counter() - start:.0f} s)")  # fmt: skip
            classes = len(next(s for s in SETTINGS if s.name == name).classes)
            judged = CONTROLS if classes > 2 else (CONTROL,)  # see TWO_CLASSES
            out.append(Column(f"network: {name}", premise(train), tasks.__getitem__,
                              tuple(held_out), ALL, judged, "network"))  # fmt: skip
    return out


def simulate(columns: Sequence[Column], ratio: float = RATIO) -> dict:
    """{(column name, mode): {target: [per seed: (actions, seconds), or None where the seed
    did not reach it]}}, printing each task's errors as it goes."""
    tools = dict(MODES)
    out: dict = {}
    for column in columns:
        for seed in column.seeds:
            start = time.perf_counter()
            task = column.make(seed)
            kinds = {k: int(v.sum()) for k, v in task.kinds.items()}
            right = 100 * (task.pre == task.gt).mean()
            print(f"{column.name} ({task.setting.knobs() or 'as it falls'}), seed {seed}: "
                  f"pre-annotation {right:.1f}% right; error px {kinds}")  # fmt: skip
            for name in column.modes:
                a = Annotator(task, tools[name], seed, ratio).run()
                cell = out.setdefault((column.name, name), {t: [] for t in TARGETS})
                for t in TARGETS:
                    cell[t].append(a.reached.get(t))
            print(f"  {time.perf_counter() - start:.1f} s")
    return out


def summed(runs: list) -> tuple[int, float] | None:
    """The per-seed (actions, seconds) summed; None where a seed did not reach the target."""
    if not runs or any(r is None for r in runs):
        return None
    return sum(r[0] for r in runs), sum(r[1] for r in runs)


def spread(base: list, got: list) -> str:
    """min-median-max over the seeds of brush + fill's actions over the mode's."""
    ratios = [b[0] / g[0] for b, g in zip(base, got, strict=True) if b and g and g[0]]
    if len(ratios) < 2:
        return ""
    return f" ({min(ratios):.2f}-{statistics.median(ratios):.2f}-{max(ratios):.2f})"


def report(results: dict, columns: Sequence[Column]) -> bool:
    """Print the tables, group by group (the real network's first), 99.5% first; returns
    whether every judged control stayed at or below 1.0x (summed actions and time)."""
    held, shown = True, []
    for group in sorted(dict.fromkeys(c.group for c in columns), key=lambda g: g != "network"):
        chosen = [c for c in columns if c.group == group]
        print(f"\n== {group} tasks; the premises:")
        for line in dict.fromkeys(f"- {c.premise}" for c in chosen):
            print(line)
        if group == "network":
            print(f"- the controls on these tasks: {LABEL_SET}; {TWO_CLASSES}")
        for t in sorted(TARGETS, reverse=True):
            print(f"\nto {100 * t:g}% right ({group} tasks): brush + fill's actions / seconds "
                  "over the mode's, summed over the seeds (per seed, the actions' ratio: "
                  "min-median-max)")  # fmt: skip
            print("| mode | " + " | ".join(c.name for c in chosen) + " |")
            print("|---|" + "---:|" * len(chosen))
            for name in ALL:
                cells = []
                for c in chosen:
                    if name not in c.modes:
                        cells.append("")
                        continue
                    base = results[(c.name, BASELINE)][t]
                    got = results[(c.name, name)][t]
                    b, g = summed(base), summed(got)
                    if name == BASELINE:
                        cells.append("-" if g is None else f"{g[0]} / {g[1]:.0f} s")
                    elif b is None or g is None:
                        cells.append("-")
                    else:
                        a, sec = b[0] / g[0], b[1] / g[1]
                        cells.append(f"{a:.2f}x / {sec:.2f}x" + spread(base, got))
                        if name in c.judged and max(a, sec) > 1.0:
                            held = False
                            shown.append(f"{name} on {c.name} to {100 * t:g}%: {a:.2f}x / "
                                         f"{sec:.2f}x")  # fmt: skip
                if any(cells):
                    print(f"| {name} | " + " | ".join(cells) + " |")
    for line in shown:
        print(f"a control showed a gain: {line}")
    print(f"\nevery judged control at or below 1.0x (actions and time) everywhere: "
          f"{'yes' if held else 'NO'}")  # fmt: skip
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
    parser.add_argument("--size", default="480x640")
    parser.add_argument("--seeds", default=",".join(map(str, range(16))))
    parser.add_argument("--settings", default="all", help="all, none, or indices into SETTINGS")
    parser.add_argument("--network", default="all", help="all, none, or bench_learning settings")
    parser.add_argument("--network-size", default="576x768")
    parser.add_argument("--network-train", type=int, default=10, help="the head's images")
    parser.add_argument("--network-seeds", default=",".join(map(str, range(1000, 1010))))
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


def columns_of(args: argparse.Namespace) -> list[Column]:
    """The tables' columns the options ask for: the real network's first."""
    from correction_network import setting_names

    def shape(text: str) -> tuple[int, int]:
        h, w = (int(v) for v in text.split("x"))
        return h, w

    names = {"all": list(setting_names()), "none": []}.get(args.network)
    names = args.network.split(",") if names is None else names
    held_out = [int(s) for s in args.network_seeds.split(",")]
    chosen = {"all": SETTINGS, "none": ()}.get(args.settings)
    if chosen is None:
        chosen = [SETTINGS[int(i)] for i in args.settings.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    return [
        *network_columns(names, shape(args.network_size), args.network_train, held_out),
        *generated_columns(shape(args.size), list(chosen), seeds),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run what the options ask; the exit status: 1 where a judged control showed a gain (the
    benchmark then measures nothing), else 0."""
    args = options(argv)
    held = True
    if args.quick:
        print("quick mode: a check that the benchmark runs, not a measurement")
        vars(args).update(QUICK)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if args.skip != "simulation":
        start = time.perf_counter()
        columns = columns_of(args)
        held = report(simulate(columns, args.ratio), columns)
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
        print("FAILED: a control (the score tools reading scores that know nothing of the truth)"
              " beat brush + fill", file=sys.stderr)  # fmt: skip
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
