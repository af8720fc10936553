"""Where a training step's time goes: data, classical/quantum forward and backward, optimiser.

The quantum layers are found by type (every ``qml.qnn.TorchLayer`` in the
model) and timed with forward and full-backward hooks; the classical share is
the step's forward (or backward) time minus the quantum share.  The quantum
backward span is the QNode's gradient (adjoint, backprop through the
simulator, parameter-shift executions, ...); the classical backward is
PyTorch's autograd over the ``nn.Linear`` layers, which is the answer to the
forum's "is the classical part still trained by backprop?": yes, and this
shows how long it takes.

One honest caveat, visible in the numbers: for ``adjoint`` PennyLane computes
the Jacobian while executing the forward pass (``grad_on_execution``), so the
adjoint gradient's cost lands in ``forward_quantum`` and the quantum backward
is only the cheap vector-Jacobian product.

Cost (issue 9, item 4): hooks on a module are not free (full backward hooks wrap
every forward's inputs and outputs in extra autograd nodes), so they are
attached only on a sample of steps, every ``every``-th (``QTUI_PHASE_EVERY``,
default ``DEFAULT_EVERY``; 1 = every step, 0 = no phase timing at all).  What
every step does get is four ``perf_counter`` spans: data, forward, backward,
optimiser are exact totals over all measured steps; the quantum share of the
forward and of the backward is the share measured on the sampled steps, applied
to those exact totals.  So the six figures still add up to the measured step
time; the quantum/classical split is an estimate from ``sampled_steps`` steps.
"""

from __future__ import annotations

import os
import time
from typing import Any

PHASE_NAMES: tuple[str, ...] = (
    "data",
    "forward_classical",
    "forward_quantum",
    "backward_quantum",
    "backward_classical",
    "optimizer",
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
    """Phase totals for a training loop; the quantum split from hooked (sampled) steps.

    Per step the loop calls ``begin_step()`` before it fetches the batch and
    ``add_step(data, forward, backward, optimizer)`` after the optimiser step.
    """

    def __init__(self, model: Any, every: int = DEFAULT_EVERY) -> None:
        import pennylane as qml

        self.every = max(0, int(every))
        self.quantum_layers = [
            m for m in model.modules() if isinstance(m, qml.qnn.TorchLayer)
        ]
        self._handles: list[Any] = []
        self._fwd_start: float | None = None
        self._bwd_start: float | None = None
        self._quantum_fwd = 0.0
        self._quantum_bwd = 0.0
        self.reset()

    @property
    def enabled(self) -> bool:
        return self.every > 0

    # hooks (attached on sampled steps only) ------------------------------------------
    def _attach(self) -> None:
        for layer in self.quantum_layers:
            self._handles += [
                layer.register_forward_pre_hook(self._fwd_pre),
                layer.register_forward_hook(self._fwd_post),
                layer.register_full_backward_pre_hook(self._bwd_pre),
                layer.register_full_backward_hook(self._bwd_post),
            ]

    def _detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _fwd_pre(self, module: Any, args: Any) -> None:
        self._fwd_start = time.perf_counter()

    def _fwd_post(self, module: Any, args: Any, output: Any) -> None:
        if self._fwd_start is not None:
            self._quantum_fwd += time.perf_counter() - self._fwd_start
            self._fwd_start = None

    def _bwd_pre(self, module: Any, grad_output: Any) -> None:
        self._bwd_start = time.perf_counter()

    def _bwd_post(self, module: Any, grad_input: Any, grad_output: Any) -> None:
        if self._bwd_start is not None:
            self._quantum_bwd += time.perf_counter() - self._bwd_start
            self._bwd_start = None

    # step accounting ----------------------------------------------------------
    def begin_step(self) -> None:
        """Attach the hooks if this step is one of the sampled ones."""
        if self.every and self._n % self.every == 0 and self.quantum_layers:
            self._attach()

    def reset_step(self) -> None:
        """The step begun did not happen (the epoch's data ran out): take the hooks off."""
        self._detach()
        self._quantum_fwd = self._quantum_bwd = 0.0

    def add_step(self, data: float, forward: float, backward: float, optimizer: float) -> None:
        """Fold one step's measured spans in (and, on a sampled step, the hooks' split)."""
        self._n += 1
        t = self._totals
        t[0] += data
        t[1] += forward
        t[2] += backward
        t[3] += optimizer
        if self._handles:
            self._detach()
            sp = self._sampled
            sp[0] += forward
            sp[1] += backward
            sp[2] += min(self._quantum_fwd, forward)
            sp[3] += min(self._quantum_bwd, backward)
            self.sampled_steps += 1
        self._quantum_fwd = self._quantum_bwd = 0.0

    @property
    def seconds(self) -> dict[str, float]:
        """Seconds per phase over the measured steps ({} with phase timing off)."""
        if not self.every:
            return {}
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
        self._detach()
        self._n = 0
        self._totals = [0.0, 0.0, 0.0, 0.0]
        self._sampled = [0.0, 0.0, 0.0, 0.0]
        self.sampled_steps = 0
        self._quantum_fwd = self._quantum_bwd = 0.0
