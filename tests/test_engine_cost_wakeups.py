"""What wakes qtui while a run trains (issue 24: qtui's own cost under 1 % of a core).

Each write of the child's event pipe wakes three of qtui's threads (the pipe
reader, the supervisor, the history writer), each on a cold cache after the
pause; so the child writes no more often than the sampler ticks.
"""

from __future__ import annotations

from qtui.engine.event_writer import FLUSH_EVERY_S
from qtui.engine.sampler import DEFAULT_INTERVAL


def test_held_batches_go_out_as_often_as_the_sampler_ticks() -> None:
    assert FLUSH_EVERY_S == DEFAULT_INTERVAL
