"""Where a training step's time goes: the nn layers, PennyLane, the device, and the rest.

The phases (``qtui.core.phase_names``) split the step by who spent the time,
forward and backward alike, and add up to the measured step time:

- the loop times four contiguous spans per step, exactly, on every step:
  data, forward (the model and the loss), backward (``loss.backward()``) and
  the optimiser;
- on the sampled steps, PennyLane's seconds inside those spans come from
  ``qtui.engine.qnode_time`` (the QNode call, and its backward between tensor
  hooks on its outputs and its inputs), and the device's from
  ``qtui.engine.device_truth`` (device calls; with ``backprop`` the autograd
  backward through what the simulator recorded, timed with tensor hooks);
- the forward is then split as nn = forward − PennyLane, PennyLane =
  PennyLane − device, device; the backward alike.  The nn share is PyTorch's
  autograd over the model's own layers and the loss, whatever the diff method:
  the forum's "is the classical part still trained by backprop?" with its cost;
- **other** is the measured window (``train_s``) minus the forward and backward
  spans: fetching the batch, the optimiser, qtui's loop work.  So the phases add
  up to ``train_s``, and their shares to 100 % of the step.

With ``adjoint`` PennyLane computes the Jacobian while executing the forward
pass (``grad_on_execution``), so the adjoint gradient's cost lands in forward
device time and the backward holds only the cheap vector-Jacobian product,
which is PennyLane's framework work.

Cost (issue 9, item 4): the split is taken on a sample of steps, the second
of every ``every`` (steps 2, 12, 22, ... of the window; ``QTUI_PHASE_EVERY``,
default ``DEFAULT_EVERY``; 1 = every step, 0 = no phase timing at all); only
those steps get the QNode timing and the tensor hooks.  The window's first step
is sampled too but used only when no other was: it is cold (first calls, lazy
initialisation) and, with 8 samples in 80 steps, moved the forward's nn share
by up to 8 points against the plain script (``benchmarks/phase_split.py``).  The spans are exact totals over all measured steps; the
nn/PennyLane/device shares of the forward and of the backward are the shares
measured on the sampled steps, applied to those exact totals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtui.core.phase_names import PHASE_KEYS

PHASE_NAMES: tuple[str, ...] = PHASE_KEYS

#: Hooks on one step in this many (the first measured step is always one).
DEFAULT_EVERY = 10
#: Environment variable overriding it (benchmarks/overhead.py: 0 and 1).
EVERY_ENV = "QTUI_PHASE_EVERY"


def every_from_env(
    default: int = DEFAULT_EVERY, warn: Callable[[str], None] | None = None
) -> int:
    """``QTUI_PHASE_EVERY`` as a step interval (0 off); the default when unset, and with
    one warning (``warn``, else a line on stderr) when not ASCII digits (``qtui.core.env``)."""
    from qtui.core.env import env_int, warn_line

    return env_int(EVERY_ENV, default, warn=warn or warn_line)


class PhaseTimer:
    """Phase totals for a training loop; the nn/PennyLane/device split from the sampled steps.

    Per step the loop calls ``begin_step()`` before it fetches the batch and
    ``add_step(forward, backward, ...)`` after the optimiser step, with the
    device's and PennyLane's seconds during the forward and the backward (used on sampled steps only; PennyLane's include the device's).
    ``seconds(window)`` turns the totals into the phases over a measured window.
    """

    def __init__(self, truth: Any = None, every: int = DEFAULT_EVERY, clock: Any = None) -> None:
        self.every = max(0, int(every))
        self.truth = truth  # a device_truth.Truth: told when to hook a backprop backward
        self.clock = clock  # a qnode_time.QNodeClock: told when to time the QNode calls
        self._sampling = False
        self.reset()

    @property
    def enabled(self) -> bool:
        return self.every > 0

    def _sample(self, on: bool) -> None:
        self._sampling = on
        if self.truth is not None:
            self.truth.sample_backward = on
        if self.clock is not None:
            self.clock.sampling = on

    # step accounting ----------------------------------------------------------
    def begin_step(self) -> None:
        """Mark this step as sampled if it is one of the sampled ones."""
        if self.every and (self._n == 0 or self._n % self.every == 1 % self.every):
            self._sample(True)

    def reset_step(self) -> None:
        """The step begun did not happen (the epoch's data ran out)."""
        self._sample(False)

    def add_step(
        self,
        forward: float,
        backward: float,
        device_forward: float = 0.0,
        device_backward: float = 0.0,
        pennylane_forward: float = 0.0,
        pennylane_backward: float = 0.0,
    ) -> None:
        """Fold one step's measured spans in (and, on a sampled step, its split)."""
        self._n += 1
        self._spans += forward + backward
        if self._sampling:
            self._sample(False)
            sp = self._first if self._n == 1 and self.every > 1 else self._sampled
            sp[0] += forward
            sp[1] += backward
            sp[2] += device_forward
            sp[3] += device_backward
            sp[4] += pennylane_forward
            sp[5] += pennylane_backward
            self.sampled_steps += 1
        self._forward += forward
        self._backward += backward

    def add_whole_step(self, step: float, device: float = 0.0, pennylane: float = 0.0) -> None:
        """One step of a workload's own ``train_step``: the whole step, and the
        device's and PennyLane's seconds inside it (used on sampled steps only)."""
        self._n += 1
        self._whole = True
        self._spans += step
        self._forward += step
        if self._sampling:
            self._sample(False)
            sp = self._first if self._n == 1 and self.every > 1 else self._sampled
            sp[0] += step
            sp[2] += device
            sp[4] += pennylane
            self.sampled_steps += 1

    def seconds(self, window: float) -> dict[str, float]:
        """Seconds per phase over a measured window of ``window`` seconds ({} with
        phase timing off); they add up to ``window`` (``other`` takes the rest).

        After ``add_whole_step``: ``step_nn``, ``step_pennylane``, ``step_device``, ``other``."""
        if not self.every:
            return {}
        # The window's first step is cold (first calls, lazy initialisation): its split
        # is used only when no later step was sampled (a run of one step).
        sampled = self._sampled if self._sampled[0] > 0 else self._first
        s_fwd, s_bwd, d_fwd, d_bwd, p_fwd, p_bwd = sampled
        other = max(0.0, window - self._spans)
        if self._whole:
            nn, pl, dev = _split(self._forward, s_fwd, d_fwd, p_fwd)
            return {"step_nn": nn, "step_pennylane": pl, "step_device": dev, "other": other}
        fnn, fpl, fdev = _split(self._forward, s_fwd, d_fwd, p_fwd)
        bnn, bpl, bdev = _split(self._backward, s_bwd, d_bwd, p_bwd)
        return {
            "forward_nn": fnn,
            "forward_pennylane": fpl,
            "forward_device": fdev,
            "backward_nn": bnn,
            "backward_pennylane": bpl,
            "backward_device": bdev,
            "other": other,
        }

    def reset(self) -> None:
        """Start counting again (after warm-up); the next step is sampled (as a fallback)."""
        self._sample(False)
        self._n = 0
        self._whole = False
        self._spans = self._forward = self._backward = 0.0
        self._sampled = [0.0] * 6
        self._first = [0.0] * 6
        self.sampled_steps = 0


def _split(span_total: float, sampled: float, device: float, pennylane: float) -> tuple[float, float, float]:
    """A span's exact total split as (nn, PennyLane, device) by the sampled steps' shares.

    The device's seconds are clamped into the span, PennyLane's (which include the
    device's) into what is left; the nn layers get the rest, so the three add up."""
    if sampled <= 0 or span_total <= 0:
        return span_total, 0.0, 0.0
    dev = min(max(device, 0.0), sampled)
    pl = min(max(pennylane - dev, 0.0), sampled - dev)
    scale = span_total / sampled
    return (sampled - dev - pl) * scale, pl * scale, dev * scale
