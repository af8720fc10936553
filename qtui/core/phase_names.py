"""The training phases: their keys, titles, words and letters, for every view.

One table, read by the child that measures the phases (``qtui.engine.phases``),
the report's phase table, the CSV and HTML exports and the TUI's Phases tab, so
a phase reads the same everywhere.

Since issue 20 a step is split by *who spent the time*, forward and backward
alike, and the phases sum to the measured step time (``train_s / steps``):

- **nn**: PyTorch's autograd over the model's own layers and the loss (the
  step's forward or backward span minus PennyLane's share);
- **PennyLane**: the QNode call minus the device (tape construction,
  transforms, the torch interface, the gradient transform's or the VJP's
  assembly);
- **device**: inside the device's execution methods (with ``backprop``, the
  autograd backward through what the simulator recorded);
- **other**: everything in the step outside the forward and backward spans:
  fetching the batch, the optimiser, qtui's own loop work.

A workload with its own ``train_step`` has one span for the whole step:
``step_nn`` (its layers, loss and optimiser), ``step_pennylane``,
``step_device``, then ``other``.

Summaries written before issue 20 carry the older keys (``forward_classical``,
``forward_quantum``, ...), whose classical share included PennyLane's
overhead; they are still read and shown under their own titles
(``LEGACY_PHASES``), never relabelled as the new split.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qtui.core import units


@dataclass(frozen=True)
class Phase:
    """One phase: its JSON key, table title, panel words and bar letter."""

    key: str
    title: str
    words: str
    letter: str


PHASES: tuple[Phase, ...] = (
    Phase("forward_nn", "Fwd nn", "forward nn layers", "N"),
    Phase("forward_pennylane", "Fwd PennyLane", "forward PennyLane", "P"),
    Phase("forward_device", "Fwd device", "forward device", "D"),
    Phase("backward_nn", "Bwd nn", "backward nn layers", "n"),
    Phase("backward_pennylane", "Bwd PennyLane", "backward PennyLane", "p"),
    Phase("backward_device", "Bwd device", "backward device", "d"),
)
#: A workload's own ``train_step``: one span, split by who spent it.
STEP_PHASES: tuple[Phase, ...] = (
    Phase("step_nn", "Step nn", "step nn, loss, optimiser", "s"),
    Phase("step_pennylane", "Step PennyLane", "step PennyLane", "l"),
    Phase("step_device", "Step device", "step device", "v"),
)
OTHER = Phase("other", "Other", "other (data, optimiser, loop)", "o")

#: The keys a summary written before issue 20 carries (read, never written now).
LEGACY_PHASES: tuple[Phase, ...] = (
    Phase("data", "Data", "data", "d"),
    Phase("forward_classical", "Fwd classical", "forward classical", "c"),
    Phase("forward_quantum", "Fwd quantum", "forward quantum", "Q"),
    Phase("backward_quantum", "Bwd quantum", "backward quantum", "q"),
    Phase("backward_classical", "Bwd classical", "backward classical", "b"),
    Phase("optimizer", "Optimiser", "optimizer", "o"),
)
LEGACY_STEP_PHASES: tuple[Phase, ...] = (
    Phase("step_quantum", "Step quantum", "step quantum", "S"),
    Phase("step_classical", "Step classical", "step classical", "s"),
)

#: Every key the child writes, in the order of a step.
PHASE_KEYS: tuple[str, ...] = tuple(p.key for p in (*PHASES, *STEP_PHASES, OTHER))

PHASES_NOTE = (
    "Per training step: time and share of the measured step, which the phases add up "
    "to. nn is PyTorch's autograd over the model's own layers and the loss, whatever "
    "the diff method; PennyLane is the QNode's own work outside the device (tapes, "
    "transforms, the torch interface, the gradient's assembly); device is time inside "
    "the device's execution (with backprop, the autograd backward through the simulator). "
    "With adjoint, PennyLane computes the Jacobian during the forward pass, so its cost "
    "shows in Fwd device."
)
LEGACY_NOTE = (
    "Measured by an older qtui: its classical share includes PennyLane's own overhead."
)


def shown(*seconds: Mapping[str, object]) -> tuple[Phase, ...]:
    """The phases to show for these runs' phase dicts, in step order.

    The built-in step's phases, a ``train_step`` workload's, or both when both
    are present; ``other`` last.  Runs measured before issue 20 (legacy keys
    only) get the legacy set."""
    keys = {k for s in seconds for k in s}
    if keys and not keys & set(PHASE_KEYS):
        legacy = LEGACY_PHASES if keys & {p.key for p in LEGACY_PHASES[1:]} else LEGACY_PHASES[:1]
        if keys & {p.key for p in LEGACY_STEP_PHASES}:
            legacy = legacy + LEGACY_STEP_PHASES
        return legacy
    out: tuple[Phase, ...] = ()
    if not keys or keys & {p.key for p in PHASES}:
        out += PHASES
    if keys & {p.key for p in STEP_PHASES}:
        out += STEP_PHASES
    return out + (OTHER,)


def is_legacy(phases: tuple[Phase, ...]) -> bool:
    """Whether this set is an older qtui's (its shares mean something else)."""
    return OTHER not in phases


def total(seconds: Mapping[str, float | None], phases: tuple[Phase, ...]) -> float:
    """The seconds the shown phases add up to (the measured step time for new runs)."""
    return sum(float(seconds.get(p.key) or 0.0) for p in phases)


def backward_words(seconds: Mapping[str, float | None], steps: int | None) -> str:
    """The backward in words, per step: the forum's "is the classical part still trained
    by backprop?" answered with the measured milliseconds ("" without the split)."""
    if not steps or "backward_nn" not in seconds:
        return ""
    nn, pl, dev = (float(seconds.get(k) or 0.0) / steps
                   for k in ("backward_nn", "backward_pennylane", "backward_device"))
    return (
        f"the nn layers' backward took {units.seconds(nn)} per step (PyTorch autograd, "
        f"whatever the diff method); PennyLane's framework {units.seconds(pl)}; "
        f"the device {units.seconds(dev)}"
    )
