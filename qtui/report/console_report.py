"""The end-of-session report on the console: the narrative (``qtui.report.narrative``)
as rich tables and lines.

``qtui run``, ``qtui sweep``, ``qtui report`` and ``qtui watch --no-tui`` print
this.  The sections are the ones the Markdown and HTML exports carry, built
once in the narrative; this module supplies only the console's syntax: bold
headings, tables that keep their names whole at any width
(``qtui.report.console_tables``: split by column group, the names repeated, text
wrapped, notes said once), quiet legends.  ``print_report``
prints the sections about the results, ``print_analysis``
(``qtui.report.analysis_report``) the recommendation, sweep, notes,
environment and command line after them.  Text that comes from a run (labels,
errors, warnings) is printed as plain ``Text``, never parsed as rich markup, and
with its control characters escaped (``qtui.core.safe_text.visible``).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

from qtui.analysis.outcomes import describe_error
from qtui.core.parameters import run_label
from qtui.core.safe_text import visible
from qtui.core.summary_schema import Run, Summary
from qtui.report import console_tables
from qtui.report import narrative as nv

_TONES = console_tables.TONES


def _plain(console: Console, text: str, style: str = "") -> None:
    console.print(Text(visible(text), style=style), highlight=False)


def _heading(console: Console, title: str) -> None:
    console.print(Text(visible(f"{title}:"), style="bold"), highlight=False)


def _print_block(block: nv.Block, console: Console, section: str) -> None:
    if isinstance(block, nv.Table):
        for part in console_tables.render(block, console.width, section):
            console.print(part, highlight=False)
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
