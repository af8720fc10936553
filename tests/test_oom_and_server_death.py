"""Say what happened (issue 21, item 7): an out-of-memory kill and a fork-server death.

Real: a ``qtui run`` in a memory cgroup of its own (root, cgroup v1 or v2 with
a writable memory controller; skipped elsewhere with the reason) whose run grows
until the kernel's OOM killer stops it; a real fork server SIGKILLed while a run
runs.  The RSS-near-limit rule, used where no OOM counter can be read or rose,
is a rule on the last sample's figure: it is tested on the figures, since
nothing short of a real OOM kill ends a real child the same way (RLIMIT_AS gives
a MemoryError, not a SIGKILL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import REPO, Recorder, assert_no_children, child_env, tiny

from qtui.analysis.outcomes import describe_error
from qtui.core.config import RunSpec
from qtui.core.summary_schema import RunError
from qtui.engine import oom
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.supervisor import Supervisor

LIMIT = 1536 << 20


def _own_memory_cgroup() -> Path | None:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/")
        if controllers == "" and (Path("/sys/fs/cgroup") / path.lstrip("/") / "memory.max").exists():
            return Path("/sys/fs/cgroup") / path.lstrip("/")
    return None


@pytest.fixture
def memory_cgroup() -> Iterator[Path]:
    """A child memory cgroup limited to ``LIMIT``, removed after."""
    parent = _own_memory_cgroup()
    if os.geteuid() != 0 or parent is None:
        pytest.skip("needs root and a memory cgroup controller (cgroup v1 memory or v2)")
    group = parent / f"qtui-oom-test-{os.getpid()}"
    try:
        group.mkdir()
        v1 = (group / "memory.limit_in_bytes").exists()
        (group / ("memory.limit_in_bytes" if v1 else "memory.max")).write_text(str(LIMIT))
        if v1:
            (group / "memory.memsw.limit_in_bytes").exists() and (
                group / "memory.memsw.limit_in_bytes").write_text(str(LIMIT))
    except OSError as exc:
        pytest.skip(f"cannot make a memory cgroup here: {exc}")
    try:
        yield group
    finally:
        deadline = time.monotonic() + 10
        while True:
            try:
                group.rmdir()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def test_a_run_killed_by_the_oom_killer_is_recorded_as_out_of_memory(
    memory_cgroup: Path, tmp_path: Path
) -> None:
    procs = memory_cgroup / "cgroup.procs"

    def enter() -> None:
        procs.write_text(str(os.getpid()))

    out = tmp_path / "s.json"
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "run", "--workload", "workloads.memory_hog:grows",
         "--device", "default.qubit", "--diff-method", "backprop", "--samples", "20",
         "--epochs", "1", "--batch-size", "5", "--json", str(out)],
        env={**child_env(), "QTUI_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"},
        cwd=REPO, capture_output=True, text=True, timeout=300, preexec_fn=enter,
    )
    # the workload check builds it too: the check's child is the one killed first
    if "workload" in proc.stderr and proc.returncode == 2:
        assert "out of memory" in proc.stderr or "SIGKILL" in proc.stderr, proc.stderr
        pytest.fail(f"the check, not the run, met the limit: {proc.stderr}")
    assert proc.returncode == 1, proc.stderr
    (run,) = json.loads(out.read_text())["runs"]
    assert run["state"] == "crashed"
    error = run["error"]
    assert error["signal"] == "SIGKILL"
    assert error["cause"].startswith("out of memory (the kernel's OOM killer: "), error
    assert "oom_kill 0 → 1" in error["cause"] or "oom_kill" in error["cause"]
    why = describe_error(RunError(**{k: v for k, v in error.items() if k in RunError.__struct_fields__}))
    assert why.startswith("crashed, out of memory (") and why.endswith("(SIGKILL)"), why
    assert "out of memory" in proc.stderr.splitlines()[-1]


def test_the_rss_near_the_limit_rule_on_its_figures() -> None:
    none = oom.OomCounters({})
    near = oom.oom_cause(none, none, "SIGKILL", 950 << 20, limit=1 << 30)
    assert near == ("out of memory, probably (RSS 950.0 MiB of a 1024.0 MiB limit at its last "
                    "sample; no OOM counter readable or risen)")
    assert oom.oom_cause(none, none, "SIGKILL", 500 << 20, limit=1 << 30) is None  # a kill -9
    assert oom.oom_cause(none, none, "SIGSEGV", 1000 << 20, limit=1 << 30) is None
    rose = oom.oom_cause(oom.OomCounters({"/proc/vmstat": 4}), oom.OomCounters({"/proc/vmstat": 5}),
                         "SIGKILL", 100 << 20, limit=1 << 30)
    assert rose is not None and rose.startswith("out of memory (the kernel's OOM killer: "
                                                "/proc/vmstat oom_kill 4 → 5")


def test_a_sigkill_of_qtui_itself_not_the_kernel_is_not_called_out_of_memory(
    warm_executor: ProcessExecutor,
) -> None:
    """The counters are read on this machine: a plain SIGKILL of a small run stays a SIGKILL."""
    rec = Recorder()
    spec = RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs"))
    sup = Supervisor([spec], rec, machine={"hostname": "test"}, executor=warm_executor,
                     interval=0.05)
    import threading

    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    launched = rec.wait_for("run_launched")
    rec.wait_for("sample")
    os.kill(launched.pid, signal.SIGKILL)
    t.join(60)
    crash = rec.terminal(sup.specs[0].run_id)
    assert crash.type == "run_crashed" and crash.signal == "SIGKILL" and crash.cause == ""


def test_a_fork_server_killed_under_a_run_is_the_servers_loss_and_the_queue_goes_on() -> None:
    os.environ["PYTHONPATH"] = child_env()["PYTHONPATH"]
    executor = ProcessExecutor()
    try:
        rec = Recorder()
        specs = [RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs")),
                 RunSpec("default.qubit", "backprop", tiny())]
        sup = Supervisor(specs, rec, machine={"hostname": "test"}, executor=executor)
        import threading

        t = threading.Thread(target=sup.run, daemon=True)
        t.start()
        rec.wait_for("run_started", "r1", timeout=180)
        server = executor.server_pid
        assert server
        os.kill(server, signal.SIGKILL)
        t.join(240)
        assert not t.is_alive()
        crash = rec.terminal("r1")
        assert crash.type == "run_crashed"
        assert crash.cause == (
            f"lost with the fork server: the server (pid {server}) was killed by SIGKILL while "
            "the run ran; not the run's own crash"
        )
        why = describe_error(RunError(state="crashed", signal=crash.signal, cause=crash.cause))
        assert why.startswith("crashed, lost with the fork server")
        assert rec.terminal("r2").type == "run_finished"  # on a restarted server
        assert executor.server_pid not in (0, server)
    finally:
        executor.close()
    assert_no_children()
