"""Text that was cut (issue 10, item 14): the empty loss panel, the legend at 80
and 200 columns, ``qtui history``'s names, the CLI's warning location; and at
80x24 (issue 23, item 7): the grid's best column, a refusal's hint, the losses
under a legend name, the footer's last cell, toasts over borders, the results
table's names when scrolled."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from test_ui_data import FORUM_EPOCHS, T0, _spec, fixed_caps, session_events
from test_ui_form import form_ready
from ui_helpers import burst

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.report.console_report import print_report
from qtui.ui.app import QtuiApp
from qtui.ui.form_capabilities import StaticCapabilities
from qtui.ui.widgets.combo_grid import ComboCell
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


# --- issue 23, item 7: cut text at 80x24 ------------------------------------------------

#: PennyLane 0.45's own words for default.mixed + adjoint (the probe's answer here).
MIXED_ADJOINT = (
    "QuantumFunctionError: Device <default.mixed device (wires=2)> does not support "
    "adjoint with requested circuit."
)


def screen_lines(app: QtuiApp) -> list[str]:
    """The screen as drawn, one string per row (toasts and modal screens included)."""
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


async def wait_for(pilot: object, check: object, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, what
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def mixed_caps() -> StaticCapabilities:
    """The five devices PennyLane 0.45 offers here (the form then scrolls at 80x24)."""
    caps = fixed_caps()
    shift_only = {(d, m): f"QuantumFunctionError: Device <{d} device (wires=2)> does not "
                  f"support {m} with requested circuit."
                  for d in ("null.qubit", "reference.qubit") for m in ("backprop", "adjoint")}
    return StaticCapabilities(
        devices=[*caps.devices, "default.mixed", "null.qubit", "reference.qubit"],
        refused={**caps.refused, ("default.mixed", "adjoint"): MIXED_ADJOINT, **shift_only},
        best={**caps.best, "default.mixed": "backprop", "null.qubit": "parameter-shift",
              "reference.qubit": "parameter-shift"},
    )


async def test_the_best_column_names_the_method_whole_at_80_columns() -> None:
    """``[ ] →backp…``: the best column had 11 cells at 80 columns."""
    app = QtuiApp(capabilities=mixed_caps(), gpu=False, record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await form_ready(pilot, app)
        rows = {line.split()[0]: line for line in screen_lines(app)
                if line.strip().startswith(("default.", "lightning.", "null.")) and "[" in line}
        assert "→backprop" in rows["default.qubit"], rows
        assert "→adjoint" in rows["lightning.qubit"], rows
        assert "→backprop" in rows["default.mixed"], rows
        assert "→p-shift" in rows["null.qubit"], rows
        assert not any("…" in line for line in rows.values()), rows


async def test_a_refusal_hint_ends_at_a_word_with_an_ellipsis() -> None:
    """The hint's two lines ended mid-sentence: ``… does not support adjoint with requested``."""
    app = QtuiApp(capabilities=mixed_caps(), gpu=False, record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await form_ready(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.focused, ComboCell), "no cell focused")
        await burst(pilot, "down", "down", "right")  # default.mixed + adjoint: refused
        cell = app.focused
        assert isinstance(cell, ComboCell) and cell.reason == MIXED_ADJOINT
        hint = app.query_one("#combo-hint")
        note = cell.note()
        await wait_for(pilot, lambda: "default.mixed" in str(hint.render()), "hint not updated")
        lines = [s.text.rstrip() for s in hint.render_lines(hint.region.reset_offset)]
        assert len(lines) == 2 and all(len(x) <= hint.region.width for x in lines), lines
        shown = " ".join(lines)
        assert shown.endswith("…"), lines
        said = shown.removesuffix("…").rstrip()
        assert note.startswith(said) and note[len(said)] == " ", (said, note)
        assert MIXED_ADJOINT in str(cell.tooltip)  # the whole reason


