"""Shared fixtures.  ``real_events``: one small real session, run once per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from qtui import __version__
from qtui.core import events as ev
from qtui.core.config import RunSpec, WorkloadParams

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session", autouse=True)
def _private_user_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the history DB, probe cache and theme choice of the test run out of ~/."""
    base = tmp_path_factory.mktemp("qtui-user")
    for var in ("QTUI_DATA_DIR", "QTUI_CACHE_DIR", "QTUI_CONFIG_DIR"):
        os.environ[var] = str(base / var.lower())


def _run_child(spec: RunSpec) -> list[ev.Event]:
    """One real run through ``python -m qtui.engine.child``, sampled with psutil."""
    r, w = os.pipe()
    env = {**os.environ, "QTUI_EVENT_FD": str(w), "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qtui.engine.child"],
        stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, pass_fds=(w,),
    )
    os.close(w)
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(spec.to_dict()) + "\n").encode())
    proc.stdin.close()
    samples: list[ev.Event] = []
    done = threading.Event()

    def sample() -> None:
        p, t0, peak, peak_threads = psutil.Process(proc.pid), time.time(), 0, 0
        while not done.wait(0.25):
            try:
                mem, threads, cpu = p.memory_info().rss, p.num_threads(), p.cpu_times()
            except psutil.Error:
                return
            peak, peak_threads = max(peak, mem), max(peak_threads, threads)
            samples.append(ev.Sample(
                run_id=spec.run_id, percpu=psutil.cpu_percent(percpu=True), rss=mem,
                peak_rss=peak, threads=threads, peak_threads=peak_threads,
                cpu_s=cpu.user + cpu.system, wall_s=time.time() - t0, cores_in_use=0.0,
            ))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with os.fdopen(r, encoding="utf-8") as f:
        lines = f.read().splitlines()
    _, _, usage = os.wait4(proc.pid, 0)  # the OS's peak RSS, as the supervisor does
    proc.returncode = 0
    done.set()
    sampler.join()
    out: list[ev.Event] = []
    for line in lines:
        event, _ = ev.decode(line)
        assert event is not None, line
        if isinstance(event, ev.RunFinished):
            event.peak_rss = int(usage.ru_maxrss) * 1024
        out.append(event)
    merged = sorted(out + samples, key=lambda e: e.t)
    return [ev.RunQueued(run_id=spec.run_id, spec=spec.to_dict(), t=merged[0].t - 0.5)] + merged


@pytest.fixture(scope="session")
def real_events() -> list[ev.Event]:
    """A real session: backprop ×2, lightning adjoint ×1, a failing run, a refusal.

    Tiny runs (1 epoch, 20 samples, batch 5) in parallel child processes;
    wrapped in the session events a supervisor would write.
    """
    params = WorkloadParams(epochs=1, samples=20, batch_size=5, workload="qtui_test_workload:build")
    specs = [
        RunSpec("default.qubit", "backprop", params, 0, run_id="r1"),
        RunSpec("default.qubit", "backprop", params, 1, run_id="r2"),
        RunSpec("lightning.qubit", "adjoint", params, 0, run_id="r3"),
        RunSpec("default.qubit", "finite-diff", params, 0, run_id="r4"),
    ]
    results: dict[str, list[ev.Event]] = {}
    threads = [
        threading.Thread(target=lambda s=s: results.__setitem__(s.run_id, _run_child(s)))
        for s in specs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from qtui.engine.machine import machine_info

    t0 = min(e.t for evs in results.values() for e in evs) - 1
    sid = "test-" + uuid.uuid4().hex[:8]
    refused = ev.RunRefused(
        device="lightning.qubit", diff_method="backprop",
        reason="Device does not support backprop", t=t0,
    )
    head: list[ev.Event] = [
        ev.SessionStarted(
            session_id=sid, machine=machine_info(), qtui_version=__version__,
            argv=["qtui", "run", "--epochs", "1"], runs=[s.to_dict() for s in specs],
            refused=[{"device": "lightning.qubit", "diff_method": "backprop",
                      "reason": refused.reason}],
            n_cpus=os.cpu_count() or 1, t=t0,
        ),
        refused,
    ]
    body = [e for s in specs for e in results[s.run_id]]
    end = ev.SessionFinished(session_id=sid, t=max(e.t for e in body) + 0.1)
    return head + body + [end]


@pytest.fixture(autouse=True)
def _ui_tests_private_dirs(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each app test gets its own config and data folders (theme choice, history)."""
    if request.module.__name__.rpartition(".")[2].startswith("test_ui_"):
        monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
        monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
