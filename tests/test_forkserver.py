"""Fast start (issue 9, item 5): runs forked from the session's pre-imported server.

Real servers, real forks, real signals: the server is single-threaded with no
pool started when it forks; ``--threads`` still sizes every pool of each run
(threadpoolctl inside the run); ``import_s`` is ~0 and the server's start is a
note; a ``--workload`` module is imported in the run, not the server; the run
tag is in the run's ``/proc/<pid>/environ``; the server ends with the session,
with ``stop()`` of a warm controller and with a SIGKILLed ``qtui run``; a server
that does not come up means spawned runs and a note.
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

import psutil
import pytest
from engine_helpers import (
    REPO,
    SHARED_PIDS,
    Recorder,
    assert_no_children,
    child_env,
    run_session,
    start_session,
    tiny,
)
from import_check import loaded, modules_after
from warm_executor import assert_no_runs_left

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine import forkserver, reaper
from qtui.engine.forkserver import ProcessExecutor
from qtui.session.control import SessionController

pytestmark = [
    pytest.mark.skipif(not forkserver.available(), reason="the fork server needs Linux pidfds"),
    pytest.mark.timeout(300),
]

SERVER = "qtui.engine.forkserver_main"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_children()


def _is_server(p: psutil.Process) -> bool:
    try:
        return SERVER in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def servers() -> list[psutil.Process]:
    """Live fork servers under this test process (not the runs they forked, which
    carry the same command line)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            parent = p.parent()
        except psutil.Error:
            continue
        shared = p.pid in SHARED_PIDS  # the suite's warm server (warm_executor.py)
        if _is_server(p) and not (parent is not None and _is_server(parent)) and not shared:
            out.append(p)
    return out


def notes(rec: Recorder) -> list[str]:
    return [e.message for e in rec.of("note")]


def test_the_server_forks_single_threaded_with_no_pool_started(
    warm_executor: ProcessExecutor,
) -> None:
    """The suite's shared server, started as every server is (``ForkServer.start``), after
    it has served runs: one thread, no CUDA, OpenBLAS at one thread."""
    server = warm_executor._servers.server if warm_executor._servers else None
    assert server is not None and server.alive
    ready = server.ready
    assert ready["threads"] == 1, ready  # nothing started a thread while importing
    info = server.info()
    assert info["threads"] == 1
    assert ready["cuda"] is False and info["cuda"] is False
    assert {"torch", "pennylane", "torch._dynamo", "sklearn.datasets"} <= set(info["modules"])
    apis = {p["internal_api"] for p in info["pools"]}
    assert {"openmp", "openblas"} <= apis, info["pools"]
    # OpenBLAS would start its pool when loaded: the server runs it at one thread
    assert all(p["num_threads"] == 1 for p in info["pools"] if p["internal_api"] == "openblas")
    print(f"fork server: ready in {server.start_s:.2f} s (imports {ready['import_s']:.2f} s), "
          f"{info['threads']} thread, pools {[(p['internal_api'], p['num_threads']) for p in info['pools']]}")


def test_threads_apply_per_run_and_the_server_stays_single_threaded(
    warm_executor: ProcessExecutor,
) -> None:
    """threads=1, 2, then the libraries' default, in one session: each run's own pools
    (threadpoolctl inside the run) are what it asked for; the server never grows a thread."""
    specs = [RunSpec("default.qubit", "backprop", tiny(threads=n)) for n in (1, 2, 0, 1)]
    sup, rec = run_session(specs, executor=warm_executor)
    server = warm_executor._servers.server if warm_executor._servers else None
    assert server is not None and server.alive
    info = server.info()
    assert info["threads"] == 1
    assert not any(m.startswith("workloads") for m in info["modules"])
    default = len(os.sched_getaffinity(0))
    for spec, want in zip(sup.specs, (1, 2, None, 1), strict=True):
        fin = rec.terminal(spec.run_id)
        assert isinstance(fin, ev.RunFinished), fin
        started = rec.of("run_started", spec.run_id)[0]
        for pools in (started.threadpools, fin.threadpools):
            sizes = {(p["internal_api"], p["num_threads"]) for p in pools}
            if want is not None:
                assert {n for _, n in sizes} == {want}, sizes
            else:
                assert ("openblas", default) in sizes, sizes  # not the server's 1
    assert_no_runs_left(warm_executor)


