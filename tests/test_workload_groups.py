"""Workloads kept apart (issue 23, item 4): a ``qtui exec`` run beside built-in runs.

One real session holds a tiny ``qtui exec`` run (``tests/scripts/hybrid_train.py``) and
two tiny forum runs, as the app's command field and its Start make it: real children
on the suite's warm fork server.  Its labels, Relative, ★, recommendation and sweep
must compare only runs of the same workload and parameters, every view must show the
groups under their own headers, and the TUI's loss legend must leave the curve room.
A sweep (synthetic results) keeps its labels and compares per point.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.console import Console
from test_ui_data import fixed_caps
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from qtui.analysis.fold import SessionSummary
from qtui.analysis.recommend import describe, recommend
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.core.config import SCRIPT_CHOICE, RunSpec
from qtui.core.summary_schema import Summary
from qtui.core.workload_groups import WorkloadGroups
from qtui.engine.forkserver import ProcessExecutor
from qtui.report import results as model
from qtui.report.console_report import print_report
from qtui.report.export.csv_export import CsvExporter
from qtui.report.export.markdown_export import render_markdown
from qtui.session.exec_spec import exec_params
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.loss_panel import LossPanel
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_queue import RunQueue

TESTS = Path(__file__).resolve().parent
SCRIPT = TESTS / "scripts" / "hybrid_train.py"
SCRIPT_GROUP = "script hybrid_train.py --steps 3"
FORUM_GROUP = "forum workload"
EXEC_LABEL = "hybrid_train.py --steps 3 on default.qubit+backprop"
#: What the built-in parameters read as when they leak into a label.
LEAKS = ("samples=", "seed=", "workload=")


@pytest.fixture(scope="module")
def mixed_events(warm_executor: ProcessExecutor, tmp_path_factory: pytest.TempPathFactory) -> list[ev.Event]:
    """A real session: one exec run of a tiny script, two tiny forum runs."""
    from engine_helpers import run_session, tiny

    cwd = tmp_path_factory.mktemp("exec")
    command = (str(SCRIPT), "--steps", "3")
    specs = [
        RunSpec(SCRIPT_CHOICE, SCRIPT_CHOICE, exec_params(command), command=command,
                cwd=str(cwd), run_id="r1"),
        RunSpec("default.qubit", "backprop", tiny(), run_id="r2"),
        RunSpec("default.qubit", "adjoint", tiny(), run_id="r3"),
    ]
    _, rec = run_session(specs, executor=warm_executor)
    ends = {e.run_id: e.type for e in rec.events if e.type in ev.TERMINAL_TYPES}
    assert ends == {"r1": "run_finished", "r2": "run_finished", "r3": "run_finished"}, ends
    return list(rec.events)


@pytest.fixture(scope="module")
def mixed(mixed_events: list[ev.Event]) -> Summary:
    folded = SessionSummary()
    for e in mixed_events:
        folded.apply(e)
    return document(folded)


def _by_label(summary: Summary) -> dict[str, Any]:
    return {r.label: r for r in summary.results}


def test_a_script_run_and_builtin_runs_are_two_groups(mixed: Summary) -> None:
    groups = WorkloadGroups(mixed.results)
    assert [g.name for g in groups.groups] == [SCRIPT_GROUP, FORUM_GROUP]
    assert {r.label: groups.name(r.parameters) for r in mixed.results} == {
        EXEC_LABEL: SCRIPT_GROUP,
        "default.qubit+backprop": FORUM_GROUP,
        "default.qubit+adjoint": FORUM_GROUP,
    }
    # the summary says so too, for whoever reads the JSON
    assert [r.group for r in mixed.results] == [SCRIPT_GROUP, FORUM_GROUP, FORUM_GROUP]


def test_labels_are_made_within_a_group_never_from_the_other_workloads_parameters(
    mixed: Summary,
) -> None:
    assert set(_by_label(mixed)) == {EXEC_LABEL, "default.qubit+backprop", "default.qubit+adjoint"}
    text = render_markdown(mixed)
    # but for the environment, whose Workload lines name each workload with its own
    # parameters (forum workload, seed=42, ...: tests/test_ui_groups_apart.py)
    labelled = text.split("#### Environment", 1)[0] + text.split("#### Command line", 1)[-1]
    buf = io.StringIO()
    print_report(mixed, Console(file=buf, width=80, color_system=None))
    for view, shown in (("markdown", labelled), ("console", buf.getvalue())):
        leaked = [w for w in LEAKS if w in shown]
        assert not leaked, f"{view} shows {leaked}:\n{shown}"
    assert f"{EXEC_LABEL} #1" in text and "default.qubit+adjoint #1" in text


def test_relative_and_best_compare_only_within_a_group(mixed: Summary) -> None:
    by = _by_label(mixed)
    forum = [by["default.qubit+backprop"], by["default.qubit+adjoint"]]
    fastest = min(forum, key=lambda r: r.mean)
    # the JSON's relative and the table's Relative: each group's fastest is 1.00
    assert by[EXEC_LABEL].relative == 1.0
    assert fastest.relative == 1.0
    results = model.build(mixed)
    rows = {r.label: r for r in results.rows}
    assert rows[EXEC_LABEL].cells["relative"].text == "1.00"
    assert rows[fastest.label].cells["relative"].text == "1.00"
    assert rows[fastest.label].cells["mean"].best
    # a row alone in its group is not "best" at anything: it was compared with nothing
    assert not [k for k, c in rows[EXEC_LABEL].cells.items() if c.best]
    assert [r.group for r in results.rows] == [SCRIPT_GROUP, FORUM_GROUP, FORUM_GROUP]


def test_the_recommendation_is_made_per_group_and_names_it(mixed: Summary) -> None:
    rec = mixed.recommendation
    assert rec is not None and rec.fastest is None
    assert [g.group for g in rec.groups] == [SCRIPT_GROUP, FORUM_GROUP]
    lines = describe(rec)
    assert any(line.startswith(f"For {SCRIPT_GROUP}: Fastest: {EXEC_LABEL} (") for line in lines), lines
    assert any(line.startswith(f"For {FORUM_GROUP}: Fastest: default.qubit+") for line in lines), lines
    assert not [line for line in lines if any(w in line for w in LEAKS)], lines
    # no sweep axis made of the script's zeros against the forum's parameters
    assert mixed.sweep == {}


def test_every_view_shows_each_group_under_its_own_header(mixed: Summary) -> None:
    text = render_markdown(mixed)
    results = text.split("#### Results", 1)[1].split("####", 1)[0]
    assert results.index(f"**{SCRIPT_GROUP}**") < results.index(EXEC_LABEL)
    assert results.index(f"**{FORUM_GROUP}**") < results.index("| default.qubit+backprop")
    assert results.index(EXEC_LABEL) < results.index(f"**{FORUM_GROUP}**")
    buf = io.StringIO()
    print_report(mixed, Console(file=buf, width=80, color_system=None))
    console = buf.getvalue()
    assert SCRIPT_GROUP in console and FORUM_GROUP in console, console
    # CSV: each run's group
    rows = list(csv.DictReader(io.StringIO(CsvExporter().render(mixed))))
    assert {r["run_id"]: r["group"] for r in rows} == {
        "r1": SCRIPT_GROUP, "r2": FORUM_GROUP, "r3": FORUM_GROUP,
    }


def _table_rows(table: ResultsTable) -> list[str]:
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_app_keeps_groups_apart_and_the_loss_curve_in_view(
    mixed_events: list[ev.Event], size: tuple[int, int], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    app = QtuiApp(capabilities=fixed_caps(), events=mixed_events, gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=size) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.panels_drawn():
                break
        rows = _table_rows(app.query_one(ResultsTable))
        assert rows[0].startswith(SCRIPT_GROUP) and rows[1].startswith(EXEC_LABEL), rows
        assert rows[2].startswith(FORUM_GROUP), rows
        assert not [r for r in rows if any(w in r for w in LEAKS)], rows
        queue = [str(app.query_one(RunQueue).get_row_at(i)) for i in range(3)]
        assert not [r for r in queue if any(w in r for w in LEAKS)], queue
        panel = app.query_one(LossPanel)
        legend = panel.query_one("#loss-legend")
        assert panel.size.width > 0
        assert legend.outer_size.width * 2 <= panel.size.width, (legend.outer_size, panel.size)
        # a sort orders rows within their group; Enter on a header opens nothing
        await pilot.press("3")
        table = app.query_one(ResultsTable)
        table.focus()
        table.move_cursor(row=0, column=2)  # Mean ± σ
        await pilot.press("s", "s")  # descending
        await pilot.pause(0.1)
        rows = _table_rows(table)
        assert rows[0].startswith(SCRIPT_GROUP) and rows[2].startswith(FORUM_GROUP), rows
        assert table.row_at(0) is None and table.row_at(2) is None
        forum = [table.row_at(3), table.row_at(4)]
        assert all(r is not None for r in forum)
        means = [r.cells["mean"].raw for r in forum if r is not None]
        assert means == sorted(means, reverse=True), means
        screens = len(app.screen_stack)
        table.move_cursor(row=0, column=0)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert len(app.screen_stack) == screens


def _drawn(widget: Widget) -> str:
    """The widget's lines as the terminal shows them (cut where its room ends)."""
    size = widget.outer_size  # its padding included
    strips = widget.render_lines(Region(0, 0, size.width, size.height))
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


