"""The child's event pipe: batches coalesced, everything else at once, order kept (real pipe).

The writer's clock is a virtual one the test moves: "a fast step" is no time
passing, "a slow step" is more than ``flush_every_s`` passing, whatever the load.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from qtui.core.events import Batch, Epoch, decode
from qtui.engine.event_writer import EventWriter


class Clock:
    """Virtual monotonic seconds: time passes only when the test says so (in binary-exact
    steps, so "exactly ``flush_every_s``" is exact)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pipe(clock: Clock) -> Iterator[tuple[int, EventWriter]]:
    r, w = os.pipe()
    os.set_blocking(r, False)
    out = os.fdopen(w, "wb")
    yield r, EventWriter(out, flush_every_s=0.25, clock=clock)
    out.close()
    os.close(r)


def read_now(fd: int) -> list[object]:
    """What reached the pipe so far, decoded (nothing waiting: [])."""
    try:
        data = os.read(fd, 1 << 20)
    except BlockingIOError:
        return []
    events = [decode(line)[0] for line in data.splitlines()]
    assert None not in events
    return events


def batch(step: int) -> Batch:
    return Batch(run_id="r1", epoch=1, batch=step, loss=0.5, step=step, elapsed_s=0.01 * step)


def test_the_first_batch_goes_at_once_the_next_ones_wait(pipe: tuple[int, EventWriter]) -> None:
    r, emit = pipe
    emit(batch(1))
    assert [e.step for e in read_now(r)] == [1]  # type: ignore[attr-defined]
    emit(batch(2))
    emit(batch(3))
    assert read_now(r) == []  # within flush_every_s of the last write


def test_the_first_batch_goes_at_once_even_right_after_the_runs_start(
    pipe: tuple[int, EventWriter], clock: Clock,
) -> None:
    """A run's first loss point is live: it went into the buffer when it came within
    flush_every_s of run_started (any event before it), and a slow second step (a big
    circuit, a data loader, a workload waiting) kept it from the app until that step ended."""
    r, emit = pipe
    emit(Epoch(run_id="r1", epoch=0, mean_loss=0.0, elapsed_s=0.0))  # any event: it is written at once
    read_now(r)
    clock.now += 0.125  # a fast first step
    emit(batch(1))
    assert [e.step for e in read_now(r)] == [1]  # type: ignore[attr-defined]
    clock.now += 0.125
    emit(batch(2))
    assert read_now(r) == []  # the ones after it are coalesced as before


def test_any_other_event_sends_the_waiting_batches_first(pipe: tuple[int, EventWriter]) -> None:
    r, emit = pipe
    for step in (1, 2, 3):
        emit(batch(step))
    emit(Epoch(run_id="r1", epoch=1, mean_loss=0.4, elapsed_s=0.03))
    got = read_now(r)
    assert [type(e).__name__ for e in got] == ["Batch", "Batch", "Batch", "Epoch"]
    assert [e.step for e in got[:3]] == [1, 2, 3]  # type: ignore[attr-defined]


def test_a_batch_held_after_a_fast_step_goes_when_the_next_step_ends(
    pipe: tuple[int, EventWriter], clock: Clock,
) -> None:
    r, emit = pipe
    emit(batch(1))
    clock.now += 0.125  # a fast step: inside flush_every_s
    emit(batch(2))  # held
    assert len(read_now(r)) == 1
    clock.now += 0.25  # a slow step
    emit(batch(3))
    assert [e.step for e in read_now(r)] == [2, 3]  # type: ignore[attr-defined]


def test_slow_steps_are_written_one_by_one(pipe: tuple[int, EventWriter], clock: Clock) -> None:
    r, emit = pipe
    for step in (1, 2, 3):
        emit(batch(step))
        assert [e.step for e in read_now(r)] == [step]  # type: ignore[attr-defined]
        clock.now += 0.25  # exactly flush_every_s: due


def test_flush_sends_everything(pipe: tuple[int, EventWriter]) -> None:
    r, emit = pipe
    emit(batch(1))
    assert len(read_now(r)) == 1
    for step in range(2, 6):
        emit(batch(step))
    assert read_now(r) == []
    emit.flush()
    assert [e.step for e in read_now(r)] == [2, 3, 4, 5]  # type: ignore[attr-defined]
