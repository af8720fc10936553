"""Workloads using the optional fields of the interface (tests/test_workload_interface.py).

Each is tiny (a few batches of a 2-qubit circuit) and real: PennyLane + torch.
"""

from __future__ import annotations

from typing import Any

import pennylane as qml
import torch
from torch import nn

from qtui.engine.workload import Metric, Workload, WorkloadContext


def circuit(inputs: torch.Tensor, weights: torch.Tensor) -> list[Any]:
    qml.AngleEmbedding(inputs, wires=range(2))
    qml.BasicEntanglerLayers(weights, wires=range(2))
    return [qml.expval(qml.PauliZ(i)) for i in range(2)]


def _model(ctx: WorkloadContext, **layer_options: Any) -> nn.Module:
    qlayer = ctx.torch_layer(circuit, {"weights": (1, 2)}, wires=2, **layer_options)
    return nn.Sequential(nn.Linear(2, 2), qlayer, nn.Linear(2, 1))


def _data(n: int = 16, batch: int = 4) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor, torch.Tensor]:
    x = torch.rand(n, 2)
    y = (x[:, :1] - x[:, 1:]) * 0.5
    return [(x[i : i + batch], y[i : i + batch]) for i in range(0, n, batch)], x, y


def lbfgs(ctx: WorkloadContext) -> Workload:
    """LBFGS needs a closure: a train_step calls optimizer.step(closure)."""
    model = _model(ctx)
    batches, _, _ = _data()
    opt = torch.optim.LBFGS(model.parameters(), lr=ctx.params.lr, max_iter=2)
    loss_fn = nn.MSELoss()

    def train_step(m: nn.Module, batch: Any) -> torch.Tensor:
        x, y = batch

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = loss_fn(m(x), y)
            loss.backward()
            return loss

        return opt.step(closure)

    return Workload(
        model=model, train_data=batches, loss_fn=loss_fn, optimizer=opt,
        epochs=ctx.params.epochs, batches_per_epoch=len(batches), train_step=train_step,
    )


def lbfgs_without_step(ctx: WorkloadContext) -> Workload:
    """The mistake the pre-run check must catch: LBFGS under the built-in step."""
    model = _model(ctx)
    batches, _, _ = _data()
    return Workload(
        model=model, train_data=batches, loss_fn=nn.MSELoss(),
        optimizer=torch.optim.LBFGS(model.parameters()),
        epochs=ctx.params.epochs, batches_per_epoch=len(batches),
    )


def _grad_norm(m: nn.Module) -> float:
    """The total gradient norm, as ``clip_grad_norm_`` computes it."""
    grads = [p.grad.detach().norm() for p in m.parameters() if p.grad is not None]
    return float(torch.stack(grads).norm())


def _moved(params: list[nn.Parameter], before: list[torch.Tensor]) -> int:
    """1 when a step changed any of ``params`` (compared with ``before``), else 0."""
    return int(any(not torch.equal(p.detach(), b) for p, b in zip(params, before, strict=True)))


def two_optimisers_clipped(ctx: WorkloadContext) -> Workload:
    """Two optimisers (classical Adam, quantum SGD) and gradient clipping in a train_step.

    Targets 20 times the usual make every gradient's norm exceed ``max_norm``, so
    clipping has work to do; ``evaluate`` reports how many steps each optimiser
    moved its parameters and how many steps clipping brought the norm down to
    ``max_norm`` (the test checks each, not only that training ran).
    """
    model = _model(ctx)
    batches = [(x, y * 20.0) for x, y in _data()[0]]
    quantum = [p for n, p in model.named_parameters() if n.startswith("1.")]
    classical = [p for n, p in model.named_parameters() if not n.startswith("1.")]
    opt_c = torch.optim.Adam(classical, lr=ctx.params.lr)
    opt_q = torch.optim.SGD(quantum, lr=ctx.params.lr)
    loss_fn = nn.MSELoss()
    seen = {"classical_steps": 0, "quantum_steps": 0, "clipped_steps": 0}

    def train_step(m: nn.Module, batch: Any) -> torch.Tensor:
        opt_c.zero_grad()
        opt_q.zero_grad()
        loss = loss_fn(m(batch[0]), batch[1])
        loss.backward()
        norm_before = _grad_norm(m)
        torch.nn.utils.clip_grad_norm_(m.parameters(), max_norm=1.0)
        seen["clipped_steps"] += int(norm_before > 1.0 and _grad_norm(m) <= 1.0 + 1e-4)
        c_before = [p.detach().clone() for p in classical]
        opt_c.step()
        seen["classical_steps"] += _moved(classical, c_before)
        q_before = [p.detach().clone() for p in quantum]
        opt_q.step()
        seen["quantum_steps"] += _moved(quantum, q_before)
        return loss

    def evaluate(m: nn.Module) -> dict[str, Any]:
        return {name: (float(n), "higher") for name, n in seen.items()}

    return Workload(
        model=model, train_data=batches, loss_fn=loss_fn, optimizer=None,
        epochs=ctx.params.epochs, batches_per_epoch=len(batches), train_step=train_step,
        evaluate=evaluate,
    )


