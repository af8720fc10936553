"""Phases that say who spent the time (issue 20, item 1).

The step is split into the nn layers, PennyLane's framework and the device,
forward and backward alike, plus *other*, and the phases add up to the
measured window.  Real QNodes in this process for the QNode clock; real
forum runs through the warm fork server for the split; the plain-script
comparison itself is ``benchmarks/phase_split.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_helpers import run_session
from warm_executor import assert_no_runs_left

from qtui.core import events as ev
from qtui.core import phase_names
from qtui.core.config import RunSpec, WorkloadParams
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.phases import PhaseTimer


@pytest.fixture()
def executor(warm_executor: ProcessExecutor) -> Iterator[ProcessExecutor]:
    yield warm_executor
    assert_no_runs_left(warm_executor)


def _finished(executor: ProcessExecutor, method: str) -> ev.RunFinished:
    params = WorkloadParams(steps=12, warmup=1)  # measured steps 1..12: samples at 2 and 12
    sup, rec = run_session([RunSpec("default.qubit", method, params)], executor=executor)
    fin = rec.terminal(sup.specs[0].run_id)
    assert isinstance(fin, ev.RunFinished), fin
    return fin


def test_parameter_shift_backward_is_pennylane_and_the_device_not_the_nn_layers(
    executor: ProcessExecutor,
) -> None:
    """The forum's question (b): the nn layers' backward is a small part of a
    parameter-shift backward; before issue 20 all of PennyLane's share read as classical."""
    fin = _finished(executor, "parameter-shift")
    ph = fin.phases
    assert set(ph) == set(phase_names.PHASE_KEYS) - {p.key for p in phase_names.STEP_PHASES}
    assert sum(ph.values()) == pytest.approx(fin.train_s, rel=1e-9)
    assert ph["backward_device"] > 0 and ph["backward_pennylane"] > 0
    assert ph["backward_nn"] < 0.25 * (ph["backward_pennylane"] + ph["backward_device"])


def test_adjoint_backward_holds_no_device_call_only_pennylanes_vjp(executor: ProcessExecutor) -> None:
    """default.qubit's adjoint computes the Jacobian with the forward's device call;
    the backward's remaining work is PennyLane's vector-Jacobian product."""
    fin = _finished(executor, "adjoint")
    ph = fin.phases
    assert ph["backward_device"] == 0.0
    assert ph["backward_pennylane"] > 0 and ph["forward_device"] > 0
    assert sum(ph.values()) == pytest.approx(fin.train_s, rel=1e-9)


def _layer_and_data() -> tuple[object, object]:
    import pennylane as qml
    import torch

    dev = qml.device("default.qubit", wires=2)

    @qml.qnode(dev, interface="torch", diff_method="parameter-shift")
    def circuit(inputs: torch.Tensor, weights: torch.Tensor) -> list[object]:
        qml.AngleEmbedding(inputs, wires=range(2))
        qml.BasicEntanglerLayers(weights, wires=range(2))
        return [qml.expval(qml.PauliZ(i)) for i in range(2)]

    layer = qml.qnn.TorchLayer(circuit, {"weights": (1, 2)})
    return layer, torch.rand(2, requires_grad=True)


def test_the_qnode_clock_times_sampled_steps_and_leaves_no_hook_behind() -> None:
    from qtui.engine import qnode_time

    qnode_time.install()
    layer, x = _layer_and_data()
    weights = layer.qnode_weights["weights"]  # type: ignore[attr-defined]
    clock = qnode_time.QNodeClock()
    qnode_time.watch(clock)
    try:
        layer(x).sum().backward()  # type: ignore[operator]
        assert clock.settle() == 0.0  # not a sampled step: nothing timed, nothing hooked
        clock.sampling = True
        out = layer(x)  # type: ignore[operator]
        forward = clock.seconds
        assert forward > 0
        out.sum().backward()
        clock.sampling = False
        assert clock.settle() > forward  # the backward span came in
        assert not weights._backward_hooks and not x._backward_hooks  # removed, none pile up
        before = clock.seconds
        layer(x).sum().backward()  # type: ignore[operator]
        assert clock.settle() == before
    finally:
        qnode_time.watch(None)


def test_overlapping_backward_spans_count_once() -> None:
    """Two QNode calls whose backward spans overlap (a batch evaluated sample by
    sample) count their union, never more than the backward's own wall time."""
    import time

    from qtui.engine import qnode_time

    qnode_time.install()
    layer, x = _layer_and_data()
    clock = qnode_time.QNodeClock()
    qnode_time.watch(clock)
    try:
        clock.sampling = True
        out = layer(x) + layer(x)  # type: ignore[operator]
        forward = clock.seconds
        t0 = time.perf_counter()
        out.sum().backward()
        wall = time.perf_counter() - t0
        assert 0 < clock.settle() - forward <= wall
    finally:
        qnode_time.watch(None)


def test_phases_add_up_to_the_window_and_skip_the_cold_first_step() -> None:
    timer = PhaseTimer(every=10)
    sampled = []
    for n in range(12):
        timer.begin_step()
        sampled.append(timer._sampling)
        # step 0 is cold: a forward that is all nn; later sampled steps are half device
        dev = 0.0 if n == 0 else 0.5
        timer.add_step(1.0, 2.0, device_forward=dev, pennylane_forward=dev + 0.25)
    assert [i for i, s in enumerate(sampled) if s] == [0, 1, 11]
    ph = timer.seconds(40.0)
    assert sum(ph.values()) == pytest.approx(40.0)
    assert ph["other"] == pytest.approx(40.0 - 12 * 3.0)
    assert ph["forward_device"] == pytest.approx(6.0)  # half of 12 s, from steps 1 and 11
    assert ph["forward_pennylane"] == pytest.approx(3.0)
    assert ph["backward_nn"] == pytest.approx(24.0)  # no PennyLane in this backward


def test_a_run_of_one_step_uses_its_only_sample() -> None:
    timer = PhaseTimer(every=10)
    timer.begin_step()
    timer.add_step(1.0, 1.0, device_forward=0.5, pennylane_forward=0.5)
    ph = timer.seconds(2.5)
    assert ph["forward_device"] == pytest.approx(0.5) and ph["other"] == pytest.approx(0.5)


def test_legacy_phase_keys_keep_their_titles() -> None:
    legacy = {"data": 0.1, "forward_classical": 0.2, "forward_quantum": 0.3,
              "backward_quantum": 0.1, "backward_classical": 0.2, "optimizer": 0.1}
    shown = phase_names.shown(legacy)
    assert [p.title for p in shown][:3] == ["Data", "Fwd classical", "Fwd quantum"]
    assert phase_names.is_legacy(shown)
    assert phase_names.backward_words(legacy, 10) == ""
    assert not phase_names.is_legacy(phase_names.shown({"forward_nn": 1.0, "other": 0.1}))
