"""The machinery of benchmarks/bench_corrections.py, on small tasks: the task generator's knobs
make the errors they name, the annotator pays for every try, look and undo, a tool that does
not help is never counted as helping, and the must-fail control (the tools on noise scores,
snap off) cannot beat brush + fill. How much the tools save: see the benchmark."""

import sys

import numpy as np
import pytest

from napari_gluonseg.core.edits.corrections import relabel

SMALL = (240, 320)


@pytest.fixture(scope="module")
def task_kit(bench):
    return sys.modules["correction_task"]


@pytest.fixture(scope="module")
def annotator_kit(bench):
    return sys.modules["correction_annotator"]


@pytest.fixture(scope="module")
def realistic(task_kit):
    return task_kit.make_task(SMALL, task_kit.SETTINGS[-1], seed=1)


def test_a_task_is_seeded(task_kit, realistic):
    again = task_kit.make_task(SMALL, task_kit.SETTINGS[-1], seed=1)
    assert np.array_equal(realistic.pre, again.pre) and np.array_equal(realistic.gt, again.gt)
    assert np.array_equal(realistic.image, again.image)
    assert realistic.scores.grid_shape == (30, 40)


def _model(task_kit, setting, seed=4, shape=(300, 400)):
    rng = np.random.default_rng(seed)
    regions, gt = task_kit.ground_truth(rng, shape, setting)
    return regions, gt, task_kit.belief(rng, regions, gt, setting)


def test_each_knob_makes_the_errors_it_names(task_kit):
    Setting = task_kit.Setting
    _, _, plain = _model(task_kit, Setting("none", whole=0, shifted=0))
    assert not plain.confusions and not plain.bands.any()
    _, gt, model = _model(task_kit, Setting("parts", whole=0, partial=1))
    assert model.confusions and {c[4] for c in model.confusions} == {task_kit.PARTIAL}
    for pixels, truth, wrong, _, _ in model.confusions:  # a part, given a neighbour's class
        assert (gt[pixels] == truth + 1).all() and pixels.sum() < (gt == truth + 1).sum()
        assert (model.labels[pixels] == wrong + 1).all() and (gt == wrong + 1).any()
    _, _, model = _model(task_kit, Setting("close", whole=1, close=1))
    paired = [(t, w) for _, t, w, _, _ in model.confusions if task_kit.partner(t) is not None]
    assert paired and all(task_kit.partner(t) == w for t, w in paired)
    _, _, model = _model(task_kit, Setting("textured", shifted=1, textured=1))
    assert model.bands.any()
    _, _, model = _model(task_kit, Setting("dilated", shifted=1, textured=0))
    assert not model.bands.any()


def test_whole_region_errors_take_whole_regions(task_kit):
    regions, _, model = _model(task_kit, task_kit.Setting("whole", whole=1, shifted=0))
    assert model.confusions and {c[4] for c in model.confusions} == {task_kit.WHOLE}
    for pixels, truth, wrong, _, _ in model.confusions:
        region = regions == regions[pixels][0]
        assert np.array_equal(pixels, region) and truth != wrong


def test_look_alikes_and_inner_edges_show_in_the_image(task_kit):
    regions, gt, _ = _model(task_kit, task_kit.Setting("none"))
    no_bands = np.zeros(gt.shape, bool)

    def image(**knobs):
        setting = task_kit.Setting("image", **knobs)
        rng = np.random.default_rng(1)
        return task_kit.camera_image(rng, regions, gt, setting, no_bands).astype(float)

    def pair_gaps(picture):
        sizes = np.maximum(np.bincount(regions.ravel()), 1)
        sums = [np.bincount(regions.ravel(), picture[..., c].ravel()) for c in range(3)]
        means = np.stack(sums, 1) / sizes[:, None]
        pairs = task_kit.neighbours(regions, gt)
        return np.abs(means[pairs[:, 0]] - means[pairs[:, 1]]).max(axis=1)

    alike = [np.mean(pair_gaps(image(lookalike=v)) < 0.1 * 255) for v in (0, 0.5)]
    assert alike[1] > alike[0] + 0.1

    def spreads(picture):  # each region's spread of red
        sizes = np.maximum(np.bincount(regions.ravel()), 1)
        mean = np.bincount(regions.ravel(), picture[..., 0].ravel()) / sizes
        square = np.bincount(regions.ravel(), picture[..., 0].ravel() ** 2) / sizes
        return np.sqrt(np.maximum(square - mean**2, 0))[np.bincount(regions.ravel()) > 0]

    spread = [spreads(image(lookalike=0, inner=v)) for v in (0, 1)]
    assert np.median(spread[1]) > 2 * np.median(spread[0])


