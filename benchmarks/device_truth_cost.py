"""Cost of device truth per training step, against a baseline measured in the same run.

In one process, the forum model (2 qubits, batches of 5) trains ``--steps``
steps per arm, the arms interleaved ``--rounds`` times so drift hits them alike:

* ``baseline``: PennyLane's device classes untouched (``device_truth.uninstall``);
* ``installed``: the wrappers installed, no run watched (their cost in a
  process where nothing is being measured: one check per device call);
* ``watched``: what a run pays: wrappers installed and watching, the trainer's
  three reads per step, and on one step in ``QTUI_PHASE_EVERY`` (10) the
  backprop tensor hooks.

Prints the median time per step of each arm, the ratio of medians against the
baseline, and what device truth counted per step (executions, circuits) for
each diff method: the forum's question of what parameter-shift costs.  On a
busy machine whole steps vary by more than the hook costs, so it also measures
the hook alone: a device whose ``execute`` does nothing, called ``--calls``
times unwrapped and watched (interleaved), gives the seconds the wrapper adds
per device call; times the executions per step, that is its cost per step.

    python benchmarks/device_truth_cost.py [--rounds 7] [--steps 40] [--methods backprop,adjoint,parameter-shift]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from qtui.core.config import WorkloadParams
from qtui.engine import device_truth
from qtui.engine.forum import build
from qtui.engine.phases import DEFAULT_EVERY
from qtui.engine.workload import WorkloadContext


def steps(device: str, method: str, n: int, arm: str) -> tuple[float, device_truth.Truth | None]:
    """Seconds per step over ``n`` steps (after one unmeasured), and the truth if watched."""
    import torch

    torch.manual_seed(0)
    ctx = WorkloadContext(device=device, diff_method=method,
                          params=WorkloadParams(samples=5 * (n + 1)))
    wl = build(ctx)
    model, opt, loss_fn = wl.model, wl.optimizer, wl.loss_fn
    truth = device_truth.Truth() if arm == "watched" else None
    device_truth.watch(truth)
    perf = time.perf_counter
    try:
        batches: list[Any] = list(wl.train_data)
        t_start = 0.0
        for i, (x, y) in enumerate(batches[: n + 1]):
            if i == 1:
                t_start = perf()
                if truth is not None:
                    truth.reset_counts()
            if truth is not None:
                truth.sample_backward = i % DEFAULT_EVERY == 0
                _ = truth.quantum_s
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            if truth is not None:
                _ = truth.quantum_s
            loss.backward()
            if truth is not None:
                truth.settle()
                truth.sample_backward = False
            opt.step()
        return (perf() - t_start) / n, truth
    finally:
        device_truth.watch(None)


def per_call_cost(calls: int, rounds: int) -> tuple[float, float]:
    """(seconds per call unwrapped, seconds the watching wrapper adds per call)."""
    import pennylane as qml
    from pennylane.devices import Device

    class Nop(Device):  # defined unwrapped; install() wraps it like any device class
        def execute(self, circuits: Any, execution_config: Any = None) -> Any:
            return tuple(0.0 for _ in circuits)

    dev = Nop()
    tapes = [qml.tape.QuantumScript([qml.RX(0.1, 0)], [qml.expval(qml.PauliZ(0))])]
    config = qml.devices.ExecutionConfig(gradient_method="backprop")
    perf = time.perf_counter
    base, watched = [], []
    for _ in range(rounds):
        device_truth.uninstall()
        t0 = perf()
        for _ in range(calls):
            dev.execute(tapes, config)
        base.append((perf() - t0) / calls)
        device_truth.install()
        device_truth.watch(device_truth.Truth())
        t0 = perf()
        for _ in range(calls):
            dev.execute(tapes, config)
        watched.append((perf() - t0) / calls)
        device_truth.watch(None)
    b = statistics.median(base)
    return b, statistics.median(watched) - b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--device", default="default.qubit")
    ap.add_argument("--methods", default="backprop,adjoint,parameter-shift")
    ap.add_argument("--calls", type=int, default=100_000)
    args = ap.parse_args()
    call, added = per_call_cost(args.calls, args.rounds)
    print(f"one device call to a no-op device: {call * 1e6:.2f} µs unwrapped, "
          f"+{added * 1e6:.2f} µs watched ({args.calls} calls x {args.rounds} rounds)")
    for method in args.methods.split(","):
        per_arm: dict[str, list[float]] = {"baseline": [], "installed": [], "watched": []}
        counted: device_truth.Truth | None = None
        steps(args.device, method, 5, "baseline")  # warm the imports and caches
        for _ in range(args.rounds):
            for arm in per_arm:
                if arm == "baseline":
                    device_truth.uninstall()
                else:
                    device_truth.install()
                seconds, truth = steps(args.device, method, args.steps, arm)
                per_arm[arm].append(seconds)
                counted = truth or counted
        base = statistics.median(per_arm["baseline"])
        print(f"{args.device}+{method}, {args.steps} steps x {args.rounds} rounds:")
        for arm, values in per_arm.items():
            med = statistics.median(values)
            print(f"  {arm:9s} {med * 1e3:8.3f} ms/step  ratio {med / base:.3f}")
        if counted is not None:
            r = counted.report(args.steps)
            print(f"  device truth: {r['executions_per_step']:g} executions/step, "
                  f"{r['circuits_per_step']:g} circuits/step, "
                  f"{r['execute_s'] / args.steps * 1e3:.3f} ms/step in device calls, "
                  f"methods {r['diff_methods']}")
            hook = added * r["executions_per_step"]
            print(f"  the wrapper per step: {hook * 1e6:.2f} µs = "
                  f"{hook / base:.5f} of the baseline step")


if __name__ == "__main__":
    main()