def scheduled(ctx: WorkloadContext) -> Workload:
    """A StepLR scheduler halving the rate; ``scheduler_step`` from the environment."""
    import os

    model = _model(ctx)
    batches, _, _ = _data()
    opt = torch.optim.SGD(model.parameters(), lr=ctx.params.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    def evaluate(m: nn.Module) -> dict[str, Any]:
        return {"lr": (opt.param_groups[0]["lr"], "lower")}

    return Workload(
        model=model, train_data=batches, loss_fn=nn.MSELoss(), optimizer=opt,
        epochs=ctx.params.epochs, batches_per_epoch=len(batches), evaluate=evaluate,
        scheduler=scheduler, scheduler_step="epoch",
    ) if os.environ.get("QTUI_TEST_SCHEDULER_STEP", "epoch") == "epoch" else Workload(
        model=model, train_data=batches, loss_fn=nn.MSELoss(), optimizer=opt,
        epochs=ctx.params.epochs, batches_per_epoch=len(batches), evaluate=evaluate,
        scheduler=scheduler, scheduler_step="step",
    )


class TwoInputs(nn.Module):
    """A model of two inputs (a dict batch): ``forward(a, b)``."""

    def __init__(self, ctx: WorkloadContext) -> None:
        super().__init__()
        self.a = nn.Linear(1, 1)
        self.b = nn.Linear(1, 1)
        self.q = ctx.torch_layer(circuit, {"weights": (1, 2)}, wires=2)
        self.out = nn.Linear(2, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.out(self.q(torch.cat([self.a(a), self.b(b)], dim=-1)))


def two_inputs(ctx: WorkloadContext) -> Workload:
    """Dict batches ``{"a", "b", "y"}`` through a ``forward(model, batch) -> loss`` hook."""
    model = TwoInputs(ctx)
    _, x, y = _data()
    batches = [{"a": x[i : i + 4, :1], "b": x[i : i + 4, 1:], "y": y[i : i + 4]} for i in range(0, 16, 4)]
    loss_fn = nn.MSELoss()

    def forward(m: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return loss_fn(m(batch["a"], batch["b"]), batch["y"])

    return Workload(
        model=model, train_data=batches, loss_fn=None,
        optimizer=torch.optim.Adam(model.parameters(), lr=ctx.params.lr),
        epochs=ctx.params.epochs, batches_per_epoch=len(batches), forward=forward,
    )


def unpacked(ctx: WorkloadContext) -> Workload:
    """Dict batches ``{"x", "y"}`` through an ``unpack(batch) -> (inputs, targets)`` hook."""
    model = _model(ctx)
    batches, _, _ = _data()
    dicts = [{"x": x, "y": y} for x, y in batches]
    return Workload(
        model=model, train_data=dicts, loss_fn=nn.MSELoss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=ctx.params.lr),
        epochs=ctx.params.epochs, batches_per_epoch=len(dicts),
        unpack=lambda b: (b["x"], b["y"]),
    )


def regression(ctx: WorkloadContext) -> Workload:
    """A regression: named metrics (MSE lower is better, R² higher), a validation set,
    and ``params_used``: it reads epochs and lr only (not qubits, layers, samples...)."""
    model = _model(ctx)
    batches, _, _ = _data(16)
    val, vx, vy = _data(8)
    loss_fn = nn.MSELoss()

    def evaluate(m: nn.Module) -> dict[str, Any]:
        with torch.no_grad():
            pred = m(vx)
        mse = float(loss_fn(pred, vy))
        r2 = 1.0 - mse / float(torch.var(vy, unbiased=False))
        return {"mse": (mse, "lower"), "r2": Metric(r2, higher_is_better=True)}

    return Workload(
        model=model, train_data=batches, loss_fn=loss_fn,
        optimizer=torch.optim.Adam(model.parameters(), lr=ctx.params.lr),
        epochs=ctx.params.epochs, batches_per_epoch=len(batches), evaluate=evaluate,
        validation_data=val, params_used={"epochs", "lr"},
    )


def device_options(ctx: WorkloadContext) -> Workload:
    """Shots and a QNode option through ``ctx.torch_layer``; a bare QNode through ``ctx.qnode``."""
    model = _model(ctx, shots=100, qnode_kwargs={"grad_on_execution": False})
    batches, _, _ = _data(8)
    probe = ctx.qnode(circuit, wires=2, shots=50)
    out = probe(torch.zeros(2), torch.zeros(1, 2))
    return Workload(
        model=model, train_data=batches, loss_fn=nn.MSELoss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=ctx.params.lr),
        epochs=1, batches_per_epoch=len(batches),
        info={"probe": [float(v) for v in out], "shots": model[1].qnode.device.shots.total_shots},
    )
