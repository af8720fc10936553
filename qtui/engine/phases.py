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
"""

from __future__ import annotations

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


class PhaseTimer:
    def __init__(self, model: Any) -> None:
        import pennylane as qml

        self.seconds: dict[str, float] = dict.fromkeys(PHASE_NAMES, 0.0)
        self.active = False
        self._quantum_fwd = 0.0
        self._quantum_bwd = 0.0
        self._fwd_start: float | None = None
        self._bwd_start: float | None = None
        self.quantum_layers = [
            m for m in model.modules() if isinstance(m, qml.qnn.TorchLayer)
        ]
        for layer in self.quantum_layers:
            layer.register_forward_pre_hook(self._fwd_pre)
            layer.register_forward_hook(self._fwd_post)
            layer.register_full_backward_pre_hook(self._bwd_pre)
            layer.register_full_backward_hook(self._bwd_post)

    # hooks ------------------------------------------------------------------
    def _fwd_pre(self, module: Any, args: Any) -> None:
        if self.active:
            self._fwd_start = time.perf_counter()

    def _fwd_post(self, module: Any, args: Any, output: Any) -> None:
        if self.active and self._fwd_start is not None:
            self._quantum_fwd += time.perf_counter() - self._fwd_start
            self._fwd_start = None

    def _bwd_pre(self, module: Any, grad_output: Any) -> None:
        if self.active:
            self._bwd_start = time.perf_counter()

    def _bwd_post(self, module: Any, grad_input: Any, grad_output: Any) -> None:
        if self.active and self._bwd_start is not None:
            self._quantum_bwd += time.perf_counter() - self._bwd_start
            self._bwd_start = None

    # step accounting ----------------------------------------------------------
    def add_step(self, data: float, forward: float, backward: float, optimizer: float) -> None:
        """Fold one step's measured spans in, splitting forward/backward by the hooks."""
        q_fwd, q_bwd = self._quantum_fwd, self._quantum_bwd
        self._quantum_fwd = self._quantum_bwd = 0.0
        s = self.seconds
        s["data"] += data
        s["forward_quantum"] += q_fwd
        s["forward_classical"] += max(0.0, forward - q_fwd)
        s["backward_quantum"] += q_bwd
        s["backward_classical"] += max(0.0, backward - q_bwd)
        s["optimizer"] += optimizer

    def reset(self) -> None:
        self.seconds = dict.fromkeys(PHASE_NAMES, 0.0)
        self._quantum_fwd = self._quantum_bwd = 0.0
