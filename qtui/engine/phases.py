"""Where a training step's time goes: data, classical/quantum forward and backward, optimiser.

Quantum time is time inside PennyLane's device calls (``qtui.engine.device_truth``),
so every QNode counts, in a ``TorchLayer`` or not: the device calls made while
the loop runs the forward pass (and the loss) are ``forward_quantum``, those
made during ``loss.backward()`` are ``backward_quantum`` (a parameter-shift
gradient's shifted executions, adjoint's ``compute_derivatives``...).  With
``backprop`` the simulator's backward is PyTorch's autograd through what the
device recorded; it is timed by tensor hooks on the execution's outputs and its
circuits' parameters.  The classical share is the step's forward (or backward)
time minus the quantum share; the classical backward is PyTorch's autograd over
the ``nn.Linear`` layers, which is the answer to the forum's "is the classical
part still trained by backprop?": yes, and this shows how long it takes.

One honest caveat, visible in the numbers: for ``adjoint`` PennyLane computes
the Jacobian while executing the forward pass (``grad_on_execution``), so the
adjoint gradient's cost lands in ``forward_quantum`` and the quantum backward
is only the cheap vector-Jacobian product.

Cost (issue 9, item 4): the quantum split is taken on a sample of steps, every
``every``-th (``QTUI_PHASE_EVERY``, default ``DEFAULT_EVERY``; 1 = every step, 0
= no phase timing at all); only those steps get the backprop tensor hooks.  What
every step gets is four ``perf_counter`` spans: data, forward, backward,
optimiser are exact totals over all measured steps; the quantum share of the
forward and of the backward is the share measured on the sampled steps, applied
to those exact totals.  So the six figures still add up to the measured step
time; the quantum/classical split is an estimate from ``sampled_steps`` steps.
"""

from __future__ import annotations

import os
from typing import Any

PHASE_NAMES: tuple[str, ...] = (
    "data",
    "forward_classical",
    "forward_quantum",
    "backward_quantum",
    "backward_classical",
    "optimizer",
    # A workload's own train_step: qtui cannot split its forward from its backward,
    # so the step is one span, split only into device-level quantum time and the rest.
    "step_quantum",
    "step_classical",
)

#: Hooks on one step in this many (the first measured step is always one).
DEFAULT_EVERY = 10
#: Environment variable overriding it (benchmarks/overhead.py: 0 and 1).
EVERY_ENV = "QTUI_PHASE_EVERY"


def every_from_env(default: int = DEFAULT_EVERY) -> int:
    """``QTUI_PHASE_EVERY`` as a step interval (0 off); the default when unset or bad."""
    raw = os.environ.get(EVERY_ENV, "").strip()
    return int(raw) if raw.isdigit() else default


class PhaseTimer:
    """Phase totals for a training loop; the quantum split from the sampled steps.

    Per step the loop calls ``begin_step()`` before it fetches the batch and
    ``add_step(data, forward, backward, optimizer, quantum_forward, quantum_backward)``
    after the optimiser step, the last two being the device truth's quantum
    seconds during the forward and the backward (used on sampled steps only).
    """

    def __init__(self, truth: Any = None, every: int = DEFAULT_EVERY) -> None:
        self.every = max(0, int(every))
        self.truth = truth  # a device_truth.Truth: told when to hook a backprop backward
        self._sampling = False
        self.reset()

    @property
    def enabled(self) -> bool:
        return self.every > 0

    def _sample(self, on: bool) -> None:
        self._sampling = on
        if self.truth is not None:
            self.truth.sample_backward = on

    # step accounting ----------------------------------------------------------
    def begin_step(self) -> None:
        """Mark this step as sampled if it is one of the sampled ones."""
        if self.every and self._n % self.every == 0:
            self._sample(True)

    def reset_step(self) -> None:
        """The step begun did not happen (the epoch's data ran out)."""
        self._sample(False)

    def add_step(
        self,
        data: float,
        forward: float,
        backward: float,
        optimizer: float,
        quantum_forward: float = 0.0,
        quantum_backward: float = 0.0,
    ) -> None:
        """Fold one step's measured spans in (and, on a sampled step, its quantum split)."""
        self._n += 1
        t = self._totals
        t[0] += data
        t[1] += forward
        t[2] += backward
        t[3] += optimizer
        if self._sampling:
            self._sample(False)
            sp = self._sampled
            sp[0] += forward
            sp[1] += backward
            sp[2] += min(max(quantum_forward, 0.0), forward)
            sp[3] += min(max(quantum_backward, 0.0), backward)
            self.sampled_steps += 1

    def add_whole_step(self, data: float, step: float, quantum: float = 0.0) -> None:
        """One step of a workload's own ``train_step``: data, the whole step, and the
        quantum seconds inside it (used on sampled steps only, as ``add_step``)."""
        self._n += 1
        self._whole = True
        self._totals[0] += data
        self._totals[1] += step
        if self._sampling:
            self._sample(False)
            self._sampled[0] += step
            self._sampled[2] += min(max(quantum, 0.0), step)
            self.sampled_steps += 1

    @property
    def seconds(self) -> dict[str, float]:
        """Seconds per phase over the measured steps ({} with phase timing off).

        After ``add_whole_step``: ``data``, ``step_quantum`` and ``step_classical`` only."""
        if not self.every:
            return {}
        if self._whole:
            data, step = self._totals[0], self._totals[1]
            s_step, q_step = self._sampled[0], self._sampled[2]
            sq = step * (q_step / s_step) if s_step > 0 else 0.0
            return {"data": data, "step_quantum": sq, "step_classical": step - sq}
        data, fwd, bwd, opt = self._totals
        s_fwd, s_bwd, q_fwd, q_bwd = self._sampled
        fq = fwd * (q_fwd / s_fwd) if s_fwd > 0 else 0.0
        bq = bwd * (q_bwd / s_bwd) if s_bwd > 0 else 0.0
        return {
            "data": data,
            "forward_classical": fwd - fq,
            "forward_quantum": fq,
            "backward_quantum": bq,
            "backward_classical": bwd - bq,
            "optimizer": opt,
        }

    def reset(self) -> None:
        """Start counting again (after warm-up); the next step is a sampled one."""
        self._sample(False)
        self._n = 0
        self._whole = False
        self._totals = [0.0, 0.0, 0.0, 0.0]
        self._sampled = [0.0, 0.0, 0.0, 0.0]
        self.sampled_steps = 0
