"""What the sampler costs: CPU time as a fraction of one core at the default interval.

Samples a busy child (a spinning interpreter with a few threads) for
``--seconds`` with qtui's ``Sampler`` at its default interval (0.1 s), three
ways, in one run:

* the sampler thread's own CPU time (``time.thread_time`` inside it);
* this process's CPU time with the sampler on minus the same span with it off
  (the baseline, measured in the same run), with samples delivered the way the
  supervisor does: through a queue to a consumer that encodes each as a JSON
  line, as ``--events`` does;
* the same, per sample, in microseconds.

Target: under 1 % of one core.

    python benchmarks/sampler_cost.py [--seconds 20] [--interval 0.1]
"""

from __future__ import annotations

import argparse
import queue
import subprocess
import sys
import threading
import time

from qtui.engine.sampler import DEFAULT_INTERVAL, Sampler

BUSY = (
    "import threading\n"
    "def spin():\n"
    "    while True: pass\n"
    "for _ in range(3): threading.Thread(target=spin, daemon=True).start()\n"
    "spin()\n"
)


def measure(pid: int, seconds: float, interval: float | None) -> tuple[float, float, int]:
    """(process CPU s, sampler thread CPU s, samples) over ``seconds``; interval None = off."""
    q: queue.SimpleQueue[object] = queue.SimpleQueue()
    lines = [0]
    stop = threading.Event()

    def consume() -> None:  # what the supervisor does with each event: encode, deliver
        while not stop.is_set():
            try:
                e = q.get(timeout=0.2)
            except queue.Empty:
                continue
            lines[0] += len(e.to_json())  # type: ignore[attr-defined]

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    thread_cpu = [0.0]
    sampler = None
    if interval is not None:
        sampler = Sampler(pid, "bench", q.put, interval=interval)
        loop = sampler._loop

        def timed() -> None:
            t0 = time.thread_time()
            loop()
            thread_cpu[0] = time.thread_time() - t0

        sampler._thread = threading.Thread(target=timed, daemon=True)
    c0 = time.process_time()
    if sampler is not None:
        sampler.start()
    time.sleep(seconds)
    if sampler is not None:
        sampler.stop()
    cpu = time.process_time() - c0
    stop.set()
    consumer.join()
    return cpu, thread_cpu[0], (sampler.samples if sampler else 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    args = ap.parse_args()
    child = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(0.5)
        base_cpu, _, _ = measure(child.pid, args.seconds, None)
        on_cpu, thread_cpu, n = measure(child.pid, args.seconds, args.interval)
    finally:
        child.kill()
        child.wait()
    s = args.seconds
    print(f"interval {args.interval:g} s, {s:g} s each, {n} samples, busy child with 4 threads")
    print(f"sampler thread CPU:            {thread_cpu:.4f} s = {thread_cpu / s:.3%} of one core"
          f"  ({thread_cpu / max(n, 1) * 1e6:.0f} µs per sample)")
    print(f"process CPU, sampler off:      {base_cpu:.4f} s")
    print(f"process CPU, sampler on:       {on_cpu:.4f} s")
    extra = on_cpu - base_cpu
    print(f"sampler cost (on - off):       {extra:.4f} s = {extra / s:.3%} of one core"
          f"  (incl. queueing + JSON encoding of each sample)   target < 1 %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