@pytest.mark.parametrize("beyond, ranks", [(0.0, {2, 3}), (1.0, {6})])
def test_the_truth_ranks_where_the_knob_puts_it(task_kit, beyond, ranks):
    setting = task_kit.Setting("ranks", whole=1, beyond=beyond, shifted=0)
    rng = np.random.default_rng(5)
    regions, gt = task_kit.ground_truth(rng, (300, 400), setting)
    model = task_kit.belief(rng, regions, gt, setting)
    scores = task_kit.make_scores(rng, model, (300, 400))
    rows = task_kit.grid_positions(300, 38), task_kit.grid_positions(400, 50)
    p = scores.probs[0].astype(np.float32)
    for pixels, truth, wrong, rank, _ in model.confusions:
        assert rank in ranks
        cells = pixels[np.ix_(*rows)]
        order = np.argsort(-p[:, cells].mean(axis=1))
        assert order[0] == wrong and (list(order).index(truth) >= 5) == (rank > 5)


def test_the_error_kinds_are_counted_apart(realistic):
    kinds = realistic.kinds
    assert all(kinds[k].any() for k in ("wrong region", "partial region", "boundary"))
    total = sum(mask.astype(int) for mask in kinds.values())
    assert total.max() == 1 and (total == 1).sum() == (realistic.pre != realistic.gt).sum()


def _reached(a, target):
    return a.reached.get(target)


def test_the_control_cannot_beat_brush_and_fill(bench, annotator_kit, realistic):
    modes = dict(bench.MODES)
    plain = annotator_kit.Annotator(realistic, modes[bench.BASELINE], 1).run()
    control = annotator_kit.Annotator(realistic, modes[bench.CONTROL], 1).run()
    for target in annotator_kit.TARGETS:
        base, got = _reached(plain, target), _reached(control, target)
        assert base is not None
        if got is not None:
            assert got[0] >= base[0] and got[1] >= base[1]
    # Tools that only relabel by the scores fix nothing on noise (the class brush on noise is
    # a broad plain brush: it may fix what it sweeps, at its cost).
    assert all(control.fixed_by.get(tool, 0) <= 0 for tool in ("runner-up key", "menu choice"))


def test_every_try_and_look_is_paid_for(annotator_kit, realistic):
    tools = annotator_kit.Tools(runner_up=True, menu=True, noise=True)
    a = annotator_kit.Annotator(realistic, tools, 1).run()
    tries = a.counts["runner-up key"] + a.counts["menu"]
    assert tries > 0 and a.looks >= tries
    assert a.counts["escape"] > 0  # menus without the right class were closed, and paid for
    seconds = dict(annotator_kit.SECONDS)
    assert a.seconds >= tries * seconds["key"] + a.looks * seconds["look"]
    assert a.actions == sum(a.counts.values())


def test_a_sabotaged_tool_is_undone_and_never_counted_as_helping(
    annotator_kit, realistic, monkeypatch
):
    Tools, Annotator = annotator_kit.Tools, annotator_kit.Annotator
    plain = Annotator(realistic, Tools(), 1).run()
    real_snap = annotator_kit.snap_to_cells

    def sabotaged(labels, cells, protected=None, edges=None):
        changes = real_snap(labels, cells, protected, edges=edges)
        return [annotator_kit.Change(c.box, c.mask, c.value % 150 + 1) for c in changes]

    monkeypatch.setattr(annotator_kit, "snap_to_cells", sabotaged)
    snapped = Annotator(realistic, Tools(snap=True), 1).run()
    presses = snapped.counts["snap"]
    assert presses >= 2 and all(
        snapped.log[i + 1] == "undo" for i, action in enumerate(snapped.log) if action == "snap"
    )
    assert snapped.fixed_by["snap"] == 0  # undone after a look
    last = annotator_kit.TARGETS[-1]
    assert _reached(snapped, last)[0] == _reached(plain, last)[0] + 2 * presses  # snap, undo
    assert _reached(snapped, last)[1] > _reached(plain, last)[1]


def test_a_menu_choice_is_never_left_making_things_worse(annotator_kit, realistic, monkeypatch):
    """A relabel meant for a part of a region that takes all of it (here: every menu choice
    takes the whole region) is a surprise: it is looked at and undone where it got worse."""

    def whole(scores, plane, labels, box, mask, class_index, point, ratio, protected):
        return relabel(labels, box, mask, class_index + 1, protected)

    monkeypatch.setattr(annotator_kit, "scored_relabel", whole)
    after: list[int] = []

    class Watched(annotator_kit.Annotator):
        def _menu(self, p, box, mask, whole):
            before = self.correct
            chosen = super()._menu(p, box, mask, whole)
            after.append(self.correct - before)
            return chosen

    a = Watched(realistic, annotator_kit.Tools(menu=True), 1).run()
    assert a.counts["menu choice"] > 0 and a.counts["undo"] > 0
    assert after and min(after) >= 0


