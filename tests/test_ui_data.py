"""Deterministic event streams and a fixed probe answer for the UI tests.

Snapshots must not depend on the machine, the clock or PennyLane, so the app
is built with a ``StaticCapabilities`` and a pre-folded list of these events
(the real path is covered by the pilot tests in test_ui_run.py).
"""

from __future__ import annotations

import math

from qtui.core import events as ev
from qtui.ui.form_capabilities import StaticCapabilities

T0 = 1_700_000_000.0
LIGHTNING_BACKPROP = (
    "QuantumFunctionError: Device <lightning.qubit device (wires=2)> does not support "
    "backprop with requested circuit."
)


def fixed_caps() -> StaticCapabilities:
    return StaticCapabilities(
        devices=["default.qubit", "lightning.qubit"],
        refused={("lightning.qubit", "backprop"): LIGHTNING_BACKPROP},
        best={"default.qubit": "backprop", "lightning.qubit": "adjoint"},
    )


POOLS = [
    {"user_api": "openmp", "internal_api": "openmp", "num_threads": 4, "prefix": "libgomp"},
    {"user_api": "blas", "internal_api": "openblas", "num_threads": 4, "prefix": "libscipy_openblas"},
]


def _phases(method: str, train_s: float) -> dict[str, float]:
    """A plausible split that adds up to the step: adjoint's Jacobian lands in forward device."""
    share = (
        {"forward_nn": 0.05, "forward_pennylane": 0.10, "forward_device": 0.60, "backward_nn": 0.03,
         "backward_pennylane": 0.11, "backward_device": 0.0, "other": 0.11}
        if method == "adjoint"
        else {"forward_nn": 0.05, "forward_pennylane": 0.10, "forward_device": 0.28,
              "backward_nn": 0.03, "backward_pennylane": 0.12, "backward_device": 0.35, "other": 0.07}
    )
    return {k: v * train_s for k, v in share.items()}


def _spec(
    run_id: str, device: str, method: str, rep: int = 0, **params: object
) -> dict[str, object]:
    return {
        "run_id": run_id,
        "device": device,
        "diff_method": method,
        "repeat_index": rep,
        "timeout_s": None,
        "params": {
            "seed": 42,
            "samples": 200,
            "noise": 0.1,
            "batch_size": 5,
            "epochs": 6,
            "lr": 0.2,
            "qubits": 2,
            "layers": 1,
            "workload": "qtui.engine.forum:build",
            "steps": 0,
            "warmup": 0,
            "threads": 0,
            **params,
        },
    }


FORUM_EPOCHS = [0.5108, 0.4007, 0.2492, 0.2128, 0.1894, 0.1919]


