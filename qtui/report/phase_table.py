"""Where the time of a training step goes: the phase table every view renders.

The phases of ``qtui.core.phase_names`` in the order they happen in a step,
with per-step time and share of the step per combination, and the sentence
that answers the forum's question (b) with the measured numbers.
"""

from __future__ import annotations

from qtui.core import phase_names, units
from qtui.core.summary_schema import Result, Summary
from qtui.core.workload_groups import WorkloadGroups

PHASES_NOTE = phase_names.PHASES_NOTE


def phases_table(summary: Summary) -> tuple[list[str], list[list[str]], list[str]]:
    """Where the time goes, per combination: time per step and % of the step per phase."""
    groups = WorkloadGroups(summary.results)  # labels made within a family
    names = phase_names.shown(*(r.phases for r in summary.results if r.phases))
    headers = ["Combination"] + [p.title for p in names]
    rows = []
    for r in summary.results:
        steps = r.steps or 0
        total = phase_names.total(r.phases, names)
        if not r.phases or not steps or total <= 0:
            continue
        cells = [r.label or groups.label(r)]  # the results model's name
        for p in names:
            sec = _seconds(r.phases, p.key)
            cells.append(f"{units.seconds(sec / steps)} ({units.percent(sec / total)})")
        rows.append(cells)
    return headers, rows, ["l"] + ["r"] * len(names)


def who_spent(summary: Summary) -> list[str]:
    """Per combination, the backward in words: the nn layers', PennyLane's and the device's
    milliseconds per step (the forum's "is the classical part still trained by backprop?")."""
    groups = WorkloadGroups(summary.results)
    lines = []
    for r in summary.results:
        line = _who_spent(r, r.label or groups.label(r))
        if line:
            lines.append(line)
    return lines


def _who_spent(r: Result, name: str) -> str:
    words = phase_names.backward_words(r.phases, r.steps)
    return f"{name}: {words}." if words else ""


def _seconds(phases: dict[str, float | None], key: str) -> float:
    return units.number(phases.get(key)) or 0.0
