"""The custom-workload check forked from the session's fork server (``qtui.engine.forked_check``).

Real children: the check is forked from a real server, builds the real workload,
and the runs after it are forked from that same server.
"""

from __future__ import annotations

import pytest
from engine_helpers import assert_no_children, child_env, run_session, tiny
from warm_executor import assert_no_runs_left

from qtui.cli import workload_gate
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor


@pytest.fixture
def tests_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """``workloads.*`` importable by a server started in this test."""
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])


def test_the_check_starts_the_server_the_runs_then_use_and_the_start_note_reaches_the_session(
    tests_importable: None,
) -> None:
    specs = [RunSpec("default.qubit", "backprop", tiny(workload="workloads.check_cases:no_adjoint"))]
    executor = ProcessExecutor()
    try:
        assert workload_gate.check_workload(specs, executor) is None
        server = executor.server_pid
        assert server, "the check started the session's server"
        sup, rec = run_session(specs, executor=executor)
        assert executor.server_pid == server  # the runs were forked from the same one
        (started,) = rec.of("run_started")
        assert started.import_s < 0.2  # imports paid by the server, once
        assert rec.terminal(sup.specs[0].run_id).type == "run_finished"
        starts = [e.message for e in rec.of("note") if e.message.startswith("fork server")]
        assert len(starts) == 1 and "started in" in starts[0]
        # the user's module was imported in the check's child, never in the server
        assert executor._servers is not None and executor._servers.server is not None
        assert "workloads.check_cases" not in executor._servers.server.info()["modules"]
    finally:
        executor.close()
    assert_no_children()


def test_a_failed_build_in_the_forked_check_names_the_point(warm_executor: ProcessExecutor) -> None:
    specs = [
        RunSpec("default.qubit", m, tiny(workload="workloads.check_cases:no_adjoint"))
        for m in ("backprop", "adjoint")
    ]
    problem = workload_gate.check_workload(specs, warm_executor)
    assert problem == (
        "workload 'workloads.check_cases:no_adjoint' raised RuntimeError: adjoint is not wired "
        "up in this model (building default.qubit+adjoint, samples=20, epochs=1)"
    )
    assert_no_runs_left(warm_executor)


def test_a_check_past_its_limit_is_killed_and_said(
    warm_executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workload_gate, "WORKLOAD_CHECK_TIMEOUT_S", 1.0)
    specs = [RunSpec("default.qubit", "backprop", tiny(workload="workloads.check_cases:builds_forever"))]
    problem = workload_gate.check_workload(specs, warm_executor)
    assert problem == "building 'workloads.check_cases:builds_forever' took longer than 1 s"
    assert_no_runs_left(warm_executor)
