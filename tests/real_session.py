"""One small real session, the events several tests read (``real_events``).

Recorded once into ``tests/data/real_events.jsonl`` (``python tests/real_session.py``
rewrites it), because running it costs four real children on every xdist
worker.  ``tests/test_real_session.py`` runs a fresh one and checks the
recording still has its shape, so the recording cannot drift from what qtui
writes today.

The session: backprop ×2, lightning adjoint ×1, a failing run (finite-diff,
refused by the test workload), and a refusal; tiny runs (1 epoch, 20 samples,
batch 5) in parallel children, wrapped in the session events a supervisor
would write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from qtui import __version__
from qtui.core import events as ev
from qtui.core.config import RunSpec, WorkloadParams

if TYPE_CHECKING:
    from qtui.engine.forkserver import ForkServer

TESTS = Path(__file__).resolve().parent
RECORDING = TESTS / "data" / "real_events.jsonl"


def _start_child(spec: RunSpec, server: ForkServer | None) -> tuple[int, int, Any]:
    """Start one real run: ``python -m qtui.engine.child``, or forked from ``server``
    (imports already paid; the same child code, ``qtui.engine.child.run_forked``).
    Returns (pid, the read end of its event pipe, how to wait for its end)."""
    r, w = os.pipe()
    if server is not None:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            pid, _ = server.fork(spec.to_dict(), dict(os.environ), os.getcwd(),
                                 [w, null, os.dup(null)])
        finally:
            os.close(w)
            os.close(null)

        def waited() -> int:
            while True:
                status, maxrss = server.reap(pid)
                if status is not None:
                    return maxrss

        return pid, r, waited
    env = {**os.environ, "QTUI_EVENT_FD": str(w), "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qtui.engine.child"],
        stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, pass_fds=(w,),
    )
    os.close(w)
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(spec.to_dict()) + "\n").encode())
    proc.stdin.close()

    def reaped() -> int:
        _, _, usage = os.wait4(proc.pid, 0)  # the OS's peak RSS, as the supervisor does
        proc.returncode = 0
        return int(usage.ru_maxrss) * 1024

    return proc.pid, r, reaped


def _run_child(spec: RunSpec, server: ForkServer | None = None) -> list[ev.Event]:
    """One real run (``_start_child``), sampled with psutil."""
    pid, r, wait_end = _start_child(spec, server)
    samples: list[ev.Event] = []
    done = threading.Event()

    def sample() -> None:
        p, t0, peak, peak_threads = psutil.Process(pid), time.time(), 0, 0
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
    peak_rss = wait_end()
    done.set()
    sampler.join()
    out: list[ev.Event] = []
    for line in lines:
        event, _ = ev.decode(line)
        assert event is not None, line
        if isinstance(event, ev.RunFinished):
            event.peak_rss = peak_rss
        out.append(event)
    merged = sorted(out + samples, key=lambda e: e.t)
    return [ev.RunQueued(run_id=spec.run_id, spec=spec.to_dict(), t=merged[0].t - 0.5)] + merged


def record(server: ForkServer | None = None) -> list[ev.Event]:
    """Run the session now and return its events: four fresh interpreters (about 10 s),
    or four children forked from ``server`` (the suite's warm one, about 2 s)."""
    params = WorkloadParams(epochs=1, samples=20, batch_size=5, workload="qtui_test_workload:build")
    specs = [
        RunSpec("default.qubit", "backprop", params, 0, run_id="r1"),
        RunSpec("default.qubit", "backprop", params, 1, run_id="r2"),
        RunSpec("lightning.qubit", "adjoint", params, 0, run_id="r3"),
        RunSpec("default.qubit", "finite-diff", params, 0, run_id="r4"),
    ]
    results: dict[str, list[ev.Event]] = {}
    threads = [
        threading.Thread(target=lambda s=s: results.__setitem__(s.run_id, _run_child(s, server)))
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


def load() -> list[ev.Event]:
    """The recorded session, decoded."""
    out: list[ev.Event] = []
    for line in RECORDING.read_text(encoding="utf-8").splitlines():
        event, err = ev.decode(line)
        assert event is not None, err
        out.append(event)
    return out


#: Events whose number depends on timing, not on what the run did: samples (the
#: sampler's clock) and phase reports (sent on a timer, so a slow run sends more).
_TIMED = ("sample", "phases")


def shape(events: list[ev.Event]) -> dict[str, object]:
    """What the tests rely on, without timings or counts that vary: each run's
    event types in order (batches, warnings and timed events left out), how many
    batches and warnings it had, and whether it reported phases at all."""
    runs: dict[str, list[str]] = {}
    counts: dict[str, dict[str, int]] = {}
    for e in events:
        run_id = getattr(e, "run_id", None) or "session"
        n = counts.setdefault(run_id, {"batch": 0, "warning": 0, "phases": 0})
        if e.type in n:
            n[e.type] += 1
        if e.type not in ("batch", "warning", *_TIMED):
            runs.setdefault(run_id, []).append(e.type)
    for n in counts.values():
        n["phases"] = min(n["phases"], 1)
    return {"types": runs, "counts": counts}


if __name__ == "__main__":
    RECORDING.write_text("".join(e.to_json() + "\n" for e in record()), encoding="utf-8")
    print(f"wrote {RECORDING}", file=sys.stderr)
