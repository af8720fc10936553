"""How long a cancel takes: ``Supervisor.cancel`` of a training run against ending a bare process.

The tests assert that a cancelled run is cancelled and its child is gone (with
a generous deadline: a loaded machine is slow, not wrong); how fast that
happens is measured here.  One session of ``--rounds`` forum runs, each set
to train far longer than the benchmark, on the process executor (the fork
server, as ``qtui run`` uses it); each run is cancelled once its first loss
point arrives.  Measured from the ``cancel()`` call: until the child's pid is
gone (reaped or a zombie no more) and until ``run_cancelled`` is delivered.

The baseline, measured in the same rounds, interleaved: a bare ``python -c
"while True: pass"`` child, SIGTERM, ``wait()``: what ending a busy process
costs on this machine now, with nothing of qtui in between.  Prints the
medians and the ratios qtui / bare.  The tests used to assert "under 2 s".

    python benchmarks/cancel_latency.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

import psutil

from qtui.core.config import RunSpec, WorkloadParams
from qtui.core.events import Event, RunStarted
from qtui.engine.supervisor import Supervisor

#: Far longer than the benchmark: every run ends by its cancel.
LONG = WorkloadParams(epochs=1000)
WAIT_S = 300.0  # for a run to reach its first loss point (the first one imports)


def bare_sigterm_s() -> float:
    """Seconds from SIGTERM to reaped, for a bare busy Python child (the baseline)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)  # it is spinning, as a training child is
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    return time.perf_counter() - t0


class Session:
    """A supervisor on its own thread, with a way to wait for one run's events."""

    def __init__(self, rounds: int) -> None:
        self.cond = threading.Condition()
        self.seen: dict[tuple[str, str], Event] = {}
        specs = [RunSpec("default.qubit", "backprop", LONG, repeat_index=i) for i in range(rounds)]
        self.sup = Supervisor(specs, self.on_event, machine={"hostname": "bench"})
        self.thread = threading.Thread(target=self.sup.run, daemon=True)
        self.thread.start()

    def on_event(self, event: Event) -> None:
        run_id = getattr(event, "run_id", None)
        if run_id is None:
            return
        with self.cond:
            self.seen.setdefault((event.type, run_id), event)
            self.cond.notify_all()

    def wait(self, kind: str, run_id: str) -> Event:
        with self.cond:
            if not self.cond.wait_for(lambda: (kind, run_id) in self.seen, WAIT_S):
                raise SystemExit(f"no {kind} for {run_id} within {WAIT_S:.0f} s")
            return self.seen[(kind, run_id)]

    def cancel_s(self, run_id: str) -> tuple[float, float]:
        """(seconds to the child gone, seconds to ``run_cancelled``) for one run."""
        started = self.wait("run_started", run_id)
        assert isinstance(started, RunStarted)
        pid = started.pid
        self.wait("batch", run_id)
        t0 = time.perf_counter()
        self.sup.cancel(run_id)
        while _alive(pid):
            time.sleep(0.001)
        gone = time.perf_counter() - t0
        self.wait("run_cancelled", run_id)
        return gone, time.perf_counter() - t0


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    session = Session(args.rounds)
    bare: list[float] = []
    gone: list[float] = []
    reported: list[float] = []
    for spec in session.sup.specs:
        bare.append(bare_sigterm_s())
        g, r = session.cancel_s(spec.run_id)
        gone.append(g)
        reported.append(r)
        print(f"{spec.run_id}: bare SIGTERM {bare[-1] * 1e3:.1f} ms   qtui cancel: child gone "
              f"{g * 1e3:.1f} ms, run_cancelled {r * 1e3:.1f} ms", flush=True)
    session.thread.join(60)
    b, g, r = (statistics.median(x) for x in (bare, gone, reported))
    print(f"{args.rounds} rounds, cpu count {os.cpu_count()}, "
          f"load average {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"bare SIGTERM to reaped     median {b * 1e3:8.1f} ms  (baseline)")
    print(f"cancel to child gone       median {g * 1e3:8.1f} ms  ratio {g / b:6.1f}x  (max {max(gone):.3f} s)")
    print(f"cancel to run_cancelled    median {r * 1e3:8.1f} ms  ratio {r / b:6.1f}x  "
          f"(max {max(reported):.3f} s; the tests asserted < 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