def long_training_events(epochs: int = 12) -> list[ev.Event]:
    """The snapshot session with 12 epochs a run: ``ep12 mean`` is a character longer."""
    losses = FORUM_EPOCHS + [0.1612 - 0.001 * k for k in range(epochs - len(FORUM_EPOCHS))]
    out: list[ev.Event] = []
    for e in session_events():
        if isinstance(e, ev.RunFinished):
            for n in range(len(FORUM_EPOCHS) + 1, epochs + 1):
                out.append(ev.Epoch(run_id=e.run_id, epoch=n, mean_loss=losses[n - 1],
                                    elapsed_s=n, t=e.t))
            e = ev.replace(e, epoch_losses=losses)
        out.append(e)
    return out


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_legend_says_each_loss_whole(size: tuple[int, int]) -> None:
    """``ep11 mean 0.16…``: the losses under a name were cut at the legend's edge."""
    app = QtuiApp(capabilities=fixed_caps(), events=long_training_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=size) as pilot:
        await burst(pilot, "2")
        legend = app.query_one("#loss-legend")
        await wait_for(pilot, lambda: "ep12" in str(legend.render()), "legend not drawn")
        lines = [s.text.rstrip() for s in legend.render_lines(legend.region.reset_offset)]
        joined = "\n".join(lines)
        assert "…" not in joined, joined
        assert len(re.findall(r"ep12 mean 0\.\d{4}(?!\d)", joined)) == 2, joined
        assert len(re.findall(r"batch 0\.\d{4}(?!\d)", joined)) == 2, joined


@pytest.mark.parametrize("keys", [("question_mark",), ("2",), ("h",)], ids=["help", "monitor", "history"])
async def test_the_footer_ends_with_the_palette_key(keys: tuple[str, ...], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``C Can▏^p paletteo``: a key scrolled under the palette key showed in the last cell."""
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path))
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await form_ready(pilot, app)
        screen = app.screen
        await burst(pilot, *keys)
        if keys != ("2",):
            await wait_for(pilot, lambda: app.screen is not screen, f"{keys} opened nothing")
        await pilot.pause(0.2)
        last = screen_lines(app)[-1]
        assert last.rstrip().endswith("^p palette"), repr(last)


async def test_toasts_take_whole_lines_and_leave_the_borders_whole() -> None:
    """Textual's toasts (60 columns at the bottom right) cut the panels' borders."""
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await burst(pilot, "2")
        await pilot.pause(0.3)
        before = screen_lines(app)
        app.notify("sampling every 0.2 s", timeout=60)
        app.notify("no active run to cancel", severity="warning", timeout=60)
        await wait_for(pilot, lambda: any("no active run" in x for x in screen_lines(app)),
                       "no toast drawn")
        after = screen_lines(app)
        toasts = [i for i, x in enumerate(after) if "sampling every" in x or "no active run" in x]
        assert len(toasts) == 2, after
        for i, line in enumerate(after):
            if i in toasts:
                assert not set(line) & set("│╭╮╰╯─"), line  # the toast has its line alone
            elif line != before[i]:
                # a line the toasts took whole, blank but for their padding
                assert not line.strip() or line.strip() == "▌", (before[i], line)


async def test_the_results_table_keeps_the_combination_column_when_scrolled() -> None:
    """Scrolled right at 80 columns the rows lost their names."""
    from qtui.ui.widgets.results_table import ResultsTable

    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, "3")
        table = app.query_one("#results-table", ResultsTable)
        await wait_for(pilot, lambda: table.row_count >= 3, "no results")
        table.focus()
        await burst(pilot, *["right"] * 14)
        await wait_for(pilot, lambda: table.scroll_x > 0, "the table did not scroll")
        top, bottom = table.region.y, table.region.bottom
        drawn = "\n".join(screen_lines(app)[top:bottom])
        assert "Warnings" in drawn or "Loss" in drawn, drawn  # scrolled to the last columns
        for name in ("default.qubit+backprop", "lightning.qubit+adjoint", "default.qubit+adjoint"):
            assert name in drawn, drawn


async def test_every_panel_title_on_the_results_tab_fits_at_80_columns() -> None:
    """The results panel's title read '… ! > 1.5 cores b…' at 80×24, and the
    recommendation's said 'for this workload' whatever the groups (issue 23, item 7)."""
    from textual.widget import Widget

    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, "3")
        for box in ("#queue", "#results-table", "#recommend-box"):
            widget = app.query_one(box, Widget)
            title = str(widget.border_title or "")
            # the border keeps its corners and a space each side of the title
            assert len(title) <= widget.outer_size.width - 4, (box, title, widget.outer_size)
        assert "this workload" not in str(app.query_one("#recommend-box", Widget).border_title)