def session_events() -> list[ev.Event]:
    """Three runs: two finished (different speed/memory), one failed, one warning."""
    runs = [
        ("r1", "default.qubit", "backprop", 2.8, 480e6, 1.0, 4),
        ("r2", "lightning.qubit", "adjoint", 3.6, 520e6, 1.9, 9),
        ("r3", "default.qubit", "adjoint", None, 0, 0, 0),
    ]
    out: list[ev.Event] = [
        ev.SessionStarted(
            session_id="snapshot",
            machine={"cpu_model": "test"},
            qtui_version="0.1.0",
            runs=[_spec(r[0], r[1], r[2]) for r in runs],
            n_cpus=4,
            t=T0,
        )
    ]
    t = T0 + 1
    for rid, dev, method, *_ in runs:
        out.append(ev.RunQueued(run_id=rid, spec=_spec(rid, dev, method), t=t))
    for i, (rid, dev, method, train_s, rss, cores, threads) in enumerate(runs):
        out.append(
            ev.RunStarted(
                run_id=rid,
                spec=_spec(rid, dev, method),
                pid=1000 + i,
                host="test",
                versions={"pennylane": "0.45.1"},
                resolved_diff_method=method,
                batches_per_epoch=40,
                threadpools=POOLS,
                t=t,
            )
        )
        if train_s is None:
            out.append(
                ev.RunFailed(
                    run_id=rid,
                    exc_type="NotImplementedError",
                    message="adjoint is slow here",
                    traceback="...",
                    t=t + 1,
                )
            )
            continue
        step = 0
        for epoch in range(1, 7):
            for b in range(1, 41):
                step += 1
                loss = FORUM_EPOCHS[epoch - 1] * (1 + 0.5 * math.sin(step * (0.7 + i * 0.3)))
                out.append(
                    ev.Batch(
                        run_id=rid,
                        epoch=epoch,
                        batch=b,
                        loss=loss,
                        step=step,
                        elapsed_s=step * 0.01,
                        t=t,
                    )
                )
            out.append(
                ev.Epoch(
                    run_id=rid, epoch=epoch, mean_loss=FORUM_EPOCHS[epoch - 1], elapsed_s=epoch, t=t
                )
            )
        for k in range(30):
            percpu = [min(100.0, 10.0 + 25 * c + 3 * k) % 100 for c in range(4)]
            out.append(
                ev.Sample(
                    run_id=rid,
                    percpu=percpu,
                    rss=int(rss * min(1, (k + 5) / 20)),
                    peak_rss=int(rss),
                    threads=threads,
                    peak_threads=threads,
                    cpu_s=k * 0.1 * cores,
                    wall_s=k * 0.1,
                    cores_in_use=cores,
                    t=t + k * 0.1,
                )
            )
        if i == 1:
            out.append(
                ev.WarningSeen(
                    run_id=rid,
                    category="UserWarning",
                    message="Casting complex values to real discards the imaginary part",
                    filename="/site-packages/torch/autograd/graph.py",
                    lineno=823,
                    count=240,
                    first_t=t,
                    last_t=t + 3,
                )
            )
        out.append(
            ev.RunFinished(
                run_id=rid,
                accuracy=0.88,
                train_s=train_s,
                final_loss=0.1919,
                epoch_losses=FORUM_EPOCHS,
                steps=240,
                core_s=train_s * cores,
                cores_in_use=cores,
                core_s_per_step=train_s * cores / 240,
                peak_rss=int(rss),
                peak_threads=threads,
                phases=_phases(method, train_s),
                threadpools=POOLS,
                t=t + train_s,
            )
        )
        t += 10
    out.append(ev.SessionFinished(session_id="snapshot", t=t))
    return out


#: (device, method) -> seconds per step at 2, 4, 6, 8 qubits, and cores in use
SWEEP_TIMES = {
    ("default.qubit", "backprop"): ([0.004, 0.006, 0.011, 0.030], 1.0),
    ("lightning.qubit", "adjoint"): ([0.009, 0.010, 0.012, 0.016], 3.8),
    ("default.qubit", "adjoint"): ([0.012, 0.020, 0.041, 0.095], 1.0),
}


def sweep_events() -> list[ev.Event]:
    """A finished sweep over 2-8 qubits of three combinations (20 steps per point)."""
    specs = []
    n = 0
    for q_i, qubits in enumerate((2, 4, 6, 8)):
        for (dev, method), (times, cores) in SWEEP_TIMES.items():
            n += 1
            specs.append((f"s{n}", dev, method, qubits, times[q_i], cores))
    out: list[ev.Event] = [
        ev.SessionStarted(
            session_id="sweep",
            machine={"cpu_model": "test"},
            qtui_version="0.1.0",
            runs=[
                _spec(rid, d, m, qubits=q, steps=20, warmup=3, epochs=1)
                for rid, d, m, q, _, _ in specs
            ],
            n_cpus=4,
            t=T0,
        )
    ]
    t = T0 + 1
    for rid, dev, method, qubits, per_step, cores in specs:
        spec = _spec(rid, dev, method, qubits=qubits, steps=20, warmup=3, epochs=1)
        out.append(ev.RunQueued(run_id=rid, spec=spec, t=t))
        out.append(
            ev.RunStarted(
                run_id=rid, spec=spec, pid=2000, host="test", versions={},
                resolved_diff_method=method, batches_per_epoch=40, threadpools=POOLS, t=t,
            )
        )
        train_s = per_step * 20
        out.append(
            ev.RunFinished(
                run_id=rid, accuracy=None, train_s=train_s, final_loss=0.4,
                epoch_losses=[0.4], steps=20, core_s=train_s * cores, cores_in_use=cores,
                core_s_per_step=per_step * cores, peak_rss=int(400e6 + qubits * 10e6),
                peak_threads=int(4 * cores), phases=_phases(method, train_s),
                threadpools=POOLS, t=t + train_s + 4,
            )
        )
        t += 6
    out.append(ev.SessionFinished(session_id="sweep", t=t))
    return out
