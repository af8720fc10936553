"""The memory band's grounds (issue 25): what a method must hold, counted on a real
circuit, and checked against every recorded sweep's peaks.

``Circuit.resident`` says what must be resident at n qubits beyond the base: for
backprop on the built-in forum workload, one state per gate with a trainable
parameter and per batch row.  Here autograd's own saved tensors are counted on
the forum circuit (real PennyLane and torch, 8 qubits), and the peaks that
``python benchmarks/prediction.py --record`` kept are checked to hold at least
that much from 14 qubits up, where the states dwarf the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qtui.analysis.cost_model import AMPLITUDE_BYTES, Circuit
from qtui.analysis.predictions import circuit, memory_at, models
from qtui.core.config import DEFAULT_WORKLOAD
from qtui.core.summary_schema import SweepPoint

_RECORDED = json.loads((Path(__file__).parent / "data" / "prediction_peaks.json").read_text())["sweeps"]


def _saved_bytes(qubits: int, batch: int, layers: int) -> int:
    """Bytes of the distinct storages autograd saves for the backward of one forward
    of the forum circuit on default.qubit with backprop."""
    import pennylane as qml
    import torch

    from qtui.engine.forum import make_circuit

    node = qml.QNode(make_circuit(qubits, layers), qml.device("default.qubit", wires=qubits),
                     interface="torch", diff_method="backprop")
    layer = qml.qnn.TorchLayer(node, {"weights": (qubits,) if layers == 1 else (layers, qubits)})
    inputs = torch.rand(batch, qubits, requires_grad=True)  # as from the trainable input net
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(inputs).sum()
    return sum(saved.values())


@pytest.mark.parametrize(("batch", "layers"), [(3, 1), (3, 2), (1, 1)])
def test_backprop_keeps_a_state_per_trainable_gate_and_batch_row(batch: int, layers: int) -> None:
    """What ``Circuit.resident`` derives is what autograd keeps: at least one state per
    trainable gate (n RZ encodings, n RY per layer) and batch row, and less than two
    states a row more (the final state, the gates' small matrices)."""
    n = 8
    state = AMPLITUDE_BYTES * 2**n
    resident = Circuit("backprop", batch, layers).resident(n)
    assert resident == batch * n * (1 + layers) * state
    saved = _saved_bytes(n, batch, layers)
    assert resident <= saved <= resident + 2 * batch * state, (saved / state / batch, resident / state / batch)


@pytest.mark.parametrize("sweep", _RECORDED, ids=[s["name"] for s in _RECORDED])
def test_the_recorded_peaks_hold_what_must_be_resident(sweep: dict[str, Any]) -> None:
    for label, line in sweep["lines"].items():
        c = Circuit(line["diff_method"], line["batch_size"], line["layers"])
        assert line["workload"] == DEFAULT_WORKLOAD and c.known, label
        peaks = {int(n): v for n, v in line["peak_rss"].items()}
        base = peaks[min(peaks)]
        for n in (14, 16, 18):
            assert peaks[n] - base >= c.resident(n), (label, n, peaks[n] - base, c.resident(n))


def _points(line: dict[str, Any], **circuit_fields: Any) -> list[SweepPoint]:
    return [SweepPoint(x=int(n), peak_rss=v, time_per_step=1.0, **circuit_fields)
            for n, v in line["peak_rss"].items()]


@pytest.mark.parametrize("sweep", _RECORDED, ids=[s["name"] for s in _RECORDED])
def test_the_band_holds_where_the_workload_does_not_say_its_circuit(sweep: dict[str, Any]) -> None:
    """A workload of the user's own: the band knows the diff method only (its shape
    scales with the qubits, backprop's low end is the states over RETAIN), and still
    holds the recorded peaks at 16 and 18."""
    lines = {label: _points(line, diff_method=line["diff_method"], workload="mine:build")
             for label, line in sweep["lines"].items()}
    fitted = models({label: [p for p in pts if int(p.x or 0) <= 14] for label, pts in lines.items()})
    for label, pts in lines.items():
        assert not circuit(pts).known
        for p in pts:
            if int(p.x or 0) in (16, 18):
                got = memory_at(fitted[label]["peak_rss"], int(p.x or 0))
                assert got is not None and got[1] <= (p.peak_rss or 0) <= got[2], (label, p.x, got)


def test_a_line_knows_its_circuit_only_from_the_built_in_workload() -> None:
    forum = [SweepPoint(x=n, diff_method="backprop", batch_size=5, layers=2, workload=DEFAULT_WORKLOAD)
             for n in (2, 4)]
    assert circuit(forum) == Circuit("backprop", 5, 2)
    assert circuit(forum).gates(4) == 8 + 2 * 7 and circuit(forum).trainable(4) == 12
    mixed = [*forum, SweepPoint(x=6, diff_method="adjoint", batch_size=5, layers=2, workload=DEFAULT_WORKLOAD)]
    assert circuit(mixed) == Circuit("", 5, 2)
    other = [SweepPoint(x=2, diff_method="adjoint", batch_size=5, layers=1, workload="mine:build")]
    assert circuit(other) == Circuit("adjoint") and not circuit(other).known


def test_max_memory_decides_on_the_peak_every_view_predicts() -> None:
    """``--max-memory`` skips on the same predicted peak the prediction tables show
    (``predictions.memory_at``), not on a figure of its own.  Sweep 2's backprop peaks
    at 2-14 qubits are fed to the planner as its runs finish; the size it skips, and the
    figure it says, are those of the band."""
    from qtui.analysis import cost_model
    from qtui.core import events as ev
    from qtui.core import units
    from qtui.core.config import RunSpec, WorkloadParams
    from qtui.session.size_limits import Limits, SizeLimits

    peaks = {int(n): v for n, v in _RECORDED[1]["lines"]["default.qubit+backprop"]["peak_rss"].items()}
    sizes = sorted(peaks)
    specs = [RunSpec("default.qubit", "backprop", WorkloadParams(qubits=n, steps=3, warmup=1), run_id=f"r{n}")
             for n in sizes]
    limit = 0.5 * (peaks[16] + peaks[18])  # between the two: 18 must be predicted over it
    planner = SizeLimits(specs, Limits(max_memory=limit))
    ran: list[int] = []
    batch = planner.first()
    while batch:
        for spec in batch:
            n = spec.params.qubits
            ran.append(n)
            planner.observe(ev.RunQueued(run_id=spec.run_id, spec=spec.to_dict()))
            planner.observe(ev.RunFinished(
                run_id=spec.run_id, accuracy=None, train_s=0.01 * 2**n, final_loss=0.5, epoch_losses=[],
                steps=3, core_s=0.01, cores_in_use=1.0, core_s_per_step=0.01, peak_rss=peaks[n],
                peak_threads=1))
        batch = planner.more()
    (skipped,) = planner.skipped
    n = ran[-1] + 2
    model = cost_model.build("peak_rss", ran, [peaks[x] for x in ran], circuit=Circuit("backprop", 5, 1))
    got = memory_at(model, n)
    assert got is not None and got[0] > limit
    assert skipped.startswith(f"default.qubit+backprop at {n} qubits: skipped: predicted {units.memory(got[0])} >")
