"""The console's second half of the narrative: recommendation, sweep, notes,
environment and the command line (``qtui.report.narrative``).

``qtui run`` and ``qtui sweep`` print ``print_report`` (the results), then what
the session adds (``--repeat auto``'s repeats), then this; together they are
the same sections, in the same order, as the Markdown and HTML exports.
"""

from __future__ import annotations

from rich.console import Console

from qtui.core.summary_schema import Summary
from qtui.report import narrative as nv
from qtui.report.console_report import print_document


def print_analysis(summary: Summary, console: Console) -> None:
    """The recommendation, sweep tables, verdicts and crossovers, notes, environment
    and command line."""
    print_document(nv.build(summary), console, nv.ANALYSIS_SECTIONS)
