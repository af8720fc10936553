"""Device truth (issue 12, items 1 and 4): what PennyLane executed, seen from the device.

Real runs through the real supervisor and child, with real PennyLane: a
workload that builds its own ``default.qubit`` QNode outside any TorchLayer,
started as ``lightning.qubit+adjoint``, fails with one line naming both; with
``allow_foreign_device`` it is recorded under what ran; its bare QNode's time is
quantum in the phases; parameter-shift's cost in device calls, circuits and
states per step on the forum model (``test_tracker_agreement.py`` checks them
against ``qml.Tracker``); the GPU sync is chosen only with a CUDA tensor.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_helpers import child_env, run_session, tiny
from warm_executor import assert_no_runs_left

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.core import units
from qtui.core.config import RunSpec
from qtui.core.summary_schema import Summary
from qtui.engine.forkserver import ProcessExecutor
from qtui.report import results

OWN = "workloads.device_truth:own_device"
OWN_MATCHING = "workloads.device_truth:own_device_matching"
FOREIGN_LINE = "asked for lightning.qubit+adjoint, circuits ran on default.qubit+backprop"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor) -> Iterator[None]:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_runs_left(warm_executor)


def _summary(rec: object) -> Summary:
    s = SessionSummary()
    for e in rec.events:  # type: ignore[attr-defined]
        s.apply(e)
    return document(s)


def test_own_device_started_as_lightning_adjoint_fails_with_one_line_naming_both(
    warm_executor: ProcessExecutor
) -> None:
    spec = RunSpec("lightning.qubit", "adjoint", tiny(workload=OWN))
    sup, rec = run_session([spec], executor=warm_executor)
    end = rec.terminal(sup.specs[0].run_id)
    assert isinstance(end, ev.RunFailed), end
    assert end.exc_type == "ForeignDevice"
    assert end.message == FOREIGN_LINE
    # never a result under the label it was started as
    doc = _summary(rec)
    (result,) = doc.results
    assert (result.runs.total, result.runs.finished) == (1, 0) and result.mean is None


def test_allow_foreign_device_records_the_run_under_what_ran(
    warm_executor: ProcessExecutor
) -> None:
    spec = RunSpec("lightning.qubit", "adjoint", tiny(workload=OWN), allow_foreign_device=True)
    assert RunSpec.from_dict(spec.to_dict()).allow_foreign_device is True
    sup, rec = run_session([spec], executor=warm_executor)
    run_id = sup.specs[0].run_id
    fin = rec.terminal(run_id)
    assert isinstance(fin, ev.RunFinished), fin
    q = fin.quantum
    assert q is not None and q.foreign is True
    assert (q.device, q.diff_method, q.asked) == ("default.qubit", "backprop", "lightning.qubit+adjoint")
    assert [(d.name, d.wires, d.shots) for d in q.devices] == [("default.qubit", 2, None)]
    assert q.executions_per_step == 1.0 and q.circuits_per_step == 1.0 and q.execute_s > 0
    doc = _summary(rec)
    (result,) = doc.results
    assert result.parameters["device"] == "default.qubit"
    assert result.parameters["diff_method"] == "backprop"
    assert result.quantum is not None and result.quantum.asked == ["lightning.qubit+adjoint"]
    (run,) = doc.runs
    assert run.asked == {"device": "lightning.qubit", "diff_method": "adjoint"}
    assert run.resolved_diff_method == "backprop"
    model = results.build(doc)
    row = model.rows[0]
    assert row.label == "default.qubit+backprop"
    assert "asked lightning.qubit+adjoint" in row.notes
    assert "→ adjoint" not in row.notes
    assert row.text("ran_on") == "default.qubit (2 wires) · backprop"


def test_a_qnode_outside_a_torch_layer_is_quantum_in_the_phases(
    warm_executor: ProcessExecutor
) -> None:
    spec = RunSpec("default.qubit", "backprop", tiny(workload=OWN_MATCHING))
    sup, rec = run_session([spec], executor=warm_executor)
    fin = rec.terminal(sup.specs[0].run_id)
    assert isinstance(fin, ev.RunFinished), fin
    assert fin.quantum is not None and fin.quantum.foreign is False
    assert fin.quantum.device == "default.qubit"
    assert fin.phases["forward_device"] > 0
    assert fin.phases["backward_device"] > 0  # backprop's autograd, timed by tensor hooks
    assert fin.cuda_sync is False  # a CPU run: no CUDA sync chosen


def test_a_bare_qnode_on_the_runs_own_device_and_method_matches(
    warm_executor: ProcessExecutor
) -> None:
    spec = RunSpec("lightning.qubit", "adjoint", tiny(workload=OWN_MATCHING))
    sup, rec = run_session([spec], executor=warm_executor)
    fin = rec.terminal(sup.specs[0].run_id)
    assert isinstance(fin, ev.RunFinished), fin
    assert fin.quantum is not None and fin.quantum.foreign is False
    assert fin.quantum.diff_methods == ["adjoint"]
    assert fin.phases["forward_device"] > 0


def test_parameter_shift_costs_more_executions_and_circuits_per_step(
    warm_executor: ProcessExecutor
) -> None:
    """The forum model at 2 qubits, batches of 5: backprop and adjoint execute once per
    step; parameter-shift executes the forward and then the shifted circuits."""
    params = tiny(samples=50, steps=4, warmup=1)
    specs = [RunSpec("default.qubit", m, params) for m in ("backprop", "adjoint", "parameter-shift")]
    sup, rec = run_session(specs, executor=warm_executor)
    q = {}
    for spec in sup.specs:
        fin = rec.terminal(spec.run_id)
        assert isinstance(fin, ev.RunFinished), fin
        assert fin.quantum is not None and fin.quantum.foreign is False, fin.quantum
        assert fin.quantum.diff_methods == [spec.diff_method]
        q[spec.diff_method] = fin.quantum
    assert q["backprop"].executions_per_step == 1.0 and q["backprop"].circuits_per_step == 1.0
    assert q["backprop"].states_per_step == 5.0  # one tape broadcast over the batch of 5
    assert q["adjoint"].executions_per_step == 1.0
    assert q["adjoint"].circuits_per_step == q["adjoint"].states_per_step == 5.0  # split by the device
    ps = q["parameter-shift"]
    assert ps.executions_per_step == 2.0  # the forward, then the gradient's shifted circuits
    assert ps.circuits_per_step > q["adjoint"].circuits_per_step
    assert ps.circuits_per_step > 10 * q["backprop"].circuits_per_step
    assert ps.states_per_step == ps.circuits_per_step  # split: no broadcast tape
    doc = _summary(rec)
    texts = {r.label: (r.text("executions"), r.text("circuits"), r.text("states"))
             for r in results.build(doc).rows}
    assert texts["default.qubit+backprop"] == ("1", "1", "5")
    ps_circuits = units.per_step(ps.circuits_per_step)
    assert texts["default.qubit+parameter-shift"] == ("2", ps_circuits, ps_circuits)
    by_combo = {r.combo: r.quantum for r in doc.results}
    bp = by_combo["default.qubit+backprop"]
    assert bp is not None and [d.states for d in bp.devices] == [5 * 4]  # 4 measured steps


def test_best_matches_what_pennylane_resolved(warm_executor: ProcessExecutor) -> None:
    spec = RunSpec("default.qubit", "best", tiny())
    sup, rec = run_session([spec], executor=warm_executor)
    fin = rec.terminal(sup.specs[0].run_id)
    assert isinstance(fin, ev.RunFinished), fin
    assert fin.quantum is not None and fin.quantum.foreign is False
    assert fin.quantum.diff_methods == ["backprop"]


# --- the pieces, in-process with real PennyLane and torch ---------------------------


def test_mismatch_rules() -> None:
    from qtui.engine.device_truth import Truth

    t = Truth()
    assert t.mismatch("lightning.qubit", "adjoint") is None  # nothing ran: nothing elsewhere
    t.ran[("lightning.qubit", "adjoint")] = None
    assert t.mismatch("lightning.qubit", "adjoint") is None
    assert t.mismatch("lightning.qubit", "best", "adjoint") is None
    assert t.mismatch("lightning.qubit", "best") is None  # best, resolved by PennyLane itself
    assert t.mismatch("lightning.qubit", "best", "parameter-shift") == (
        "asked for lightning.qubit+best (resolved: parameter-shift), "
        "circuits ran on lightning.qubit+adjoint"
    )
    assert t.mismatch("default.qubit", "adjoint") == (
        "asked for default.qubit+adjoint, circuits ran on lightning.qubit+adjoint"
    )
    t.ran[("default.qubit", "backprop")] = None
    assert t.mismatch("lightning.qubit", "adjoint") == (
        "asked for lightning.qubit+adjoint, circuits ran on lightning.qubit+adjoint, "
        "default.qubit+backprop"
    )
    assert t.actual() == ("lightning.qubit,default.qubit", "adjoint,backprop")


def test_method_names_are_the_diff_method_strings() -> None:
    import pennylane as qml

    from qtui.engine.device_truth import method_name

    assert method_name(qml.gradients.param_shift) == "parameter-shift"
    assert method_name(qml.gradients.finite_diff) == "finite-diff"
    assert method_name("adjoint") == "adjoint"
    assert method_name(None) == "none"


def test_every_device_call_is_seen_once_and_nothing_while_not_watched() -> None:
    import pennylane as qml
    import torch

    from qtui.engine import device_truth

    device_truth.install()
    device_truth.install()  # idempotent

    dev = qml.device("default.qubit", wires=1)

    @qml.qnode(dev, interface="torch", diff_method="adjoint")
    def circuit(x: torch.Tensor) -> object:
        qml.RX(x, wires=0)
        return qml.expval(qml.PauliZ(0))

    x = torch.tensor(0.3, requires_grad=True)
    truth = device_truth.Truth()
    circuit(x).backward()  # not watched: nothing recorded
    assert truth.executions == 0 and not truth.devices
    device_truth.watch(truth)
    try:
        circuit(x).backward()
    finally:
        device_truth.watch(None)
    # adjoint on default.qubit: one device call (execute_and_compute_derivatives, which
    # executes inside itself: counted once)
    assert truth.executions == 1 and truth.circuits == 1
    assert list(truth.ran) == [("default.qubit", "adjoint")]
    assert truth.report(1)["devices"] == [
        {"name": "default.qubit", "wires": 1, "shots": None, "executions": 1, "circuits": 1,
         "states": 1}
    ]
    circuit(x).backward()
    assert truth.executions == 1  # stopped


def test_the_cuda_sync_is_chosen_only_for_a_cuda_tensor() -> None:
    """Real CPU tensors and modules: no sync (the CPU run above says the same through
    ``run_finished.cuda_sync``).  With a GPU, the GPU check script proves the other side."""
    import torch

    from qtui.engine.trainer import cuda_sync_for

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    batch = {"x": torch.zeros(5, 2), "parts": [torch.ones(1), (torch.zeros(2), "label")]}
    assert cuda_sync_for(model) is None
    assert cuda_sync_for(batch) is None
    assert cuda_sync_for(torch.zeros(3, device="meta")) is None
    assert cuda_sync_for("not a tensor", 3, None) is None
    if torch.cuda.is_available():  # pragma: no cover - on a GPU machine only
        assert cuda_sync_for(model, {"x": torch.zeros(1, device="cuda")}) is torch.cuda.synchronize
