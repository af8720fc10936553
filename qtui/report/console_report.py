"""The end-of-session report on the console: the results model as rich tables.

``qtui run``, ``qtui sweep``, ``qtui report`` and ``qtui watch --no-tui``
print this.  Every figure comes from ``qtui.report.results`` (formatted by
``qtui.core.units``), the lines about unfinished runs from ``qtui.analysis.outcomes``, so
the console reads exactly like the exports and the TUI.  Text that comes from
a run (labels, errors, warnings) is printed as plain ``Text``, never parsed as
rich markup.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qtui.analysis.fold import LOSS_KINDS
from qtui.analysis.outcomes import describe_error
from qtui.core import units
from qtui.core.parameters import run_label, varying_parameters
from qtui.report import results as results_model
from qtui.report.phase_table import PHASES_NOTE, phases_table
from qtui.report.results import BURN_MARK, BURN_NOTE, CONTENDED_NOTE, QUANTUM_COLUMNS, Results, Row

_TIMING = ("runs", "mean", "median", "relative")
_RESOURCES = ("min", "max", "peak_rss", "cores", "contention")
_OUTCOME = ("core_s", "threads", "accuracy", "loss", "warnings")


def _new_table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
        pad_edge=False,
    )


def _label(row: Row) -> Text:
    text = Text(row.label)
    if row.notes:
        text.append("\n" + ", ".join(row.notes), style="dim")
    if not row.complete:
        text.append(f"\n{row.text('runs')} finished", style="red")
    return text


def _cell(row: Row, key: str) -> Text:
    cell = row.cells[key]
    style = "bold green" if cell.best else ""
    if key == "warnings" and cell.raw:
        style = "yellow"
    return Text(cell.shown, style=style)


def results_tables(model: Results, width: int = 80) -> list[Table]:
    """hyperfine's columns plus the resources beside them, one row per combination.

    One table when the console is wide enough for every column; else three
    (timing; resources; outcome), so every figure stays whole at 80 columns.
    """
    gpu = tuple(c.key for c in model.columns if c.key.startswith("gpu_"))
    node = tuple(c.key for c in model.columns if c.key == "node")
    quantum = tuple(c.key for c in model.columns if c in QUANTUM_COLUMNS)
    # Named metrics stand where accuracy stands (results.py drops accuracy when no
    # result has one): the outcome columns are the model's, in _OUTCOME's order.
    present = {c.key for c in model.columns}
    metric = tuple(c.key for c in model.columns if c.key.startswith("metric:"))
    outcome = tuple(
        k2 for k in _OUTCOME
        for k2 in (((k,) if k in present else ()) + metric if k == "accuracy" else (k,))
    )
    every = _TIMING + _RESOURCES + outcome + gpu + quantum + node
    label = max((len(r.label) for r in model.rows), default=11)
    need_wide = label + sum(
        max(len(model.column(k).title), *(len(r.text(k)) for r in model.rows)) + 2 for k in every
    ) if model.rows else 0
    if need_wide <= width:
        groups = [("Results", every)]
    else:
        groups = [
            ("Results: training time", _TIMING),
            ("Results: range and resources", _RESOURCES + gpu),
            ("Results: cost and outcome", outcome),
        ]
        if quantum:
            groups.append(("Results: what the devices executed", quantum))
        if node:
            groups.append(("Results: where they were measured", node))
    tables = []
    for title, keys in groups:
        table = _new_table(title)
        table.add_column("Combination", overflow="fold", ratio=1)
        for key in keys:
            col = model.column(key)
            # A figure is never cut: its column is at least as wide as its widest
            # cell; the combination column wraps instead.
            need = max((len(r.text(key)) for r in model.rows), default=1)
            header = col.title if len(groups) == 1 or len(col.title) <= need + 2 else col.short
            table.add_column(header, justify="right" if col.align == "r" else "left",
                             no_wrap=True, min_width=need)
        for row in model.rows:
            table.add_row(_label(row), *[_cell(row, k) for k in keys])
        tables.append(table)
    return tables


def _unfinished(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r for r in summary.get("runs") or [] if isinstance(r, dict) and r.get("state") != "finished"
    ]


def unfinished_lines(summary: dict[str, Any]) -> list[str]:
    """``default.qubit+backprop #1 (run-id): failed, ValueError: …`` per unfinished run."""
    varying = varying_parameters([r for r in summary.get("runs") or [] if isinstance(r, dict)])
    return [
        f"{run_label(r.get('parameters') or {}, r.get('repeat_index'), varying)}"
        f" ({r.get('run_id')}): {describe_error(r.get('error'), r.get('state'))}"
        for r in _unfinished(summary)
    ]


