"""Runs of different workloads in one session, in the places issue 23's first pass
left (item 4): ``--repeat auto``'s report, the app's thread advice and the
environment's Workload line each use the one rule (``qtui.core.workload_groups``).

One real session: a ``qtui exec`` run of a tiny script and four tiny forum runs over
``threads`` 1 and 2 (backprop, adjoint), real children on the suite's warm fork server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui_data import fixed_caps
from test_ui_run import wait_for

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.core.config import SCRIPT_CHOICE, RunSpec
from qtui.core.summary_schema import Summary
from qtui.engine.forkserver import ProcessExecutor
from qtui.report import narrative
from qtui.report.export.markdown_export import render_markdown
from qtui.session.adaptive import AdaptiveRepeats
from qtui.session.exec_spec import exec_params
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.recommend_panel import RecommendationPanel

TESTS = Path(__file__).resolve().parent
SCRIPT = TESTS / "scripts" / "hybrid_train.py"
COMMAND = (str(SCRIPT), "--steps", "3")
#: What the built-in parameters read as when they leak into a script's words, and
#: the script's zeros when they leak into the forum's.
LEAKS = ("samples=0", "seed=0", "workload=", "qubits=0", "epochs=0")
FORUM_LEAKS = ("workload=exec", "steps=3")

pytestmark = pytest.mark.timeout(240)


def _specs(cwd: Path) -> list[RunSpec]:
    from engine_helpers import tiny

    specs = [RunSpec(SCRIPT_CHOICE, SCRIPT_CHOICE, exec_params(COMMAND), command=COMMAND,
                     cwd=str(cwd), run_id="r1")]
    n = 2
    for threads in (1, 2):
        for method in ("backprop", "adjoint"):
            specs.append(RunSpec("default.qubit", method, tiny(threads=threads), run_id=f"r{n}"))
            n += 1
    return specs


@pytest.fixture(scope="module")
def mixed_events(warm_executor: ProcessExecutor, tmp_path_factory: pytest.TempPathFactory) -> list[ev.Event]:
    from engine_helpers import run_session

    _, rec = run_session(_specs(tmp_path_factory.mktemp("exec")), executor=warm_executor)
    ends = {e.run_id: e.type for e in rec.events if e.type in ev.TERMINAL_TYPES}
    assert set(ends.values()) == {"run_finished"} and len(ends) == 5, ends
    return list(rec.events)


@pytest.fixture(scope="module")
def mixed(mixed_events: list[ev.Event]) -> Summary:
    folded = SessionSummary()
    for e in mixed_events:
        folded.apply(e)
    return document(folded)


def test_repeat_autos_report_labels_each_combination_within_its_workload(
    mixed: Summary, tmp_path: Path
) -> None:
    """The planner's lines name combinations as every other view does (the results'
    labels), never with the other workload's parameters.  The script is named by its
    command line: before it runs, what it will run on is the script's choice."""
    names = [row["combination"] for row in AdaptiveRepeats(_specs(tmp_path)).report()]
    script = "hybrid_train.py --steps 3"
    labels = [r.label for r in mixed.results]
    assert f"{script} on default.qubit+backprop" in labels, labels
    assert sorted(names) == sorted(script if label.startswith(script) else label
                                   for label in labels), names
    assert not [n for n in names if any(w in n for w in LEAKS)], names
    assert "default.qubit+backprop (threads=1)" in names, names


async def test_the_apps_thread_advice_is_the_summarys(
    mixed_events: list[ev.Event], mixed: Summary
) -> None:
    """``threads`` lines in the recommendation panel: the same choices as the summary's
    ``thread_choice`` (workload runs only, labelled within their workload)."""
    assert mixed.thread_choice, "the session sweeps threads: the summary has a choice"
    app = QtuiApp(capabilities=fixed_caps(), events=mixed_events, gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, app.panels_drawn, 10)
        await pilot.press("3")
        panel = app.query_one(RecommendationPanel)
        await wait_for(pilot, lambda: bool(panel.lines), 10)
        shown = str(panel.render())
        advice = [line for line in shown.splitlines() if line.startswith("threads ")]
        assert advice == [f"threads {c.sentence}" for c in mixed.thread_choice], shown
        assert not [w for w in LEAKS + FORUM_LEAKS if w in "\n".join(advice)], advice


def test_the_environment_names_each_workload_of_a_mixed_session(mixed: Summary) -> None:
    """One Workload line per workload: the script by its command line, the forum
    workload with the parameters its runs share (not the script's zeros)."""
    doc = narrative.build(mixed)
    pairs = [p for s in doc.sections for b in s.blocks if isinstance(b, narrative.Fields)
             for p in b.pairs]
    workloads = [value for name, value in pairs if name == "Workload"]
    assert workloads[0] == "script hybrid_train.py --steps 3", workloads
    assert workloads[1].startswith("forum workload, seed=42, "), workloads
    assert "samples=20" in workloads[1] and "epochs=1" in workloads[1], workloads
    assert len(workloads) == 2, workloads
    for text in workloads:
        assert not [w for w in LEAKS + FORUM_LEAKS if w in text], text
        assert "threads=" not in text  # it differs within the forum runs: their labels say it
    md = render_markdown(mixed)
    assert "- Workload: script hybrid_train.py --steps 3" in md, md