def test_import_s_is_paid_once_and_the_server_start_is_a_note() -> None:
    specs = [RunSpec("default.qubit", "backprop", tiny()) for _ in range(2)]
    sup, rec = run_session(specs)
    started = [rec.of("run_started", s.run_id)[0] for s in sup.specs]
    assert all(s.import_s < 0.2 for s in started), [s.import_s for s in started]  # ~0: forked
    (note,) = [n for n in notes(rec) if n.startswith("fork server")]
    assert "started in" in note and "paid once for this session" in note
    launched = rec.of("run_launched")
    assert len({e.pid for e in launched}) == 2  # a fresh process per run
    for s in sup.specs:
        fin = rec.terminal(s.run_id)
        assert fin.peak_rss > 100 * 2**20  # ru_maxrss of the forked child, from the server
    assert not servers()


def test_a_workload_module_is_imported_in_the_run_not_the_server(
    warm_executor: ProcessExecutor,
) -> None:
    sup, rec = run_session(
        [RunSpec("default.qubit", "backprop", tiny(workload="workloads.complex_cast:build"))],
        executor=warm_executor,
    )
    assert rec.terminal(sup.specs[0].run_id).type == "run_finished"
    server = warm_executor._servers.server if warm_executor._servers else None
    assert server is not None
    modules = server.info()["modules"]
    assert "workloads.complex_cast" not in modules and "workloads" not in modules


def test_the_run_tag_is_in_the_childs_proc_environ_and_the_server_ends_with_the_session() -> None:
    spec = RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs"), timeout_s=60)
    sup, rec, thread = start_session([spec])
    pid = int(rec.wait_for("run_launched", timeout=240).pid)
    rec.wait_for("run_started", timeout=30)
    with open(f"/proc/{pid}/environ", "rb") as f:
        environ = dict(
            item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item
        )
    tag = environ[reaper.RUN_TAG_ENV.encode()].decode()
    assert tag != forkserver.TAG_PLACEHOLDER and len(tag) == reaper.TAG_LEN
    assert tag.startswith(f"{os.getpid():010d}.")
    (server,) = servers()
    assert psutil.Process(pid).ppid() == server.pid
    sup.cancel_all()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert rec.terminal(sup.specs[0].run_id).type == "run_cancelled"
    assert not server.is_running() or server.status() == psutil.STATUS_ZOMBIE
    assert not servers()


def test_a_warm_controller_starts_the_first_loss_within_a_second() -> None:
    """keep_warm (the TUI): the server outlives a batch, so a later start is warm; the
    first batch event of the forum workload comes within a second of start()."""
    rec = Recorder()
    control = SessionController(rec, keep_warm=True, supervisor_options={"machine": {"hostname": "t"}})
    try:
        control.start([RunSpec("default.qubit", "backprop", tiny())])
        assert control.wait(240)
        (server,) = servers()
        latencies = []
        for _ in range(3):
            t0 = time.monotonic()
            started = control.start([RunSpec("default.qubit", "backprop", tiny())]).specs[0]
            rec.wait_for("batch", started.run_id, timeout=60)
            latencies.append(time.monotonic() - t0)
            assert control.wait(60)
        assert servers() == [server]  # the same warm server served every start
        print(f"warm start to first loss point: {', '.join(f'{x:.3f}' for x in latencies)} s "
              f"(load {os.getloadavg()[0]:.2f})")
        # Relative, so a loaded machine slows both sides: a warm start costs less than
        # the imports the server paid once (what keeping it warm is for).
        (note,) = [n for n in notes(rec) if n.startswith("fork server")]
        paid = float(note.split("started in ", 1)[1].split(" s", 1)[0])
        assert min(latencies) < paid, (latencies, note)
    finally:
        assert control.stop(10)
    assert not servers()