class _Legend(App[None]):
    """A loss panel fed once, when it mounts: before it knows its width."""

    def __init__(self, runs: list[Any]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        yield LossPanel()

    def on_mount(self) -> None:
        panel = self.query_one(LossPanel)
        assert panel.size.width == 0  # not laid out yet: the first draw's case
        panel.update_data(self.runs)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_loss_legend_never_takes_more_than_half_the_panel(
    mixed_events: list[ev.Event], size: tuple[int, int]
) -> None:
    """Long names (a script's arguments) are cut with an ellipsis, at the first draw too."""
    folded = SessionSummary()
    for e in mixed_events:
        folded.apply(e)
    long = "train.py --epochs 40 --learning-rate 0.001 --batch-size 64 on default.qubit+backprop #1"
    runs = [(rec, long if i == 0 else rec.combo, "cyan") for i, rec in enumerate(folded.runs.values())]
    app = _Legend(runs)
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(LossPanel)
        await pilot.pause(0.1)
        legend = panel.query_one("#loss-legend")
        assert legend.outer_size.width * 2 <= panel.size.width, (legend.outer_size, panel.size)
        # the name is cut where the legend's room ends, with an ellipsis
        shown = _drawn(legend)
        assert "train.py --epochs 40" in shown, shown
        if len(long) + 5 > panel.size.width // 2:
            assert long not in shown and "…" in shown, shown
        else:
            assert long in shown, shown


# --- a sweep: the labels keep their point; Relative, ★ and the picks are per point ---------


def _sweep() -> list[Any]:
    from result_helpers import entry

    return [
        entry("a+backprop", [1.0, 1.1, 1.0], qubits=2),
        entry("a+adjoint", [2.0, 2.1, 2.0], qubits=2),
        entry("a+backprop", [8.0, 8.1, 8.0], qubits=8),
        entry("a+adjoint", [4.0, 4.1, 4.0], qubits=8),
    ]


def test_a_sweep_keeps_its_labels_and_compares_per_point() -> None:
    results = _sweep()
    for r in results:
        r.label = ""  # made here, as the fold makes them
    groups = WorkloadGroups(results)
    assert [groups.label(r) for r in results] == [
        "a+backprop (qubits=2)", "a+adjoint (qubits=2)", "a+backprop (qubits=8)", "a+adjoint (qubits=8)",
    ]
    assert [g.name for g in groups.groups] == ["qubits=2", "qubits=8"]
    rows = {r.label: r for r in model.from_results(results).rows}
    assert rows["a+backprop (qubits=2)"].cells["relative"].raw == 1.0
    assert rows["a+adjoint (qubits=8)"].cells["relative"].raw == 1.0
    assert rows["a+adjoint (qubits=8)"].cells["mean"].best
    assert rows["a+backprop (qubits=2)"].cells["mean"].best
    # the picks' words are the sweep's, as before: "At qubits=8: ..."
    for r in results:
        r.label = groups.label(r)
    lines = describe(recommend(results))
    assert any(line.startswith("At qubits=8: Fastest: a+adjoint (qubits=8)") for line in lines), lines


def test_one_group_has_no_header() -> None:
    from result_helpers import entry

    results = [entry("a+backprop", [1.0, 1.1, 1.0]), entry("a+adjoint", [2.0, 2.1, 2.0])]
    summary = Summary(results=results, recommendation=recommend(results))
    assert len(WorkloadGroups(results).groups) == 1
    text = render_markdown(summary)
    results_md = text.split("#### Results", 1)[1].split("####", 1)[0]
    assert "**" not in results_md.split("|", 1)[0], results_md


def test_compare_names_combinations_within_their_workload(mixed: Summary) -> None:
    """``qtui compare`` of two sessions that both hold a script run and forum runs."""
    from qtui.analysis.comparison import compare

    b = msgspec.structs.replace(mixed, session_id="other")
    names = [row.combination for row in compare(mixed, b).combinations]
    assert sorted(names) == sorted([EXEC_LABEL, "default.qubit+backprop", "default.qubit+adjoint"])
