"""Why parameter-shift costs 34.03 circuits a step on the forum model, not 45.

Trains the forum model (``qtui.engine.forum``, seed 42, the forum's 6 epochs)
with parameter-shift on ``default.qubit`` in this process, without qtui's
device truth: PennyLane's own ``qml.Tracker`` counts the circuits of each step
(its ``simulations``), and a tensor hook on the quantum layer's output counts
the samples whose gradient there is all zero (a dead ReLU row: every ReLU after
the quantum layer is off for it).  PennyLane's VJP skips a tape whose
cotangent is zero, so each step should cost 45 - 8 x (dead rows); the script
checks that on every step and prints the histogram and the mean, to compare
with what ``qtui run --diff-method parameter-shift --json out.json`` records
(``results[].quantum.circuits_per_step``).

    python benchmarks/dead_rows.py [--seed 42] [--epochs 6]
"""

from __future__ import annotations

import argparse
import collections
from typing import Any

import numpy as np
import pennylane as qml
import torch

from qtui.core.config import WorkloadParams
from qtui.engine.forum import build
from qtui.engine.workload import WorkloadContext

#: Per sample: parameter-shift's 2 shifts x 4 trainable parameters (2 qubits, 1 layer).
SHIFTED = 8
FORWARD = 5  # the batch of 5, split into one tape per sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=int, default=6)
    args = ap.parse_args()
    np.random.seed(args.seed)  # as qtui's child seeds a run
    torch.manual_seed(args.seed)
    ctx = WorkloadContext("default.qubit", "parameter-shift", WorkloadParams(seed=args.seed, epochs=args.epochs))
    wl = build(ctx)
    model: Any = wl.model
    assert wl.optimizer is not None and wl.loss_fn is not None
    grad: dict[str, torch.Tensor] = {}
    per_step: list[int] = []
    dead: list[int] = []
    with qml.Tracker(model.qlayer.qnode.device) as tracker:
        for _ in range(wl.epochs):
            for x, y in wl.train_data:
                before = tracker.totals.get("simulations", 0)
                wl.optimizer.zero_grad()
                q = model.qlayer(model.cnet_in(x))
                q.register_hook(lambda g: grad.__setitem__("q", g))
                wl.loss_fn(model.cnet_out(q), y).backward()
                wl.optimizer.step()
                per_step.append(tracker.totals["simulations"] - before)
                dead.append(int((grad["q"].abs().sum(dim=1) == 0).sum()))
    agree = all(c == FORWARD * (1 + SHIFTED) - SHIFTED * d for c, d in zip(per_step, dead, strict=True))
    first = next((i for i, c in enumerate(per_step) if c < 45), len(per_step))
    print(f"{len(per_step)} steps, {sum(per_step)} circuits: {sum(per_step) / len(per_step):.2f} per step")
    print(f"steps costing 45 first: {first}; circuits per step -> steps: "
          + ", ".join(f"{c}: {n}" for c, n in sorted(collections.Counter(per_step).items(), reverse=True)))
    print(f"every step costs 45 - 8 x (samples with a zero gradient at the quantum layer): {agree}")


if __name__ == "__main__":
    main()