def test_a_server_that_does_not_come_up_means_spawned_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forkserver, "READY_TIMEOUT_S", 0.01)
    sup, rec = run_session([RunSpec("default.qubit", "backprop", tiny()) for _ in range(2)])
    assert [rec.terminal(s.run_id).type for s in sup.specs] == ["run_finished", "run_finished"]
    (note,) = [n for n in notes(rec) if n.startswith("fork server")]
    assert "unavailable" in note and "did not get ready" in note
    started = rec.of("run_started")
    assert all(s.import_s > 0.3 for s in started), [s.import_s for s in started]
    assert not servers()


def test_a_server_whose_start_raises_is_a_clean_fallback_not_a_thread_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Popen may raise more than OSError (SubprocessError, ValueError); the start is then
    the documented fallback (ForkServerError, spawned runs), not a KeyError in a thread."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise subprocess.SubprocessError("refused by the test")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    with pytest.raises(forkserver.ForkServerError, match="refused by the test"):
        forkserver.ForkServer().start()


def test_sigkill_of_qtui_run_takes_the_server_and_the_run_along(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    env = {**child_env(), "QTUI_NO_HISTORY": "1"}
    env.pop("QTUI_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "qtui", "run", "--workload", "workloads.faulty:hangs",
         "--epochs", "1", "--samples", "20", "--batch-size", "5", "--events", str(events)],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 240
        pid = 0
        while not pid:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "no run_started"
            if events.exists():
                for line in events.read_text().splitlines():
                    if '"run_started"' in line:
                        pid = int(json.loads(line)["pid"])
            time.sleep(0.1)
        server = psutil.Process(psutil.Process(pid).ppid())
        assert SERVER in " ".join(server.cmdline())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        t0 = time.monotonic()
        gone: dict[str, float] = {}
        while len(gone) < 2 and time.monotonic() - t0 < 60:  # generous: outcome, not speed
            for name, p in (("server", server.pid), ("run", pid)):
                if name not in gone and not reaper.is_running(p, None):
                    gone[name] = time.monotonic() - t0
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    print(f"after SIGKILL of qtui run: server gone in {gone.get('server', -1):.3f} s, "
          f"run in {gone.get('run', -1):.3f} s")
    # both go on their own (a leak keeps them for good); how fast: benchmarks/cancel_latency.py
    assert set(gone) == {"server", "run"}, gone


def test_the_ui_side_of_the_fork_server_imports_neither_torch_nor_pennylane() -> None:
    mods = modules_after(["qtui.engine.forkserver", "qtui.engine.process_executor"])
    assert "qtui.engine.forkserver" in mods
    assert loaded(mods, ["torch", "pennylane", "numpy"]) == set()


@pytest.mark.parametrize("isolation", ["process", "spawn"])
def test_a_run_collects_and_freezes_its_heap_before_its_measured_window(
    isolation: str, warm_executor: ProcessExecutor
) -> None:
    """No full collection of the imports lands inside a run's window (qtui.engine.heap):
    a forked run starts from the server's frozen imports; every run in its own process
    collects once (build's garbage freed) and freezes what is alive before training."""
    _sup, rec = run_session(
        [RunSpec("default.qubit", "backprop", tiny(workload="workloads.heap_probe:build"))],
        isolation=isolation, executor=warm_executor if isolation == "process" else None,
    )
    (fin,) = [e for e in rec.events if isinstance(e, ev.RunFinished)]
    m = {name: item.value for name, item in fin.metrics.items()}
    if isolation == "process":
        assert m["frozen_at_build"] > 50_000  # torch + pennylane, frozen by the server
    else:
        assert m["frozen_at_build"] == 0  # a fresh interpreter froze nothing yet
    assert m["frozen_at_step"] > max(m["frozen_at_build"], 50_000)
    assert m["cycle_alive_at_step"] == 0  # collected before the window
