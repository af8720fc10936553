"""Text that was cut (issue 10, item 14): the empty loss panel, the legend at 80
and 200 columns, ``qtui history``'s names, the CLI's warning location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from test_ui_data import T0, _spec, fixed_caps, session_events

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.report.console_report import print_report
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.graph import LineGraph
from qtui.ui.widgets.loss_panel import LossPanel

TORCH_MSG = (
    "Casting complex values to real discards the imaginary part (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/Copy.cpp:308.)"
)


def pshift_events() -> list[ev.Event]:
    """The snapshot session, with its second run a default.qubit+parameter-shift."""
    out = []
    for e in session_events():
        spec = getattr(e, "spec", None)
        if isinstance(spec, dict) and spec.get("run_id") == "r2":
            e = ev.replace(e, spec=_spec("r2", "default.qubit", "parameter-shift"))
        if isinstance(e, ev.SessionStarted):
            runs = [dict(r) for r in e.runs]
            runs[1] = _spec("r2", "default.qubit", "parameter-shift")
            e = ev.replace(e, runs=runs)
        out.append(e)
    return out


def test_the_empty_loss_panel_says_its_whole_sentence() -> None:
    graph = LineGraph()
    graph.empty_text = "loss curves appear when a run trains its first batch"
    text = " ".join("".join(s.text for s in strip).strip() for strip in graph.build_strips(30, 4))
    assert "loss curves appear when a run trains its first batch" in " ".join(text.split())


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_legend_names_every_run_without_an_ellipsis(size: tuple[int, int]) -> None:
    app = QtuiApp(capabilities=fixed_caps(), events=pshift_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await pilot.pause(0.5)
        legend = app.query_one("#loss-legend")
        lines = [strip.text.rstrip() for strip in legend.render_lines(legend.region.reset_offset)]
        joined = "\n".join(lines)
        assert "…" not in joined, joined
        assert any(f"default.qubit+{name} #1" in joined
                   for name in ("parameter-shift", "param-shift")), joined
        assert "batch " in joined and "mean " in joined  # each loss says which it is
        assert isinstance(app.query_one(LossPanel), LossPanel)


def test_qtui_history_never_breaks_a_name(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    log.write_text("".join(e.to_json() + "\n" for e in pshift_events()))
    env = {**os.environ, "QTUI_DATA_DIR": str(tmp_path / "data")}
    subprocess.run([sys.executable, "-m", "qtui", "history", "--import", str(log)],
                   env=env, check=True, capture_output=True)
    for cols in ("80", "200"):
        out = subprocess.run([sys.executable, "-m", "qtui", "history"], env={**env, "COLUMNS": cols},
                             check=True, capture_output=True, text=True).stdout
        for name in ("default.qubit+backprop", "default.qubit+adjoint",
                     "default.qubit+parameter-shift"):
            assert name in out, out


def test_the_cli_warning_names_a_location_a_user_can_find() -> None:
    summary = SessionSummary()
    for e in session_events():
        summary.apply(e)
    summary.apply(ev.WarningSeen(
        run_id="r1", category="UserWarning", message=TORCH_MSG,
        filename="/opt/venv/lib/python3.11/site-packages/pennylane/qnn/torch.py",
        lineno=437, count=3, first_t=T0, last_t=T0 + 1,
    ))
    console = Console(width=80, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    print_report(document(summary), console)
    text = " ".join(console.export_text().split())
    assert "(pennylane/qnn/torch.py:437)" in text, text
    assert "Copy.cpp:308.)" in text


async def test_each_loss_says_which_and_ties_are_starred_alike() -> None:
    from qtui.analysis.fold import SessionSummary
    from qtui.ui.widgets.results_table import ResultsTable
    from qtui.ui.widgets.run_queue import RunQueue

    summary = SessionSummary()
    for e in session_events():
        summary.apply(e)
    combos = summary.combos()
    # three combinations whose final losses read the same (0.1919) and differ below that
    for c, loss in zip(combos, (0.19190001, 0.1919, 0.19189999), strict=True):
        c.final_loss, c.mean = loss, c.mean or 3.0
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("3")
        await pilot.pause(0.4)
        queue = app.query_one("#queue", RunQueue)
        assert str(queue.ordered_columns[-1].label) == "Batch loss"
        table = app.query_one("#results-table", ResultsTable)
        table.update_data(combos)
        await pilot.pause()
        titles = [str(c.label) for c in table.ordered_columns]
        assert "Loss (last epoch)" in titles
        col = titles.index("Loss (last epoch)")
        cells = [str(table.get_row_at(i)[col]) for i in range(table.row_count)]
        assert cells == ["★ 0.1919"] * 3, cells
