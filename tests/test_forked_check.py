"""The custom-workload check forked from the session's fork server (``qtui.engine.forked_check``).

Real children: the check is forked from a real server, builds the real workload,
and the runs after it are forked from that same server.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_in_process import QtuiCli
from engine_helpers import alive, assert_no_children, child_env, run_session, tiny
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
    assert problem == (
        "building 'workloads.check_cases:builds_forever' took longer than 1 s "
        "(the check's own limit; --timeout sets it)"
    )
    assert_no_runs_left(warm_executor)


# --- the check's time limit and stop signals (issue 21, item 4) -------------------

HANGS = "workloads.check_hangs:hangs_and_marks"
TINY_ARGS = ("--device", "default.qubit", "--diff-method", "backprop", "--samples", "20",
             "--epochs", "1")


def _lines(stderr: str) -> list[str]:
    """stderr but the probe's note (when this run of the suite had no cached probe yet)."""
    return [ln for ln in stderr.splitlines() if not ln.startswith("qtui: probing")]


def test_timeout_limits_the_check_one_line_exit_2(qtui_cli: QtuiCli) -> None:
    started = time.monotonic()
    proc = qtui_cli("run", "--workload", HANGS, "--timeout", "3", *TINY_ARGS)
    took = time.monotonic() - started
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert _lines(proc.stderr) == [
        f"qtui: error: workload: building {HANGS!r} took longer than 3 s "
        "(--timeout, for each of the 1 point built)"
    ]
    assert took < 20, took


def _check_child(mark: Path, proc: subprocess.Popen[str]) -> int:
    """The pid of the check's building child, once it is building."""
    deadline = time.monotonic() + 120
    while not mark.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the check never started building"
        time.sleep(0.05)
    return int(mark.read_text())


@pytest.mark.parametrize(("sig", "code", "word"), [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
    (signal.SIGHUP, 129, "hung up"),
])
def test_a_stop_signal_ends_the_check_with_the_usual_code(
    sig: signal.Signals, code: int, word: str, tmp_path: Path
) -> None:
    mark = tmp_path / "building.pid"
    env = {**child_env(), "QTUI_TEST_MARK": str(mark), "QTUI_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qtui", "run", "--workload", HANGS, *TINY_ARGS],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        child = _check_child(mark, proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, (proc.returncode, err)
    assert out == ""
    assert _lines(err) == [f"qtui: {word} during the workload check"], err
    assert not alive(child)
    assert_no_children()
