"""A scripted executor, after hyperfine's ``MockExecutor``: each run plays back a script.

For tests of the supervisor's, the controller's and the repeat planner's logic,
where the process is not the subject: a run here starts no process, trains
nothing and takes no real time.  It reports what its ``Script`` says (started,
N batches with their losses, an epoch, then finished, failed, or nothing until
it is cancelled), with *virtual* durations: ``train_s`` is ``steps *
step_s`` however fast the machine is, so a planner's confidence interval is
the script's, not the load's.

Real children stay where the test is about processes, signals, files or the
numbers a real run produces (``test_supervisor.py``, ``test_forkserver.py``,
``test_faults.py``, ...).

    executor = ScriptedExecutor(lambda spec: Script(step_s=0.01 * (1 + spec.repeat_index)))
    Supervisor(specs, rec, executor=executor).run()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.executor import Emit, Executor, RunEnd, RunHandle, Wake


@dataclass(frozen=True)
class Script:
    """What one run does.  ``end``: ``finished``; ``failed`` (a workload exception after
    the batches); ``hang`` (the batches, then nothing until it is cancelled)."""

    steps: int = 4
    step_s: float = 0.05  # virtual seconds a step takes
    loss0: float = 0.7
    end: Literal["finished", "failed", "hang"] = "finished"


class ScriptedRun(RunHandle):
    """Plays its script on the supervisor's thread, at the first ``done()`` after the
    launch (so ``run_launched`` comes first, as with a real run)."""

    def __init__(self, spec: RunSpec, emit: Emit, wake: Wake, script: Script) -> None:
        self.spec, self.script = spec, script
        self._emit, self._wake = emit, wake
        self.t0 = time.monotonic()
        self._played = False
        self._ended = False
        self._cancelled = False

    def _play(self) -> None:
        s, run_id = self.script, self.spec.run_id
        self._emit(ev.RunStarted(
            run_id=run_id, spec=self.spec.to_dict(), pid=0, host="scripted", versions={},
            resolved_diff_method=self.spec.diff_method, batches_per_epoch=s.steps,
        ))
        losses = [s.loss0 * 0.9**i for i in range(s.steps)]
        for i, loss in enumerate(losses, start=1):
            self._emit(ev.Batch(run_id=run_id, epoch=1, batch=i, loss=loss, step=i,
                                elapsed_s=i * s.step_s))
        train_s = s.steps * s.step_s
        if s.end == "hang":
            return
        if s.end == "failed":
            self._emit(ev.RunFailed(run_id=run_id, exc_type="ScriptedError",
                                    message="the script fails here", traceback=""))
        else:
            mean = sum(losses) / len(losses) if losses else 0.0
            self._emit(ev.Epoch(run_id=run_id, epoch=1, mean_loss=mean, elapsed_s=train_s))
            self._emit(ev.RunFinished(
                run_id=run_id, accuracy=None, train_s=train_s, final_loss=losses[-1] if losses else 0.0,
                epoch_losses=[mean], steps=s.steps, core_s=train_s, cores_in_use=1.0,
                core_s_per_step=s.step_s, peak_rss=0, peak_threads=1,
            ))
        self._ended = True

    def done(self) -> bool:
        if not self._played:
            self._played = True
            self._play()
        return self._ended

    def cancel(self) -> None:
        self._cancelled = self._ended = True
        self._wake()

    def finish(self) -> RunEnd:
        return RunEnd(cancelled=self._cancelled, detail="the script ended")

    def close(self) -> None:
        self._ended = True


class ScriptedExecutor(Executor):
    """Runs every spec by its ``Script`` (``script(spec)``; the default ``Script()``).
    ``launched`` is the run ids in launch order."""

    name = "scripted"

    def __init__(self, script: Callable[[RunSpec], Script] = lambda spec: Script()) -> None:
        self.script = script
        self.launched: list[str] = []

    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        self.launched.append(spec.run_id)
        return ScriptedRun(spec, emit, wake, self.script(spec))
