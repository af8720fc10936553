"""``--repeat auto``: passes are interleaved and stop at the target, the cap or a failure.

The planner's logic runs on scripted runs (``tests/scripted_executor.py``): their
times are the script's, so whether a target is reached does not depend on the
machine's load.  The end-to-end test runs real children through ``qtui run``.
"""

from __future__ import annotations

from pathlib import Path

from cli_in_process import QtuiCli
from scripted_executor import Script, ScriptedExecutor

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.session.adaptive import AdaptiveRepeats, RepeatPolicy, ci_fraction
from tests.engine_helpers import run_session, tiny


def specs() -> list[RunSpec]:
    p = tiny(epochs=1, samples=20)
    return [RunSpec(device="default.qubit", diff_method=m, params=p) for m in ("backprop", "adjoint")]


def finished(rec: object) -> list[ev.RunFinished]:
    return [e for e in rec.events if isinstance(e, ev.RunFinished)]  # type: ignore[attr-defined]


def varying(spec: RunSpec) -> Script:
    """A different time each repeat: no interval is ever tight enough for 1e-9."""
    return Script(step_s=0.01 * (1 + spec.repeat_index))


def test_an_unreachable_target_stops_at_max_repeats_interleaved() -> None:
    planner = AdaptiveRepeats(specs(), RepeatPolicy(target_ci=1e-9, max_repeats=3))
    _, rec = run_session(specs(), executor=ScriptedExecutor(varying), planner=planner)
    starts = [e for e in rec.events if isinstance(e, ev.RunStarted)]
    methods = [e.spec["diff_method"] for e in starts]
    assert methods == ["backprop", "adjoint"] * 3  # one of each per pass
    assert [e.spec["repeat_index"] for e in starts] == [0, 0, 1, 1, 2, 2]
    assert len({e.run_id for e in starts}) == 6
    assert {r["why"] for r in planner.report()} == {"--max-repeats reached"}
    queued = [e for e in rec.events if isinstance(e, ev.RunQueued)]
    assert len(queued) == 6  # later passes are queued as they are planned


def test_a_loose_target_stops_after_the_minimum() -> None:
    planner = AdaptiveRepeats(specs()[:1], RepeatPolicy(target_ci=0.05, max_repeats=9))
    _, rec = run_session(specs()[:1], executor=ScriptedExecutor(), planner=planner)
    times = [e.train_s for e in finished(rec)]
    assert times == [0.2, 0.2, 0.2]  # the minimum, all alike: the interval is 0
    assert ci_fraction(times) == 0.0
    assert planner.report()[0]["why"] == "target reached"


def test_a_failing_combination_is_not_repeated() -> None:
    failing = ScriptedExecutor(lambda spec: Script(end="failed"))
    planner = AdaptiveRepeats(specs()[:1], RepeatPolicy(target_ci=1e-9, max_repeats=5))
    _, rec = run_session(specs()[:1], executor=failing, planner=planner)
    assert [e.type for e in rec.events if e.type in ev.TERMINAL_TYPES] == ["run_failed"]
    assert planner.report()[0]["why"] == "a run did not finish"


def test_the_time_budget_stops_new_passes() -> None:
    planner = AdaptiveRepeats(specs()[:1], RepeatPolicy(target_ci=1e-9, max_repeats=50,
                                                        max_time_s=0.0))
    _, rec = run_session(specs()[:1], executor=ScriptedExecutor(varying), planner=planner)
    assert len(finished(rec)) == 1
    assert planner.report()[0]["why"] == "--max-time reached"


def test_qtui_run_repeat_auto_end_to_end(tmp_path: Path, qtui_cli: QtuiCli) -> None:
    """``qtui run --repeat auto`` (in this process, runs forked from the warm server):
    passes, the report, the summary."""
    import json

    out = tmp_path / "s.json"
    proc = qtui_cli(
        "run", "--repeat", "auto", "--max-repeats", "3", "--target-ci", "0.1",
        "--epochs", "1", "--samples", "20", "--json", str(out),
        env={"COLUMNS": "200", "QTUI_NO_HISTORY": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "--repeat auto: interleaved passes until the 95 % interval" in proc.stderr
    assert "Repeats (--repeat auto):" in proc.stdout
    assert "default.qubit+backprop: 3 runs" in proc.stdout
    summary = json.loads(out.read_text())
    assert summary["results"][0]["runs"] == {"total": 3, "finished": 3}
    assert [r["repeat_index"] for r in summary["runs"]] == [0, 1, 2]
    assert summary["results"][0]["mad"] is not None  # median and MAD beside mean ± σ
