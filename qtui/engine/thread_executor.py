"""The ``thread`` executor: the run trains in a thread of this process (``--isolation thread``).

No separation of memory, threads or crashes from the caller: the sampler reads
this whole process, a native crash takes qtui down, and cancellation (or a
timeout) waits for the trainer's next batch, because a thread cannot be killed.
It exists for environments that cannot start a child (and for debugging a
workload under one interpreter).  Importing this module does not import torch;
``launch`` does.
"""

from __future__ import annotations

import os
import threading
import time
import traceback

from qtui.core.config import RunSpec
from qtui.engine.executor import Emit, Executor, LaunchError, RunEnd, RunHandle, Wake


class ThreadExecutor(Executor):
    """Runs each ``RunSpec`` with ``run_training`` on a daemon thread of this process."""

    name = "thread"

    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        if spec.command:  # its hooks (fds 1 and 2, torch, qml.device) would be the UI's
            raise LaunchError("a `qtui exec` script runs in its own process only; "
                              "start qtui with --isolation process or spawn")
        return ThreadRun(spec, emit, wake)


class ThreadRun(RunHandle):
    """One training thread; ``cancel`` sets the flag the trainer checks between batches."""

    def __init__(self, spec: RunSpec, emit: Emit, wake: Wake) -> None:
        from qtui.engine.trainer import Cancelled, run_training

        self.spec = spec
        self.pid = self.sample_pid = os.getpid()
        self._stop = threading.Event()
        self._cancelled = False
        self._crash: str | None = None

        def target() -> None:
            try:
                run_training(spec, emit, self._stop.is_set)
            except Cancelled:
                self._cancelled = True
            except BaseException as exc:  # noqa: BLE001 - boundary: finish() reports it as run_crashed
                self._crash = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
            finally:
                wake()

        self.t0 = time.monotonic()
        self._worker = threading.Thread(target=target, name=f"qtui-run-{spec.run_id}", daemon=True)
        self._worker.start()

    def done(self) -> bool:
        return not self._worker.is_alive()

    def cancel(self) -> None:
        self._stop.set()

    def finish(self) -> RunEnd:
        self._worker.join()
        return RunEnd(
            cancelled=self._cancelled,
            detail=self._crash or "the run ended without reporting a result",
        )

    def close(self) -> None:
        # A thread cannot be killed; the flag ends it at its next batch.
        self._stop.set()
