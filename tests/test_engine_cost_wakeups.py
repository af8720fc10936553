"""What wakes qtui while a run trains (issue 24: qtui's own cost under 1 % of a core).

Each write of the child's event pipe wakes three of qtui's threads (the pipe
reader, the supervisor, the history writer), each on a cold cache after the
pause; so the child writes no more often than the sampler ticks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from qtui.engine.event_writer import FLUSH_EVERY_S
from qtui.engine.process_executor import _PipeReader
from qtui.engine.sampler import DEFAULT_INTERVAL


def test_held_batches_go_out_as_often_as_the_sampler_ticks() -> None:
    assert FLUSH_EVERY_S == DEFAULT_INTERVAL


def _wakeups(tid: int) -> int:
    """Times the thread ``tid`` of this process went to sleep and was woken (``/proc``)."""
    for line in Path(f"/proc/self/task/{tid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_a_pipe_reader_sleeps_until_its_pipe_or_stop_wakes_it() -> None:
    """The run's stdout and stderr readers are idle through a whole run of the forum
    model; they used to wake 10 times a second each to look at their stop flag.
    The 0.5 s below is the window counted over, not a wait for a condition."""
    r, w = os.pipe()
    got: list[bytes] = []
    reader = _PipeReader(r, got.append, None, "qtui-test-reader")
    reader.start()
    try:
        deadline = time.monotonic() + 10.0
        while reader.native_id is None:
            assert time.monotonic() < deadline
        before = _wakeups(reader.native_id)
        time.sleep(0.5)
        assert _wakeups(reader.native_id) - before <= 1
        os.write(w, b"line\n")
        while not got:
            assert time.monotonic() < deadline, "the reader never read its pipe"
            time.sleep(0.01)
        reader.stop()  # a writer may live on (w is open): stop wakes it
        reader.join(timeout=10.0)
        assert not reader.is_alive()
        assert got == [b"line\n"]
    finally:
        os.close(w)
        reader.stop()
