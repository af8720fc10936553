"""Workloads that go wrong in each of the ways the supervisor must contain."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext


class FaultyLossError(ValueError):
    """Raised by ``raises`` on the second batch."""


def raises(ctx: WorkloadContext) -> Workload:
    """Trains one batch, then the loss function raises."""
    wl = forum_build(ctx)
    inner = wl.loss_fn
    calls = [0]

    def loss_fn(out: Any, target: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            raise FaultyLossError("the faulty workload fails on purpose at batch 2")
        return inner(out, target)

    wl.loss_fn = loss_fn
    return wl


def _wrap(wl: Workload, each_batch: Any) -> Workload:
    data = wl.train_data

    class Wrapped:
        def __iter__(self) -> Iterator[Any]:
            for batch in data:
                each_batch()
                yield batch

    wl.train_data = Wrapped()
    return wl


def segfault(ctx: WorkloadContext) -> Workload:
    """Dies from SIGSEGV at the first batch, as a native crash would."""
    return _wrap(forum_build(ctx), lambda: os.kill(os.getpid(), signal.SIGSEGV))


def exits(ctx: WorkloadContext) -> Workload:
    """Leaves with ``os._exit(3)`` at the first batch: no exception, no report."""
    return _wrap(forum_build(ctx), lambda: os._exit(3))


def killed(ctx: WorkloadContext) -> Workload:
    """SIGKILLs itself at the first batch (as the OOM killer would)."""
    return _wrap(forum_build(ctx), lambda: os.kill(os.getpid(), signal.SIGKILL))


def hangs(ctx: WorkloadContext) -> Workload:
    """Never finishes its first batch (sleeps forever)."""

    def forever() -> None:
        while True:
            time.sleep(3600)

    return _wrap(forum_build(ctx), forever)


def slow(ctx: WorkloadContext) -> Workload:
    """The forum workload, sleeping ``QTUI_TEST_SLEEP`` seconds (default 0.5) per batch."""
    delay = float(os.environ.get("QTUI_TEST_SLEEP", "0.5"))
    return _wrap(forum_build(ctx), lambda: time.sleep(delay))


def garbles(ctx: WorkloadContext) -> Workload:
    """Writes lines that are not events to the event pipe, then trains normally."""
    fd = int(os.environ["QTUI_EVENT_FD"])
    os.write(fd, b"this is not json\n")
    os.write(fd, b'{"type": "no_such_event", "v": 1, "t": 0}\n')
    return forum_build(ctx)


def wrong_type(ctx: WorkloadContext) -> Any:
    """Returns a dict instead of a Workload."""
    return {"model": None}


def not_callable_yet(ctx: WorkloadContext) -> Any:
    raise RuntimeError("this builder always raises")


def slow_on_lightning(ctx: WorkloadContext) -> Workload:
    """Quick on default.qubit, 0.5 s per batch on lightning devices (to interrupt it)."""
    wl = forum_build(ctx)
    if ctx.device.startswith("lightning"):
        return _wrap(wl, lambda: time.sleep(0.5))
    return wl
