"""qtui's phase shares against an independent plain-script split of the same model.

The baseline is a plain script with no qtui code: the forum's model
(``benchmarks/plain_forum.py``'s ``Model``) or PennyLane's TorchLayer demo,
the same seeds, data and loop, timed on *every* step with its own wrappers:

- the QNode's forward: a wrapper around ``TorchLayer.qnode``;
- the QNode's backward: tensor hooks, from the first gradient reaching its
  outputs to the last reaching its inputs and weights;
- the device: wrappers on the device instance's execution methods, and for
  backprop tensor hooks from the execution's results to its tapes' parameters;
- the nn layers: the forward (model + loss) and backward spans minus the QNode's;
- other: the training loop's wall time minus the forward and backward spans.

Then qtui runs the same model and combination (``qtui run --json``) and the
two splits are printed side by side, in points of the step (qtui's share minus
the plain script's), with each side's sum against its own step time (qtui's:
sum of phases ÷ ``train_s``).  Issue 20 asks every share within 5 points.

    python benchmarks/phase_split.py [--epochs 2] [--models forum,demo]
        [--combos default.qubit+backprop,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COMBOS = (
    "default.qubit+backprop",
    "default.qubit+adjoint",
    "default.qubit+parameter-shift",
    "lightning.qubit+adjoint",
    "lightning.qubit+parameter-shift",
)
PHASES = ("forward_nn", "forward_pennylane", "forward_device",
          "backward_nn", "backward_pennylane", "backward_device", "other")
DEVICE_METHODS = ("execute", "compute_derivatives", "execute_and_compute_derivatives",
                  "compute_vjp", "execute_and_compute_vjp", "compute_jvp", "execute_and_compute_jvp")


# --- the plain script (runs in its own interpreter: --plain) ---------------------------------
class _Clock:
    """Seconds per phase for the plain script, every step."""

    def __init__(self) -> None:
        self.where = "other"
        self.qnode = {"forward": 0.0, "backward": 0.0}
        self.device = {"forward": 0.0, "backward": 0.0}
        self.q_spans: list[list[float]] = []
        self.d_spans: list[list[float]] = []
        self.inside = False

    def hooks(self, outs: list[Any], ins: list[Any], spans: list[list[float]]) -> None:
        outs = [t for t in outs if getattr(t, "requires_grad", False)]
        ins = [t for t in ins if getattr(t, "requires_grad", False)]
        if not outs or not ins:
            return
        span = [0.0, 0.0]

        def first(_g: Any) -> None:
            span[0] = span[0] or perf_counter()

        def last(_g: Any) -> None:
            span[1] = perf_counter()

        handles = [t.register_hook(first) for t in outs] + [t.register_hook(last) for t in ins]
        spans.append(span)
        self._handles = getattr(self, "_handles", []) + handles

    def close_backward(self) -> None:
        for spans, into in ((self.q_spans, self.qnode), (self.d_spans, self.device)):
            end = 0.0
            for s, e in sorted((s, e) for s, e in spans if s and e > s):
                s = max(s, end)
                if e > s:
                    into["backward"] += e - s
                    end = e
            spans.clear()
        for h in getattr(self, "_handles", []):
            h.remove()
        self._handles = []


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flat(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flat(v)]
    return [value] if hasattr(value, "register_hook") else []


def _watch_device(dev: Any, clock: _Clock) -> None:
    for name in DEVICE_METHODS:
        fn = getattr(dev, name, None)
        if fn is None:
            continue

        def timed(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
            if clock.inside:
                return _fn(*args, **kwargs)
            clock.inside = True
            t0 = perf_counter()
            try:
                out = _fn(*args, **kwargs)
            finally:
                clock.inside = False
            clock.device[clock.where] += perf_counter() - t0
            config = kwargs.get("execution_config", args[1] if len(args) > 1 else None)
            if _name == "execute" and getattr(config, "gradient_method", None) == "backprop":
                tapes = args[0] if isinstance(args[0], (list, tuple)) else [args[0]]
                params = [p for t in tapes for p in t.get_parameters(trainable_only=False)]
                clock.hooks(_flat(out), params, clock.d_spans)
            return out

        setattr(dev, name, timed)


class _TimedQNode:
    def __init__(self, qnode: Any, clock: _Clock) -> None:
        self._qnode, self._clock = qnode, clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._qnode, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        t0 = perf_counter()
        out = self._qnode(*args, **kwargs)
        self._clock.qnode["forward"] += perf_counter() - t0
        self._clock.hooks(_flat(out), _flat((args, kwargs)), self._clock.q_spans)
        return out


def _forum(dev_name: str, method: str) -> tuple[Any, Any, Any, Any]:
    import numpy as np
    import pennylane as qml
    import torch
    from sklearn.datasets import make_moons

    sys.path.insert(0, str(HERE))
    from plain_forum import Model

    torch.manual_seed(42)
    np.random.seed(42)
    x, y = make_moons(n_samples=200, noise=0.1)
    y_hot = torch.scatter(torch.zeros((200, 2)), 1, torch.unsqueeze(torch.tensor(y), 1), 1).float()
    dev = qml.device(dev_name, wires=2)
    model = Model(dev, method)
    data = list(zip(torch.tensor(x).float(), y_hot, strict=True))
    return model, model.qlayer, dev, data


def _demo(dev_name: str, method: str) -> tuple[Any, Any, Any, Any]:
    import numpy as np
    import pennylane as qml
    import torch
    from sklearn.datasets import make_moons

    torch.manual_seed(42)
    np.random.seed(42)
    x, y = make_moons(n_samples=200, noise=0.1)
    y_hot = torch.scatter(torch.zeros((200, 2)), 1, torch.unsqueeze(torch.tensor(y), 1), 1).float()
    dev = qml.device(dev_name, wires=2)

    def circuit(inputs: Any, weights: Any) -> Any:
        qml.AngleEmbedding(inputs, wires=range(2))
        qml.BasicEntanglerLayers(weights, wires=range(2))
        return [qml.expval(qml.PauliZ(wires=i)) for i in range(2)]

    qnode = qml.QNode(circuit, dev, interface="torch", diff_method=method)
    if method in ("parameter-shift", "finite-diff"):
        qnode = qml.transforms.broadcast_expand(qnode)  # as qtui's ctx.torch_layer does
    qlayer = qml.qnn.TorchLayer(qnode, {"weights": (6, 2)})
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), qlayer, torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1))
    xt = torch.tensor(x, requires_grad=True).float()
    return model, qlayer, dev, list(zip(xt, y_hot, strict=True))


def plain(model_name: str, dev_name: str, method: str, epochs: int) -> dict[str, float]:
    """The plain script's split: seconds per phase over the whole training loop."""
    import torch

    model, qlayer, dev, data = (_forum if model_name == "forum" else _demo)(dev_name, method)
    clock = _Clock()
    _watch_device(dev, clock)
    qlayer.qnode = _TimedQNode(qlayer.qnode, clock)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    loss_fn = torch.nn.L1Loss()
    loader: Any = torch.utils.data.DataLoader(data, batch_size=5, shuffle=True, drop_last=True)
    fwd = bwd = 0.0
    t_start = perf_counter()
    for _ in range(epochs):
        for xs, ys in loader:
            opt.zero_grad()
            clock.where = "forward"
            t1 = perf_counter()
            loss = loss_fn(model(xs), ys)
            t2 = perf_counter()
            clock.where = "backward"
            loss.backward()
            t3 = perf_counter()
            clock.where = "other"
            clock.close_backward()
            opt.step()
            fwd += t2 - t1
            bwd += t3 - t2
    window = perf_counter() - t_start
    out: dict[str, float] = {}
    for span, part in ((fwd, "forward"), (bwd, "backward")):
        device = min(clock.device[part], span)
        pl = min(max(clock.qnode[part] - device, 0.0), span - device)
        out[f"{part}_nn"] = span - device - pl
        out[f"{part}_pennylane"] = pl
        out[f"{part}_device"] = device
    out["other"] = window - fwd - bwd
    out["window"] = window
    return out


