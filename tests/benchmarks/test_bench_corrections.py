"""benchmarks/bench_corrections.py's verdict: a control that shows a gain anywhere fails the
run (exit status 1), so that neither its quick run in the test suite nor a full run can pass
with the tools measured against scores that know nothing."""

import pytest


def _results(bench, control: tuple[int, float]) -> dict:
    """One setting: brush + fill 100 actions / 200 s at every target, every mode as
    ``control``."""
    setting = bench.SETTINGS[0]
    base = dict.fromkeys(bench.TARGETS, (100, 200.0))
    out = {(setting.name, name): dict.fromkeys(bench.TARGETS, control) for name, _ in bench.MODES}
    out[(setting.name, bench.BASELINE)] = base
    return out


@pytest.mark.parametrize(
    "control, held", [((100, 200.0), True), ((150, 260.0), True), ((99, 260.0), False)]
)
def test_the_control_holds_only_at_or_below_one_in_actions_and_time(bench, control, held, capsys):
    assert bench.report(_results(bench, control), [bench.SETTINGS[0]]) is held
    verdict = "yes" if held else "NO"
    assert f"everywhere: {verdict}" in capsys.readouterr().out


def test_a_control_showing_a_gain_fails_the_run(bench, monkeypatch, capsys):
    monkeypatch.setattr(bench, "simulate", lambda *a, **k: _results(bench, (50, 100.0)))
    assert bench.main(["--quick", "--skip", "latency"]) == 1
    assert "FAILED: the control" in capsys.readouterr().err
    monkeypatch.setattr(bench, "simulate", lambda *a, **k: _results(bench, (150, 300.0)))
    assert bench.main(["--quick", "--skip", "latency"]) == 0