def test_the_largest_errors_are_fixed_first(annotator_kit, realistic):
    """When the first patch under 64 px is touched, no patch of 256 px or more is in sight."""
    in_sight: list[int] = []

    class Watched(annotator_kit.Annotator):
        def _fix(self, p):
            if p.mask.sum() < 64 and not in_sight:
                from skimage.measure import label

                ids = label(np.where(self.labels != self.gt, self.gt, 0), connectivity=2)
                in_sight.append(int((np.bincount(ids.ravel())[1:] >= 256).sum()))
            super()._fix(p)

    Watched(realistic, annotator_kit.Tools(), 1).run()
    assert in_sight == [0]


def test_the_one_press_tools_come_first_and_again_after_each_stage(annotator_kit, realistic):
    a = annotator_kit.Annotator(realistic, annotator_kit.Tools(snap=True, clean=True), 1).run()
    assert [action for action in a.log[:3] if action != "undo"][:2] == ["snap", "clean"]
    stages = 1 + len(annotator_kit.FLOORS)
    for tool in ("snap", "clean"):
        assert 2 <= a.counts[tool] <= stages


def test_without_the_truth_written_in_the_truth_does_not_come_second(task_kit):
    setting = task_kit.Setting("ranks", whole=1, shifted=0)
    seconds = {}
    for premise in (task_kit.PREMISE, task_kit.TRUTH_NOT_IN):
        rng = np.random.default_rng(5)
        regions, gt = task_kit.ground_truth(rng, (300, 400), setting)
        model = task_kit.belief(rng, regions, gt, setting)
        scores = task_kit.make_scores(rng, model, (300, 400), premise=premise)
        rows = task_kit.grid_positions(300, 38), task_kit.grid_positions(400, 50)
        p = scores.probs[0].astype(np.float32)
        seconds[premise.truth_in] = [
            list(np.argsort(-p[:, pixels[np.ix_(*rows)]].mean(axis=1))).index(truth)
            for pixels, truth, wrong, _, _ in model.confusions
            if task_kit.partner(wrong) != truth  # no neighbour's leak to lift it
        ]
    assert seconds[True] and all(r in (1, 2) for r in seconds[True])
    assert all(r > 5 for r in seconds[False])


def test_argmax_consistent_noise_keeps_the_top_and_shuffles_the_rest(task_kit, realistic):
    scores = realistic.scores
    shuffled = task_kit.shuffled_scores(np.random.default_rng(0), scores)
    p, q = scores.probs.astype(np.float32), shuffled.probs.astype(np.float32)
    assert np.array_equal(p.argmax(axis=1), q.argmax(axis=1))
    assert np.array_equal(p.max(axis=1), q.max(axis=1))
    assert np.allclose(np.sort(p, axis=1), np.sort(q, axis=1))  # the same values, moved
    second = np.argsort(-p, axis=1)[:, 1]
    assert (second == np.argsort(-q, axis=1)[:, 1]).mean() < 0.05  # the runner-up is lost


def test_a_careful_stroke_costs_more_than_a_sweep_of_the_same_length(annotator_kit, realistic):
    a = annotator_kit.Annotator(realistic, annotator_kit.Tools(), 1)
    path = np.zeros((40, 300), bool)
    path[20] = True
    box = (slice(0, 40), slice(0, 300))
    costs = []
    for careful in (0, 300):
        before = a.seconds
        a._stroke("brush stroke", box, path, 3, 1, careful)
        costs.append(a.seconds - before)
    speeds = annotator_kit.SWEEP_SPEED, annotator_kit.CAREFUL_SPEED
    assert costs[1] - costs[0] == pytest.approx(300 / speeds[1] - 300 / speeds[0])
    assert speeds[1] < speeds[0]


@pytest.mark.parametrize("miss, kept", [(0.0, False), (1.0, True)])
def test_a_look_over_the_whole_plane_judges_only_what_it_noticed(
    annotator_kit, realistic, monkeypatch, miss, kept
):
    monkeypatch.setattr(annotator_kit, "PLANE_MISS", miss)
    a = annotator_kit.Annotator(realistic, annotator_kit.Tools(), 1)
    wrong = realistic.gt % 150 + 1
    box = (slice(0, 40), slice(0, 40))
    a._global("snap", [annotator_kit.Change(box, np.ones((40, 40), bool), int(wrong[0, 0]))])
    assert (a.log[-1] == "snap") is kept
