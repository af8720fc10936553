"""The sampler reads a real busy process from outside it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psutil
import pytest
from engine_helpers import assert_no_children

from qtui.engine.sampler import PerCpu, Sampler
from qtui.events import Sample

BUSY = "while True: pass"
PARENT_OF_BUSY = (
    "import subprocess, sys; "
    f"subprocess.Popen([sys.executable, '-c', {BUSY!r}]).wait()"
)


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", BUSY])
    yield proc
    proc.kill()
    proc.wait()


def _collect(pid: int, seconds: float, **kw: float) -> tuple[Sampler, list[Sample]]:
    got: list[Sample] = []
    s = Sampler(pid, "t", got.append, **kw).start()
    time.sleep(seconds)
    s.stop()
    return s, got


def test_samples_a_busy_process(busy: subprocess.Popen[bytes]) -> None:
    s, got = _collect(busy.pid, 1.5, interval=0.1)
    assert 8 <= len(got) <= 20
    last = got[-1]
    assert last.run_id == "t"
    assert len(last.percpu) == psutil.cpu_count()
    assert all(0.0 <= p <= 100.0 for p in last.percpu)
    assert last.rss > 1_000_000 and last.peak_rss >= last.rss
    assert last.threads >= 1 and last.peak_threads >= 1
    assert last.cpu_s > 0.3
    # a spinning interpreter keeps about one core busy (the machine is shared: be lenient)
    mean_cores = sum(x.cores_in_use for x in got[2:]) / len(got[2:])
    assert 0.4 < mean_cores <= 1.3
    assert [x.wall_s for x in got] == sorted(x.wall_s for x in got)
    assert s.peak_rss == max(x.rss for x in got)


def test_counts_cpu_of_the_process_children() -> None:
    proc = subprocess.Popen([sys.executable, "-c", PARENT_OF_BUSY])
    try:
        time.sleep(0.5)
        _, got = _collect(proc.pid, 3.0, interval=0.1, children_every=0.5)
    finally:
        for p in psutil.Process(proc.pid).children(recursive=True):
            p.kill()
        proc.kill()
        proc.wait()
    # the parent only waits; its busy child's CPU is what shows
    assert got[-1].cpu_s > 1.0
    assert max(x.cores_in_use for x in got) > 0.5
    assert_no_children()


def test_stops_when_the_process_is_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    got: list[Sample] = []
    s = Sampler(proc.pid, "t", got.append, interval=0.05).start()
    proc.wait()  # reaped: the pid is gone
    s._thread.join(2.0)
    assert not s._thread.is_alive()
    assert got
    s.stop()


def test_interval_changes_while_running(busy: subprocess.Popen[bytes]) -> None:
    got: list[Sample] = []
    s = Sampler(busy.pid, "t", got.append, interval=1.0).start()
    time.sleep(1.2)
    n_slow = len(got)
    s.set_interval(0.02)
    assert s.interval == 0.02
    time.sleep(0.5)
    s.stop()
    assert n_slow <= 3
    assert len(got) - n_slow >= 10


def test_interval_is_clamped() -> None:
    s = Sampler(psutil.Process().pid, "t", lambda e: None, interval=0.0)
    assert s.interval == 0.01
    s.set_interval(1000)
    assert s.interval == 10.0


def test_stop_is_prompt_and_idempotent(busy: subprocess.Popen[bytes]) -> None:
    s = Sampler(busy.pid, "t", lambda e: None, interval=5.0).start()
    time.sleep(0.1)
    t0 = time.monotonic()
    s.stop()
    s.stop()
    assert time.monotonic() - t0 < 0.5


def test_percpu_is_independent_of_psutil_global_state() -> None:
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    t = threading.Thread(target=spin)
    pc = PerCpu()
    t.start()
    try:
        time.sleep(0.3)
        psutil.cpu_percent(percpu=True)  # another caller resets psutil's own baseline
        values = pc.read()
    finally:
        stop.set()
        t.join()
    assert len(values) == psutil.cpu_count()
    assert max(values) > 30.0  # the spinning thread kept a core busy over 0.3 s


def test_sampler_is_cheap(busy: subprocess.Popen[bytes]) -> None:
    """The sampler's own thread CPU at 10 Hz stays well under 1 % of a core."""
    cpu: list[float] = []
    s = Sampler(busy.pid, "t", lambda e: None, interval=0.1)
    inner = s._loop

    def timed_loop() -> None:
        t0 = time.thread_time()
        inner()
        cpu.append(time.thread_time() - t0)

    s._thread = threading.Thread(target=timed_loop, daemon=True)
    s.start()
    time.sleep(3.0)
    s.stop()
    assert cpu and cpu[0] / 3.0 < 0.01, f"sampler used {cpu[0] / 3.0:.2%} of a core"
