"""Where the time of a training step goes: the phase table every view renders.

The six phases of ``qtui.engine.phases`` in the order they happen in a step,
with per-step time and share of the step per combination.
"""

from __future__ import annotations

from qtui.core import units
from qtui.core.parameters import label, varying_parameters
from qtui.core.summary_schema import Summary

#: Training phases in the order they happen in a step, with their column titles.
PHASES: tuple[tuple[str, str], ...] = (
    ("data", "Data"),
    ("forward_classical", "Fwd classical"),
    ("forward_quantum", "Fwd quantum"),
    ("backward_quantum", "Bwd quantum"),
    ("backward_classical", "Bwd classical"),
    ("optimizer", "Optimiser"),
)
#: A workload's own ``train_step``: the step is one span (qtui cannot split its forward
#: from its backward), split only into device-level quantum time and the rest.
STEP_PHASES: tuple[tuple[str, str], ...] = (
    ("step_quantum", "Step quantum"),
    ("step_classical", "Step classical"),
)

PHASES_NOTE = (
    "Per training step: time and share of the step. The classical layers are "
    "always trained by PyTorch's autograd (Bwd classical); Bwd quantum is the QNode's "
    "gradient. With adjoint, PennyLane computes the Jacobian during the forward pass, "
    "so its cost shows in Fwd quantum."
)


def phases_table(summary: Summary) -> tuple[list[str], list[list[str]], list[str]]:
    """Where the time goes, per combination: ms per step and % of the step per phase."""
    varying = varying_parameters(summary.results)
    names = PHASES
    if any(k in r.phases for r in summary.results for k, _ in STEP_PHASES):
        names = PHASES + STEP_PHASES  # a train_step workload's phases, only when present
    headers = ["Combination"] + [title for _, title in names]
    rows = []
    for r in summary.results:
        steps = r.steps or 0
        total = sum(_seconds(r.phases, k) for k, _ in names)
        if not r.phases or not steps or total <= 0:
            continue
        cells = [label(r, varying)]
        for key, _ in names:
            sec = _seconds(r.phases, key)
            cells.append(f"{units.seconds(sec / steps)} ({units.percent(sec / total)})")
        rows.append(cells)
    return headers, rows, ["l"] + ["r"] * len(names)


def _seconds(phases: dict[str, float | None], key: str) -> float:
    return units.number(phases.get(key)) or 0.0
