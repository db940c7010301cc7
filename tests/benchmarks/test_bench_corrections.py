"""benchmarks/bench_corrections.py's verdict: a control that shows a gain anywhere fails the
run (exit status 1), so that neither its quick run in the test suite nor a full run can pass
with the tools measured against scores that know nothing of the truth: noise, argmax-consistent
noise, or generated scores with the truth not written in. And the report says what it shows:
each group's premise beside its figures, the per-seed spread, 99.5% first."""

import pytest


def _column(bench, name="whole regions", modes=None, judged=None, seeds=(0, 1)):
    return bench.Column(
        name,
        f"premise of {name}",
        lambda seed: None,
        seeds,
        bench.ALL if modes is None else modes,
        bench.CONTROLS if judged is None else judged,
    )


def _results(bench, columns, gains: dict) -> dict:
    """Per seed, brush + fill 50 actions / 100 s at every target, every mode 50 / 100 s (1.0x)
    but those in ``gains`` (mode: per-seed (actions, seconds))."""
    out = {}
    for c in columns:
        for name in c.modes:
            runs = gains.get(name, [(50, 100.0)] * len(c.seeds))
            out[(c.name, name)] = {t: list(runs) for t in bench.TARGETS}
    return out


@pytest.mark.parametrize(
    "runs, held",
    [
        ([(50, 100.0), (50, 100.0)], True),
        ([(75, 130.0), (75, 130.0)], True),
        ([(49, 130.0), (50, 130.0)], False),  # fewer actions, summed: a gain
        ([(75, 99.0), (75, 100.0)], False),  # less time, summed: a gain
    ],
)
@pytest.mark.parametrize("control", ["CONTROL", "SHUFFLED"])
def test_a_control_holds_only_at_or_below_one_in_actions_and_time(
    bench, control, runs, held, capsys
):
    columns = [_column(bench)]
    results = _results(bench, columns, {getattr(bench, control): runs})
    assert bench.report(results, columns) is held
    out = capsys.readouterr().out
    assert (
        f"control at or below 1.0x (actions and time) everywhere: {'yes' if held else 'NO'}" in out
    )
    assert held or f"a control showed a gain: {getattr(bench, control)} on whole regions" in out


def test_with_the_truth_not_written_in_every_score_tool_is_a_control(bench, capsys):
    scored = [(25, 50.0), (25, 50.0)]  # 2x
    plain = [_column(bench)]
    assert bench.report(_results(bench, plain, {bench.SCORED_NAME: scored}), plain)
    no_truth = [_column(bench, "truth not written in", bench.NOT_IN_MODES, bench.NOT_IN_MODES[1:])]
    for tool in bench.NOT_IN_MODES[1:]:
        assert not bench.report(_results(bench, no_truth, {tool: scored}), no_truth), tool
    capsys.readouterr()


def test_the_generated_columns_hold_the_held_out_constants_and_the_truth_not_written_in(bench):
    columns = bench.generated_columns((60, 80), bench.SETTINGS[:2], [0])
    names = [c.name for c in columns]
    last = bench.SETTINGS[1].name
    assert names == [s.name for s in bench.SETTINGS[:2]] + [
        f"{last}, held-out constants",
        f"{last}, truth not written in",
    ]
    assert all(set(bench.CONTROLS) <= set(c.judged) for c in columns)
    assert bench.SCORED_NAME in columns[-1].judged and bench.BASELINE not in columns[-1].judged
    assert "NOT written" in columns[-1].premise and "per grid cell" in columns[-2].premise


def test_the_report_leads_with_the_real_network_and_99_5_and_gives_the_premise_and_spread(
    bench, capsys
):
    network = bench.Column("network: shape", "a real network's scores", lambda s: None, (0, 1),
                           bench.ALL, bench.CONTROLS, "network")  # fmt: skip
    columns = [_column(bench), network]
    runs = {"all tools": [(25, 50.0), (10, 20.0)]}  # 2x and 5x per seed
    bench.report(_results(bench, columns, runs), columns)
    out = capsys.readouterr().out
    assert out.index("== network tasks") < out.index("== generated tasks")
    assert out.index("a real network's scores") < out.index("to 99.5% right (network")
    assert out.index("premise of whole regions") < out.index("to 99.5% right (generated")
    assert out.index("to 99.5% right (network") < out.index("to 95% right (network")
    assert "| all tools | 2.86x / 2.86x (2.00-3.50-5.00) |" in out


def test_a_control_showing_a_gain_fails_the_run(bench, monkeypatch, capsys):
    columns = [_column(bench)]
    monkeypatch.setattr(bench, "columns_of", lambda args: columns)
    for runs, status in (([(25, 50.0)] * 2, 1), ([(75, 150.0)] * 2, 0)):
        monkeypatch.setattr(
            bench,
            "simulate",
            lambda *a, runs=runs, **k: _results(bench, columns, {bench.SHUFFLED: runs}),
        )
        assert bench.main(["--quick", "--skip", "latency"]) == status
        assert ("FAILED: a control" in capsys.readouterr().err) == bool(status)
