"""Helpers for the engine and CLI tests: real supervisors, real children, no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from qtui.core import events as ev
from qtui.core.config import RunSpec, WorkloadParams
from qtui.engine.supervisor import Supervisor

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

#: A tiny forum run: 1 epoch, 20 samples, batches of 5 (4 steps).
TINY = WorkloadParams(epochs=1, samples=20, batch_size=5)


def tiny(**changes: Any) -> WorkloadParams:
    values = {**TINY.to_dict(), **changes}
    return WorkloadParams(**values)


def child_env() -> dict[str, str]:
    """The environment for child processes: ``tests/`` importable (``workloads.*``)."""
    env = dict(os.environ)
    parts = [str(TESTS), str(REPO)]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.setdefault("NO_COLOR", "1")
    return env


class Recorder:
    """Collects events (from the supervisor's thread) and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self.cond = threading.Condition()
        self.hooks: list[Callable[[ev.Event], None]] = []

    def __call__(self, event: ev.Event) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()
        for hook in self.hooks:
            hook(event)

    def of(self, kind: str, run_id: str | None = None) -> list[Any]:
        with self.cond:
            return [
                e
                for e in self.events
                if e.type == kind and (run_id is None or getattr(e, "run_id", None) == run_id)
            ]

    def wait_for(self, kind: str, run_id: str | None = None, timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e.type == kind and (run_id is None or getattr(e, "run_id", None) == run_id):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind} event within {timeout} s")
                self.cond.wait(left)

    def terminal(self, run_id: str) -> Any:
        found = [
            e
            for e in self.events
            if e.type in ev.TERMINAL_TYPES and getattr(e, "run_id", None) == run_id
        ]
        assert len(found) == 1, f"expected one terminal event for {run_id}, got {found}"
        return found[0]


class OffsetClock:
    """``time.monotonic()`` plus an offset the test moves forward: the supervisor's
    deadlines are reached without waiting them out, and the executor's ``t0``
    (real monotonic time) stays on the same scale."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def run_session(specs: list[RunSpec], **kwargs: Any) -> tuple[Supervisor, Recorder]:
    """Run a Supervisor to the end in this thread; returns it and what it emitted."""
    rec = Recorder()
    sup = Supervisor(specs, rec, machine={"hostname": "test"}, **kwargs)
    sup.run()
    return sup, rec


def start_session(specs: list[RunSpec], **kwargs: Any) -> tuple[Supervisor, Recorder, threading.Thread]:
    """Start a Supervisor in a worker thread, as the TUI does."""
    rec = Recorder()
    sup = Supervisor(specs, rec, machine={"hostname": "test"}, **kwargs)
    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    return sup, rec, t


#: Pids the whole test session keeps on purpose (the warm fork server of
#: ``warm_executor.py``): no test left them behind.  Their children still count.
SHARED_PIDS: set[int] = set()


def alive(pid: int) -> bool:
    """``pid`` is running (a zombie waiting to be reaped is not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def descendants() -> list[psutil.Process]:
    """Live (non-zombie) descendants of this test process, ``SHARED_PIDS`` excepted."""
    out = []
    for p in psutil.Process().children(recursive=True):
        if p.pid in SHARED_PIDS:
            continue
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            continue
    return out


def assert_no_children(timeout: float = 3.0, spare: Callable[[], set[int]] = set) -> None:
    """No live descendant of this process within ``timeout`` but those ``spare()``
    names (read on every look: a shared server may be restarted meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        kept = spare()
        left = [p for p in descendants() if p.pid not in kept]
        if not left:
            return
        if time.monotonic() > deadline:
            names = [(p.pid, " ".join(p.cmdline()[:4])) for p in left]
            raise AssertionError(f"child processes left behind: {names}")
        time.sleep(0.1)


def python() -> str:
    return sys.executable


def stop_server(server: subprocess.Popen[Any]) -> None:
    """Ctrl-C a served ``qtui serve``, as its user would; kill it if it does not go."""
    server.send_signal(signal.SIGINT)
    try:
        server.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
