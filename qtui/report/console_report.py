"""The end-of-session report on the console: the narrative (``qtui.report.narrative``)
as rich tables and lines.

``qtui run``, ``qtui sweep``, ``qtui report`` and ``qtui watch --no-tui`` print
this.  The sections are the ones the Markdown and HTML exports carry, built
once in the narrative; this module supplies only the console's syntax: bold
headings, tables that split by column group when the console is too narrow
(every figure stays whole at 80 columns), quiet legends.  ``print_report``
prints the sections about the results, ``print_analysis``
(``qtui.report.analysis_report``) the recommendation, sweep, notes,
environment and command line after them.  Text that comes from a run (labels,
errors, warnings) is printed as plain ``Text``, never parsed as rich markup, and
with its control characters escaped (``qtui.core.safe_text.visible``).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qtui.analysis.outcomes import describe_error
from qtui.core.parameters import run_label
from qtui.core.safe_text import visible
from qtui.core.summary_schema import Run, Summary
from qtui.report import narrative as nv

_TONES = {"warn": "yellow", "note": "dim"}


def _new_table(title: str) -> Table:
    return Table(
        title=Text(visible(title)) if title else None,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
        pad_edge=False,
    )


def _text(cell: nv.Cell) -> Text:
    style = "bold green" if cell.best else _TONES.get(cell.tone, "")
    text = Text(visible(cell.text), style=style)
    if cell.note:
        text.append("\n" + visible(cell.note), style="dim")
    return text


def _width(block: nv.Table, i: int) -> int:
    """The widest line of column ``i`` (a figure is never cut)."""
    return max(
        (max(len(visible(row[i].text)), *(len(line) for line in visible(row[i].note).split("\n")))
         for row in block.rows),
        default=1,
    )


def _parts(block: nv.Table, width: int, name: str) -> list[tuple[str, list[int]]]:
    """Column indices per printed table: all in one when they fit, else by group,
    each group in runs that fit (``(cont.)``); the first column is repeated in each,
    so a combination's name is never folded to make room.  ``name`` titles the
    parts of a table that has no title of its own."""
    rest = list(range(1, len(block.columns)))
    need = {i: max(_width(block, i), len(block.columns[i].title)) + 2 for i in rest}
    label = max((len(r[0].text) for r in block.rows), default=11)
    if label + sum(need.values()) <= width or not rest:
        return [(block.title, rest)]
    name = block.title or name
    groups = list(dict.fromkeys(block.columns[i].group for i in rest))
    if len(groups) > 1:
        return [
            part
            for g in groups
            for part in _pack([i for i in rest if block.columns[i].group == g], need, label,
                              width, f"{name}: {g}", f"{name}: {g}")
        ]
    # the first part sits under its section's heading: no second title
    return _pack(rest, need, label, width, block.title, name)


def _pack(
    columns: list[int], need: dict[int, int], label: int, width: int, first: str, name: str
) -> list[tuple[str, list[int]]]:
    """``columns`` in runs that fit ``width`` beside the label column: the first run
    titled ``first``, the others ``<name> (cont.)``."""
    parts: list[tuple[str, list[int]]] = []
    used = label
    for i in columns:
        if not parts or used + need[i] > width:
            parts.append((f"{name} (cont.)" if parts else first, []))
            used = label
        parts[-1][1].append(i)
        used += need[i]
    return parts


def tables(block: nv.Table, width: int = 80, name: str = "") -> list[Table]:
    """A narrative table as one rich table, or several when the console is narrow."""
    parts = _parts(block, width, name)
    out = []
    for title, cols in parts:
        table = _new_table(title)
        first = block.columns[0]
        table.add_column(visible(first.title), overflow="fold", ratio=1)
        for i in cols:
            col = block.columns[i]
            need = _width(block, i)
            header = col.title if len(parts) == 1 or len(col.title) <= need + 2 else col.short or col.title
            table.add_column(visible(header), justify="right" if col.align == "r" else "left",
                             no_wrap=True, min_width=need)
        for row in block.rows:
            table.add_row(_text(row[0]), *[_text(row[i]) for i in cols])
        out.append(table)
    return out


def _plain(console: Console, text: str, style: str = "") -> None:
    console.print(Text(visible(text), style=style), highlight=False)


def _heading(console: Console, title: str) -> None:
    console.print(Text(visible(f"{title}:"), style="bold"), highlight=False)


def _print_block(block: nv.Block, console: Console, section: str) -> None:
    if isinstance(block, nv.Table):
        for table in tables(block, console.width, section):
            console.print(table)
    elif isinstance(block, nv.Items):
        if block.title:
            _heading(console, block.title)
        for item in block.items:
            _plain(console, f"  {item.code}{item.text}")
    elif isinstance(block, nv.Legend):
        _plain(console, block.text, "dim")
    elif isinstance(block, nv.Fields):
        for key, value in block.pairs:
            _plain(console, f"  {key}: {value}")
    elif isinstance(block, nv.CommandLine):
        # one line whatever the width, so that it pastes as it was run
        console.print(Text(visible(f"  {block.text}")), highlight=False, soft_wrap=True)
    else:
        _plain(console, block.text, _TONES.get(block.tone, ""))


def print_document(doc: nv.Document, console: Console, keys: Iterable[str] | None = None) -> None:
    """The document's sections (those in ``keys``, or all), each under its heading."""
    wanted = set(nv.TITLES if keys is None else keys)
    for section in doc.sections:
        if section.key not in wanted:
            continue
        _heading(console, section.title)
        for block in section.blocks:
            _print_block(block, console, section.title)


def print_report(summary: Summary, console: Console) -> None:
    """The results, unstable results, phases, device truth, runs, refusals and warnings."""
    print_document(nv.build(summary), console, nv.RESULT_SECTIONS)


def _unfinished(summary: Summary) -> list[Run]:
    return [r for r in summary.runs if r.state != "finished"]


def exit_reason(summary: Summary) -> str | None:
    """``N of M runs did not finish (a: crashed, SIGKILL; ...)`` or None."""
    bad = _unfinished(summary)
    if not bad:
        return None
    shown = "; ".join(
        f"{run_label(r.parameters, r.repeat_index)}: {describe_error(r.error, r.state)}"
        for r in bad[:3]
    )
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    return f"{len(bad)} of {len(summary.runs)} runs did not finish ({shown}{more})"
