"""Which combination to use on this machine, for this workload, and what it costs.

The lines are ``qtui.analysis.recommend.describe``'s, the same as the console and the
Markdown export: fastest, cheapest (core-seconds) and leanest (peak RSS), each
with its evidence and uncertainty; within a sweep, per sweep point.  A pick
whose verdict is a tie is flagged ``≈ tie``; a combination that is
fast by burning many cores (more than ``BURN_CORES`` in use) is named below
with ``!``, the same mark the results table puts in its Cores column.  A sweep
over ``threads`` adds the summary's ``thread_choice``: the same ``choose`` over the
workload runs only (``qtui.core.workload_groups``), so a ``qtui exec`` script beside
them neither joins a line nor lengthens their names with its zeros.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from qtui.analysis.conclusion import TIE
from qtui.analysis.recommend import described
from qtui.analysis.thread_choice import choose
from qtui.core import units
from qtui.core.summary_schema import Recommendation, Result
from qtui.core.workload_groups import workload_runs
from qtui.report.results import BURN_CORES, BURN_MARK
from qtui.ui.form_words import in_form_words
from qtui.ui.panel import LivePanel, set_text
from qtui.ui.state import LiveState


def burners(results: list[Result]) -> list[tuple[str, float]]:
    """(label, cores in use) of every combination above ``BURN_CORES``."""
    out = []
    for r in results:
        cores = r.resources.cores_in_use
        if cores is not None and cores > BURN_CORES:
            out.append((r.label or r.combo, float(cores)))
    return out


class RecommendationPanel(LivePanel, Static):
    DEFAULT_CSS = """
    RecommendationPanel { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.lines: list[str] = []

    def on_mount(self) -> None:
        self.update_data(None, [])

    watches = ("results",)

    def refresh_from(self, state: LiveState) -> None:
        combos, recommendation, _ = state.analysis()
        self.update_data(recommendation, combos)

    def update_data(self, recommendation: Recommendation | None, results: list[Result]) -> None:
        lines = described(recommendation)
        self.lines = [line for line, _ in lines]
        text = Text()
        if not self.lines:
            text.append(
                "The fastest, cheapest (core-seconds) and leanest (peak memory) combination "
                "are named here as runs finish.",
                style="dim",
            )
        for i, (line, verdict) in enumerate(lines):
            if i:
                text.append("\n")
            where, rest = "", line
            if line.startswith(("At ", "For ")):  # a sweep point, a workload group
                where, _, rest = line.partition(" ")[2].partition(": ")
            title, _, evidence = rest.partition(": ")
            if verdict == TIE:
                text.append("≈ tie ", style="bold reverse")
            if where:
                text.append(f"{where} · ", style="dim")
            text.append(title + ": ", style="bold")
            text.append(in_form_words(evidence))  # "repeats 3", the form's field, not --repeat
        for label, cores in burners(results):
            text.append("\n")
            text.append(f"{BURN_MARK} ", style="bold reverse")
            text.append(
                f"{label} keeps {units.cores(cores)} cores busy while it trains: fast by burning "
                "cores — compare core-seconds (Cheapest)."
            )
        for choice in choose(workload_runs(results)):  # a sweep over --threads: how many each gets
            text.append("\nthreads ", style="bold")
            text.append(choice.sentence)
        set_text(self, text)
