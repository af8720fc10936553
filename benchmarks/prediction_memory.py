"""What default.qubit+backprop holds per step, the ground of the memory band (issue 25).

For each size (``--sizes`` as n,batch,layers) a fresh interpreter builds the
forum workload's quantum layer (``qtui.engine.forum.make_circuit``) on
default.qubit with backprop, runs ``--steps`` forward and backward passes of a
batch, and reports, in states (16 · 2ⁿ bytes) per batch row and per gate:

* **saved**: the distinct storages autograd keeps for the backward after a
  forward (``torch.autograd.graph.saved_tensors_hooks``): what must be resident;
* **peak**: the process's peak RSS over its RSS before the layer was built
  (VmHWM, reset through /proc/self/clear_refs), after each step; run twice:
  with glibc's defaults (freed blocks of up to 32 MiB stay in its heap, the
  mmap threshold rising to what was freed) and with ``MALLOC_MMAP_THRESHOLD_``
  fixed at 128 KiB (every state-sized block is mapped and given back when
  freed: the peak is the live states).

    python benchmarks/prediction_memory.py [--sizes 12,5,1 14,5,1 16,5,1 14,5,2] [--steps 4]

Linux only (/proc).  On 2026-12-07 23:30 (2 cores, load 2.3-3.3) it gave:
saved 2n + 0.7 states a row at 1 layer and 3n + 0.7 at 2 (0.52-0.53 a gate);
the peak with the threshold fixed 0.63 a gate at 16 qubits, 0.73-0.83 at 14
(where the rest still shows), every step alike; with glibc's defaults it grew
step by step, to 1.45 at 16 and 2.5-3.0 at 14 after 4 steps (4.1 times the
live peak at 14 qubits and 2 layers), and apart between identical runs
(0.95-2.08 at 16 in two runs at 22:48, load 7).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def child(n: int, batch: int, layers: int, steps: int) -> None:
    """Measure one size in this process (a fresh interpreter) and print JSON."""
    import pennylane as qml
    import torch

    from qtui.engine.forum import make_circuit

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM: the peak from here
    start = _status("VmRSS")
    torch.manual_seed(0)
    node = qml.QNode(make_circuit(n, layers), qml.device("default.qubit", wires=n),
                     interface="torch", diff_method="backprop")
    layer = qml.qnn.TorchLayer(node, {"weights": (n,) if layers == 1 else (layers, n)})
    net = torch.nn.Linear(2, n)  # the inputs come from a trainable net, as the forum's
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return t

    peaks = []
    for step in range(steps):
        x = net(torch.rand(batch, 2))
        if step == 0:
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                y = layer(x).sum()
        else:
            y = layer(x).sum()
        y.backward()
        peaks.append(_status("VmHWM") - start)
    print(json.dumps({"saved": sum(saved.values()), "peaks": peaks}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", nargs="+", default=["12,5,1", "14,5,1", "16,5,1", "14,5,2"])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, batch, layers = (int(v) for v in args.child.split(","))
        child(n, batch, layers, args.steps)
        return
    print(f"{'n':>3} {'batch':>5} {'layers':>6}  {'saved/row':>9} {'saved/gate':>10}  malloc   peak per gate after each step")
    for size in args.sizes:
        n, batch, layers = (int(v) for v in size.split(","))
        state = 16 * 2**n
        gates = 2 * n + layers * (2 * n - 1)
        for arm, extra in (("default", {}), ("fixed", {"MALLOC_MMAP_THRESHOLD_": "131072"})):
            env = {**os.environ, **extra}
            out = subprocess.run([sys.executable, __file__, "--child", size, "--steps", str(args.steps)],
                                 env=env, capture_output=True, text=True, check=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            saved = got["saved"] / state / batch
            peaks = " ".join(f"{p / state / batch / gates:5.2f}" for p in got["peaks"])
            print(f"{n:>3} {batch:>5} {layers:>6}  {saved:>9.1f} {saved / gates:>10.2f}  {arm:<8} {peaks}"
                  f"  ({got['peaks'][-1] / 2**20:.0f} MiB)", flush=True)


if __name__ == "__main__":
    main()
