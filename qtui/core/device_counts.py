"""The per-step device counts in PennyLane's words, named once for every view.

Device truth (``qtui.engine.device_truth``) counts three things per measured
training step.  ``qml.Tracker`` names the same things differently, and its
``executions`` is not qtui's old "executions", so every view (results, run
detail, Markdown, HTML, CSV docs, ``qtui watch``, history) takes its words and
its legend from here:

* **device calls** (JSON ``executions_per_step``, kept for old readers): calls
  into a device's ``execute`` or derivative methods; the tracker's ``batches``
  (plus its ``*_batches`` of derivative calls: adjoint's one
  ``execute_and_compute_derivatives`` per step is 0 ``batches``, 1
  ``execute_and_derivative_batches``).
* **circuits** (``circuits_per_step``): the tapes in those calls; the
  tracker's ``simulations`` (plus ``derivatives``/``vjps``/``jvps`` for the
  derivative calls).
* **states** (``states_per_step``): the states those circuits evolved, a tape
  broadcast over a batch of 5 counting 5; the tracker's ``executions`` (which
  would also multiply by measurement groups a hardware device needs).

On ``lightning.qubit`` the tracker counts each derivative call twice (its
``LightningQubit`` and ``LightningBase`` both carry ``@simulator_tracking``);
qtui counts each call once.  Why the numbers are what they are:
``docs/MEASUREMENT.md`` (*Device truth*).
"""

from __future__ import annotations

from dataclasses import dataclass

from qtui.core.units import MISSING


@dataclass(frozen=True)
class DeviceCount:
    """One per-step count: its results column, JSON field and words."""

    key: str  # the results column's key, and the count's field in ``quantum.devices[]``
    field: str  # the per-step field in ``quantum`` (JSON, CSV)
    title: str  # column title: the qtui word with the tracker's in brackets
    short: str  # column title where the console is narrow
    noun: str  # in sentences: "device calls"
    tracker: str  # what ``qml.Tracker`` calls it
    means: str  # the legend's definition


CALLS = DeviceCount(
    "executions", "executions_per_step", "Calls/step (batches)", "Calls/step",
    "device calls", "batches",
    "PennyLane device calls (execute or a derivative method) per training step: "
    "qml.Tracker's batches, its derivative batches included",
)
CIRCUITS = DeviceCount(
    "circuits", "circuits_per_step", "Circuits/step (simulations)", "Circuits/step",
    "circuits", "simulations",
    "circuits (tapes) in those calls per training step: qml.Tracker's simulations",
)
STATES = DeviceCount(
    "states", "states_per_step", "States/step (executions)", "States/step",
    "states", "executions",
    "states those circuits evolved per training step, a tape broadcast over a batch "
    "of 5 counting 5: qml.Tracker's executions",
)
#: In the order every view shows them.
COUNTS: tuple[DeviceCount, ...] = (CALLS, CIRCUITS, STATES)


def legend() -> tuple[str, ...]:
    """One line per count: ``Device calls/step (batches) = ...``."""
    return tuple(f"{c.title} = {c.means}" for c in COUNTS)


def per_step_line(texts: dict[str, str]) -> str:
    """``device calls 2 (batches) · circuits 45 (simulations) · states 45 (executions)``
    from each count's text by key (the run detail's words)."""
    return " · ".join(f"{c.noun} {texts.get(c.key, MISSING)} ({c.tracker})" for c in COUNTS)