# --- the comparison ------------------------------------------------------------------------
def _qtui(model_name: str, combo: str, epochs: int) -> tuple[dict[str, float], float]:
    device, method = combo.split("+")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.json"
        argv = [sys.executable, "-m", "qtui.cli.main", "run", "--device", device, "--diff-method", method,
                "--epochs", str(epochs), "--json", str(out), "--force"]
        if model_name == "demo":
            argv += ["--workload", "examples.torchlayer_demo:build", "--workload-path", str(ROOT)]
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        result = json.loads(out.read_text())["results"][0]
    return {k: float(v) for k, v in result["phases"].items()}, float(result["times"][0])


def _plain(model_name: str, combo: str, epochs: int) -> dict[str, float]:
    device, method = combo.split("+")
    proc = subprocess.run(
        [sys.executable, __file__, "--plain", model_name, device, method, str(epochs)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return {k: float(v) for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--models", default="forum,demo")
    ap.add_argument("--combos", default=",".join(COMBOS))
    args = ap.parse_args()
    short = {"forward_nn": "F nn", "forward_pennylane": "F PL", "forward_device": "F dev",
             "backward_nn": "B nn", "backward_pennylane": "B PL", "backward_device": "B dev", "other": "other"}
    print(f"{'model':<6} {'combination':<32} {'side':<6} " + " ".join(f"{short[p]:>7}" for p in PHASES)
          + "   sum/step  max|Δ|")
    worst = 0.0
    for model_name in args.models.split(","):
        for combo in args.combos.split(","):
            base = _plain(model_name, combo, args.epochs)
            mine, train_s = _qtui(model_name, combo, args.epochs)
            b_total = base.pop("window")
            m_total = sum(mine.values())
            b = {p: base.get(p, 0.0) / b_total for p in PHASES}
            m = {p: mine.get(p, 0.0) / m_total for p in PHASES}
            delta = max(abs(m[p] - b[p]) for p in PHASES) * 100
            worst = max(worst, delta)
            print(f"{model_name:<6} {combo:<32} {'plain':<6} " + " ".join(f"{b[p]:7.1%}" for p in PHASES)
                  + f"   {sum(base.values()) / b_total:.3f}")
            print(f"{'':<6} {'':<32} {'qtui':<6} " + " ".join(f"{m[p]:7.1%}" for p in PHASES)
                  + f"   {m_total / train_s:.3f}   {delta:5.1f} pt")
            sys.stdout.flush()
    print(f"largest difference in any share: {worst:.1f} points of the step (issue 20 asks ≤ 5)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--plain":
        print(json.dumps(plain(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
        sys.stdout.flush()
        os._exit(0)
    main()
