"""Per-combination results, hyperfine-style, filling in as runs finish.

Same columns as the headless table; a combination is named by its ``label``
(command plus the swept parameters), so sweep points are told apart.  The best
value of each column is marked with ``★`` (not only coloured, so it survives
``NO_COLOR``); a combination keeping more than 1.5 cores busy has its Cores
cell marked ``!`` in the warning colour: fast by burning cores.  ``s`` sorts by
the column under the cursor; pressing it again reverses.  Reads the
``combos()`` dicts of ``SessionSummary``, so the history screen can show a
saved session's results with this same widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

#: Above this many cores in use a combination is fast by burning cores: its
#: Cores cell is marked ``!`` and drawn in the warning colour.
BURN_CORES = 1.5


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def _mb(v: float | None) -> str:
    if not v:
        return "—"
    mb = v / 1e6
    return f"{mb / 1000:.2f} GB" if mb >= 1000 else f"{mb:.0f} MB"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable[[dict[str, Any]], float | None]
    text: Callable[[dict[str, Any]], str]
    better: str = "low"  # "low", "high" or "" (not ranked)


def _res(name: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda c: (c.get("resources") or {}).get(name)


def _mean_sd(c: dict[str, Any]) -> str:
    if c.get("mean") is None:
        return "—"
    sd = c.get("stddev")
    return _fmt_s(c["mean"]) + (f" ± {_fmt_s(sd)}" if sd is not None else "")


def _cores(c: dict[str, Any]) -> str:
    v = _res("cores_in_use")(c)
    if v is None:
        return "—"
    return f"{v:.2f}" + (" !" if v > BURN_CORES else "")


def _runs(c: dict[str, Any]) -> str:
    r = c.get("runs") or {}
    return f"{r.get('finished', 0)}/{r.get('total', 0)}"


COLUMNS: tuple[Column, ...] = (
    Column(
        "combo",
        "Combination",
        lambda c: None,
        lambda c: str(c.get("label") or c.get("command", "")),
        "",
    ),
    Column("runs", "Runs", lambda c: None, _runs, ""),
    Column("mean", "Mean ± σ", lambda c: c.get("mean"), _mean_sd),
    Column("min", "Min", lambda c: c.get("min"), lambda c: _fmt_s(c.get("min"))),
    Column("max", "Max", lambda c: c.get("max"), lambda c: _fmt_s(c.get("max"))),
    Column(
        "relative",
        "Relative",
        lambda c: c.get("relative"),
        lambda c: f"{c['relative']:.2f}×" if c.get("relative") else "—",
    ),
    Column("rss", "Peak RSS", _res("peak_rss_bytes"), lambda c: _mb(_res("peak_rss_bytes")(c))),
    Column("cores", "Cores", _res("cores_in_use"), _cores),
    Column(
        "core_s",
        "Core-s",
        _res("core_s"),
        lambda c: f"{v:.2f}" if (v := _res("core_s")(c)) is not None else "—",
    ),
    Column(
        "threads",
        "Threads",
        _res("peak_threads"),
        lambda c: str(v) if (v := _res("peak_threads")(c)) is not None else "—",
    ),
    Column(
        "accuracy",
        "Accuracy",
        lambda c: c.get("accuracy"),
        lambda c: f"{c['accuracy'] * 100:.1f} %" if c.get("accuracy") is not None else "—",
        "high",
    ),
    Column(
        "final_loss",
        "Final loss",
        lambda c: c.get("final_loss"),
        lambda c: f"{c['final_loss']:.4f}" if c.get("final_loss") is not None else "—",
    ),
    Column(
        "warnings",
        "Warnings",
        lambda c: c.get("warning_count") if (c.get("runs") or {}).get("finished") else None,
        lambda c: str(c.get("warning_count", 0)),
    ),
)


def best_values(combos: list[dict[str, Any]]) -> dict[str, float]:
    """The best value of each ranked column among combinations with a result."""
    best: dict[str, float] = {}
    for col in COLUMNS:
        if not col.better:
            continue
        values = [v for c in combos if (v := col.value(c)) is not None]
        if len(values) >= 2 or (values and len(combos) == 1):
            best[col.key] = min(values) if col.better == "low" else max(values)
    return best


class ResultsTable(DataTable[Text]):
    BINDINGS = [
        Binding("s", "sort_column", "Sort"),
    ]

    DEFAULT_CSS = """
    ResultsTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="cell", zebra_stripes=True)
        self.combos: list[dict[str, Any]] = []
        self.sort_key: str | None = None
        self.sort_reverse = False

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col.label, key=col.key)

    def update_data(self, combos: list[dict[str, Any]]) -> None:
        self.combos = combos
        self._rebuild()

    def action_sort_column(self) -> None:
        col = COLUMNS[self.cursor_coordinate.column].key
        if self.sort_key == col:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = col, False
        self._rebuild()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.move_cursor(column=event.column_index)
        self.action_sort_column()

    def _rebuild(self) -> None:
        cursor = self.cursor_coordinate
        rows = list(self.combos)
        if self.sort_key:
            col = next(c for c in COLUMNS if c.key == self.sort_key)
            if col.better:
                present = [r for r in rows if col.value(r) is not None]
                missing = [r for r in rows if col.value(r) is None]
                present.sort(key=lambda r: col.value(r) or 0.0, reverse=self.sort_reverse)
                rows = present + missing
            else:
                rows.sort(key=col.text, reverse=self.sort_reverse)
        best = best_values(rows)
        try:
            good = f"bold {self.app.current_theme.success or 'green'}"
            burn = f"bold reverse {self.app.current_theme.warning or 'yellow'}"
        except Exception:  # noqa: BLE001 - no app theme yet
            good, burn = "bold", "bold reverse"
        self.clear()
        for col in COLUMNS:
            label = col.label
            if col.key == self.sort_key:
                label += " ▼" if self.sort_reverse else " ▲"
            self.columns[col.key].label = Text(label)  # type: ignore[index]
        for i, combo in enumerate(rows):
            cells = []
            for col in COLUMNS:
                text = col.text(combo)
                value = col.value(combo)
                if col.key in best and value is not None and value == best[col.key]:
                    cells.append(Text("★ " + text, style=good))
                elif col.key == "cores" and value is not None and value > BURN_CORES:
                    cells.append(Text(text, style=burn))
                else:
                    cells.append(Text(text))
            self.add_row(*cells, key=f"{i}:{combo.get('label') or combo.get('command')}")
        if rows:
            self.move_cursor(
                row=min(cursor.row, len(rows) - 1), column=cursor.column, animate=False
            )
