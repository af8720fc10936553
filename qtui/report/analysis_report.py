"""Console rendering of the analysis parts of a summary: recommendation and sweeps.

Reads the summary dict (``qtui.analysis.summary_builder.document`` or a saved JSON), so the
headless run, ``qtui sweep`` and ``qtui report`` print the same thing.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from qtui.analysis.recommend import describe, per_node_type
from qtui.core import units
from qtui.core.sweep import AXES


def sweep_tables(summary: dict[str, Any]) -> list[Table]:
    """Per swept axis: time per step and core-seconds per step, one row per line."""
    tables = []
    for axis, data in (summary.get("sweep") or {}).items():
        lines: dict[str, list[dict[str, Any]]] = data.get("series", {})
        xs = sorted({pt["x"] for pts in lines.values() for pt in pts})
        unit = AXES.get(axis, (axis, 0, axis))[2]
        table = Table(title=f"Per training step against {unit}", title_justify="left")
        table.add_column("Combination", no_wrap=True)
        for x in xs:
            table.add_column(f"{x}", justify="right", no_wrap=True)
        for label, pts in lines.items():
            by_x = {pt["x"]: pt for pt in pts}
            cells = []
            for x in xs:
                pt = by_x.get(x)
                if pt is None:
                    cells.append(Text(units.MISSING))
                    continue
                cores = pt.get("cores_in_use")
                core_text = f"{units.seconds(pt.get('core_s_per_step'))} core"
                if cores is not None:
                    core_text += f" ({units.cores(cores)} cores)"
                cell = Text(units.seconds(pt["time_per_step"]))
                cell.append("\n" + core_text, style="dim")
                cells.append(cell)
            table.add_row(Text(str(label)), *cells)
        table.caption = "wall time per step, then core-seconds per step (cores in use)"
        tables.append(table)
    return tables


def print_analysis(summary: dict[str, Any], console: Console) -> None:
    """Sweep tables, crossovers in words, and the recommendation."""
    for table in sweep_tables(summary):
        console.print(table)
    for axis, data in (summary.get("sweep") or {}).items():
        crossings = data.get("crossovers") or []
        if crossings:
            console.print(f"Crossovers ({AXES.get(axis, (axis, 0, axis))[2]}):", style="bold")
            for line in crossings:
                console.print(Text(f"  {line}"), highlight=False)
    lines = describe(summary.get("recommendation") or {})
    if len(summary.get("results") or []) > 1 and lines:
        heading = (
            "Recommendation for this workload, per node type (measured on different machines):"
            if per_node_type(summary.get("recommendation"))
            else "Recommendation for this workload on this machine:"
        )
        console.print(heading, style="bold")
        for line in lines:
            console.print(Text(f"  {line}"), highlight=False)