def exit_reason(summary: dict[str, Any]) -> str | None:
    """``N of M runs did not finish (a: crashed, SIGKILL; ...)`` or None."""
    bad = _unfinished(summary)
    if not bad:
        return None
    shown = "; ".join(
        f"{run_label(r.get('parameters') or {}, r.get('repeat_index'))}:"
        f" {describe_error(r.get('error'), r.get('state'))}"
        for r in bad[:3]
    )
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    return f"{len(bad)} of {len(summary.get('runs') or [])} runs did not finish ({shown}{more})"


def _plain(console: Console, text: str, style: str | None = None) -> None:
    console.print(Text(text, style=style or ""), highlight=False)


def print_phases(summary: dict[str, Any], console: Console) -> None:
    """Where the time of a step goes (``qtui.report.phase_table``, as in every export)."""
    headers, rows, _ = phases_table(summary)
    if not rows:
        return
    split = console.width < sum(max(len(h), *(len(r[i]) for r in rows)) + 2
                                for i, h in enumerate(headers))
    parts = [(0, len(headers))] if not split else [(0, 4), (4, len(headers))]
    for n, (lo, hi) in enumerate(parts):
        table = _new_table("Where the time goes (per step)" + (" (cont.)" if n else ""))
        table.add_column("Combination", overflow="fold", ratio=1)
        cols = range(max(lo, 1), hi)
        for i in cols:
            need = max(len(r[i]) for r in rows)
            table.add_column(headers[i], justify="right", no_wrap=True, min_width=need)
        for r in rows:
            table.add_row(Text(r[0]), *[Text(r[i]) for i in cols])
        console.print(table)
    _plain(console, PHASES_NOTE, "dim")


def _first_line(message: Any) -> str:
    """A warning's first line, whole (the console wraps it; cutting it at a fixed
    length left ``(Triggered internally at /__w/pytorch/pyt``)."""
    lines = str(message or "").strip().splitlines()
    return lines[0] if lines else ""


def print_report(summary: dict[str, Any], console: Console) -> None:
    """The results tables, unfinished runs, refused combinations and warnings."""
    model = results_model.build(summary)
    if any(r.cells["runs"].raw for r in model.rows):
        for table in results_tables(model, console.width):
            console.print(table)
        notes = []
        if model.loss_kind in LOSS_KINDS:
            notes.append(f"Loss = {LOSS_KINDS[model.loss_kind]}")
        if any(r.cells["cores"].mark == BURN_MARK for r in model.rows):
            notes.append(BURN_NOTE)
        if any(r.cells["contention"].mark for r in model.rows):
            notes.append(CONTENDED_NOTE)
        if notes:
            _plain(console, "; ".join(notes) + ".", "dim")
        print_phases(summary, console)
    else:
        console.print("No run finished.")
    shaky = [r for r in model.rows if r.problems]
    if shaky:
        console.print("Unstable results:", style="bold yellow")
        for row in shaky:
            for problem in row.problems:
                _plain(console, f"  {row.label}: {problem}")
    bad = unfinished_lines(summary)
    if bad:
        console.print("Did not finish:", style="bold red")
        for line in bad:
            _plain(console, f"  {line}")
    refused = [r for r in summary.get("refused") or [] if isinstance(r, dict)]
    if refused:
        console.print("Refused by PennyLane (not run):", style="bold")
        for item in refused:
            _plain(console, f"  {item.get('device')}+{item.get('diff_method')}: {item.get('reason')}")
    warned = [r for r in model.rows if r.result.get("warnings")]
    if warned:
        console.print("Warnings:", style="bold yellow")
        for row in warned:
            for w in row.result["warnings"][:5]:
                if not isinstance(w, dict):
                    continue
                _plain(
                    console,
                    f"  {row.label}: {w.get('count')}× {w.get('category')}: "
                    f"{_first_line(w.get('message'))}"
                    f" ({units.source_location(w.get('filename'), w.get('lineno'))})",
                )
