"""The training loop every workload runs under, emitting events as it goes.

Used by the child process (``qtui.engine.child``) and by the in-process thread
mode alike, so both measure the same thing.  ``train_s`` covers the training
loop only (after imports, model and data construction; before evaluation);
``core_s`` is the process CPU time over that same span, and ``minor_faults`` /
``major_faults`` the page faults the process took in it (``getrusage``: issue 24
asks whether a forked child pays copy-on-write faults a plain script does not).
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from qtui.core.config import RunSpec
from qtui.core.events import (
    Batch,
    Epoch,
    Event,
    Metric,
    Phases,
    QuantumTruth,
    RunFailed,
    RunFinished,
    RunStarted,
    Validation,
)

if TYPE_CHECKING:
    from qtui.engine.device_truth import Truth
    from qtui.engine.phases import PhaseTimer
    from qtui.engine.warnings_capture import WarningCounter
    from qtui.engine.workload import Workload, WorkloadContext

Emit = Callable[[Event], None]


class Cancelled(Exception):
    """Raised inside the loop when the thread-mode runner is asked to stop."""


def package_versions() -> dict[str, str]:
    """The installed versions of the packages a run's figures depend on (a fresh copy)."""
    return dict(_read_versions())


@lru_cache(maxsize=1)
def _read_versions() -> dict[str, str]:
    """Read once per process (~9 ms of metadata look-ups): the fork server reads them
    after its imports, so a forked run's start does not, and reports the versions of
    the code it runs, which is the server's (a later ``pip install`` reaches the
    next server only)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in (
        "qtui",
        "torch",
        "pennylane",
        "pennylane-lightning",
        "numpy",
        "scikit-learn",
        "textual",
        "rich",
        "psutil",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def threadpools() -> list[dict[str, Any]]:
    """Which OpenMP/BLAS pools are loaded and their sizes (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "num_threads", "prefix", "version", "filepath")
    return [{k: info.get(k) for k in keep} for info in threadpool_info()]


def apply_thread_limit(threads: int) -> None:
    """Pin OpenMP/BLAS pools; must run before torch or pennylane is imported."""
    if threads > 0:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)


#: Warnings about the environment found before the run's warning counter is installed
#: (``limit_loaded_pools``); ``flush_env_notes`` makes them the run's own warnings.
_ENV_NOTES: list[str] = []


def flush_env_notes() -> None:
    """Issue the queued environment warnings, once, as the run's warnings (its counter
    must be installed): they reach every view with the run's other warnings."""
    import warnings

    notes = list(_ENV_NOTES)
    _ENV_NOTES.clear()
    for note in notes:
        warnings.warn(note, RuntimeWarning, stacklevel=2)


def _env_warning(message: str) -> None:
    """A bad environment variable read during the run: one of the run's warnings."""
    import warnings

    warnings.warn(message, RuntimeWarning, stacklevel=3)


def limit_loaded_pools(threads: int) -> None:
    """Size the OpenMP/BLAS pools of libraries that are loaded already (a forked run).

    A fork server loads torch and numpy before the run's ``--threads`` is known,
    with OpenBLAS at one thread (``OPENBLAS_NUM_THREADS=1``: OpenBLAS starts its
    pool when loaded, and a process must have no threads when it forks).  So here
    every pool is set to ``threads`` (threadpoolctl), or, for 0, OpenBLAS is given
    back the size it would have chosen itself from the run's environment (a value that
    is not ASCII digits is skipped, with a warning that ``flush_env_notes`` issues).
    """
    from threadpoolctl import threadpool_limits

    from qtui.core.env import env_int

    if threads > 0:
        threadpool_limits(limits=threads)
        return
    default = 0
    for var in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        value = env_int(var, 0, warn=_ENV_NOTES.append)
        if value > 0:
            default = value
            break
    if not default:
        default = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threadpool_limits(limits=default, user_api="blas")


def run_training(
    spec: RunSpec,
    emit: Emit,
    should_stop: Callable[[], bool] = lambda: False,
    settle_heap: bool = False,
) -> bool:
    """Build the workload and train it.  Returns True when it finished.

    ``settle_heap`` (a run in its own process): collect and freeze the heap just
    before training starts (``qtui.engine.heap``).

    Exceptions from the workload become a ``run_failed`` event (and False);
    a stop request raises ``Cancelled`` out of the loop to the caller.
    """
    from qtui.engine.warnings_capture import WarningCounter

    counter = WarningCounter(spec.run_id, emit)
    counter.install()
    try:
        flush_env_notes()
        return _run(spec, emit, should_stop, counter, settle_heap)
    except Cancelled:
        raise
    except BaseException as exc:  # noqa: BLE001
        # boundary: the user's code may raise anything; the run_failed event below
        # records its type, message and traceback.
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        emit(
            RunFailed(
                run_id=spec.run_id,
                exc_type=type(exc).__name__,
                message=str(exc),
                traceback=traceback.format_exc(),
            )
        )
        return False
    finally:
        counter.flush()
        counter.uninstall()
        for watcher in ("qtui.engine.device_truth", "qtui.engine.qnode_time"):
            if watcher in sys.modules:
                sys.modules[watcher].watch(None)


#: Loaded inside the import window, in this order, so ``import_s`` covers them and ``build_s`` does not.
_LIBRARIES = (
    "numpy", "pennylane", "torch",
    "qtui.engine.device_truth", "qtui.engine.qnode_time", "qtui.engine.phases", "qtui.engine.workload",
)


class _Built(NamedTuple):
    """What setup hands the training loop."""

    workload: Workload
    ctx: WorkloadContext
    truth: Truth
    phases: PhaseTimer
    import_s: float
    build_s: float


class _Measured(NamedTuple):
    """The measured window once training ends (validation time taken out)."""

    train_s: float
    core_s: float
    steps: int
    foreign: bool  # the circuits ran elsewhere, and the run allows it
    faults: tuple[int, int] | None  # (minor, major) page faults; None without getrusage


def page_faults() -> tuple[int, int] | None:
    """This process's (minor, major) page faults so far: all its threads (``RUSAGE_SELF``);
    None where there is no ``getrusage`` (Windows).  A call costs ~1 µs: window edges only."""
    try:
        import resource
    except ImportError:
        return None
    use = resource.getrusage(resource.RUSAGE_SELF)
    return int(use.ru_minflt), int(use.ru_majflt)


def _less(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    """``a - b`` per count (None when either is)."""
    return None if a is None or b is None else (a[0] - b[0], a[1] - b[1])


def _run(
    spec: RunSpec,
    emit: Emit,
    should_stop: Callable[[], bool],
    counter: WarningCounter,
    settle_heap: bool = False,
) -> bool:
    """Set up, train, evaluate and report one run, each step in the order its events go out."""
    built = _build(spec, _import_libraries(spec.params.threads))
    emit(_started(spec, built))
    loop = _TrainingLoop(spec, emit, should_stop, built)
    loop.start(settle_heap)
    loop.run_epochs()
    measured = loop.stop()
    accuracy, metrics = _evaluate(built.workload, loop.step_limit)
    counter.flush()
    emit(loop.finished(measured, accuracy, metrics, counter.total))
    return True


def _import_libraries(threads: int) -> float:
    """Import torch, PennyLane and the engine's child side under the run's thread
    limit (it must be set before they load); returns the seconds taken (``import_s``)."""
    import importlib

    t_import = time.perf_counter()
    apply_thread_limit(threads)
    for name in _LIBRARIES:
        importlib.import_module(name)
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    torch.set_warn_always(True)  # count every complex->real cast, not the first only
    return time.perf_counter() - t_import


def _build(spec: RunSpec, import_s: float) -> _Built:
    """Seed, build and check the workload (``build_s``), with device truth watching
    its device classes from before its modules load."""
    import numpy as np
    import torch

    from qtui.engine import device_truth, qnode_time
    from qtui.engine.phases import PhaseTimer, every_from_env
    from qtui.engine.workload import WorkloadContext, check_workload, load_builder

    p = spec.params
    device_truth.install()  # before the workload's modules load: every device class
    qnode_time.install()
    t_build = time.perf_counter()
    builder = load_builder(p.workload, spec.workload_path)
    torch.manual_seed(p.seed)
    np.random.seed(p.seed)
    ctx = WorkloadContext(device=spec.device, diff_method=spec.diff_method, params=p)
    wl = check_workload(builder(ctx), p.workload)
    build_s = time.perf_counter() - t_build
    truth = device_truth.Truth()
    clock = qnode_time.QNodeClock()
    return _Built(wl, ctx, truth, PhaseTimer(truth, every_from_env(warn=_env_warning), clock), import_s, build_s)


def _started(spec: RunSpec, built: _Built) -> RunStarted:
    """The ``run_started`` event: what was built, where, and what setup cost."""
    wl, ctx = built.workload, built.ctx
    return RunStarted(
        run_id=spec.run_id,
        spec=spec.to_dict(),
        pid=os.getpid(),
        host=socket.gethostname(),
        versions=package_versions(),
        resolved_diff_method=ctx.resolved_diff_method or spec.diff_method,
        split_batch=ctx.split_batch,
        batches_per_epoch=wl.batches_per_epoch,
        threadpools=threadpools(),
        import_s=built.import_s,
        build_s=built.build_s,
        params_used=None if wl.params_used is None else sorted(set(wl.params_used)),
    )


def _evaluate(wl: Workload, step_limit: int) -> tuple[float | None, dict[str, dict[str, Any]]]:
    """``evaluate``'s accuracy and metrics after training; none for a step-limited run.

    A step-limited run (a sweep point) measures time per step; its accuracy after a
    few steps means nothing, and evaluating the whole data set took longer than
    its measured steps (the forum's 200 samples on lightning: ~1.3 s for 0.4 s).
    """
    from qtui.engine.workload import normalise_metrics

    if wl.evaluate is None or step_limit:
        return None, {}
    wl.model.eval()
    return normalise_metrics(wl.evaluate(wl.model))


class _TrainingLoop:
    """The epochs of one run, and the counters that outlive an epoch.

    ``_epoch`` holds the per-step loop: it reads these counters into locals and
    writes them back when the epoch ends, so a step pays for no attribute
    lookups or calls that the loop did not make when it was one function.
    """

    def __init__(self, spec: RunSpec, emit: Emit, should_stop: Callable[[], bool], built: _Built) -> None:
        p = spec.params
        wl = built.workload
        self.spec, self.emit, self.should_stop = spec, emit, should_stop
        self.wl, self.ctx, self.truth, self.phases = wl, built.ctx, built.truth, built.phases
        self.per_step_scheduler = wl.scheduler is not None and wl.scheduler_step == "step"
        self.step_limit = p.warmup + p.steps if p.steps > 0 else 0
        self.epochs = wl.epochs if self.step_limit == 0 else 10**9
        self.epoch_losses: list[float] = []
        self.validation_losses: list[float] = []
        self.paused_s = self.paused_cpu = 0.0  # validation time, kept out of train_s and core_s
        self.step = 0
        self.last_loss = float("nan")
        # Step-limited runs (sweeps) report the mean loss over the measured steps;
        # whole-epoch runs the mean of the last epoch (qtui.analysis.fold.LOSS_KINDS).
        self.measured_loss_sum, self.measured_loss_n = 0.0, 0
        # GPU correctness: with a CUDA tensor in the model (or the first batch), every
        # phase boundary waits for CUDA's queued kernels (cuda_sync_for); else none.
        self.sync = cuda_sync_for(wl.model)
        self.train_t0 = self.cpu_t0 = self.last_phase_emit = 0.0
        self.faults0: tuple[int, int] | None = None  # at the window's start
        self.paused_faults: tuple[int, int] | None = (0, 0)  # validation's, kept out
        self.final_phases: dict[str, float] = {}

    def start(self, settle_heap: bool) -> None:
        """Open the measured window (``train_s``, ``core_s``) and watch the devices."""
        from qtui.engine import device_truth, qnode_time

        if settle_heap:
            from qtui.engine.heap import pretouch, pretouch_asked, settle

            settle()  # no full collection of the imports inside the window (qtui.engine.heap)
            if pretouch_asked():
                pretouch()  # the fork's copy-on-write faults before the window, not in it
        self.faults0 = page_faults()
        self.train_t0 = time.perf_counter()
        self.cpu_t0 = time.process_time()
        self.last_phase_emit = self.train_t0
        self.wl.model.train()
        device_truth.watch(self.truth)  # off again in stop, or in run_training's finally
        qnode_time.watch(self.phases.clock)

    def run_epochs(self) -> None:
        """Every epoch, or until a step-limited run has made its steps."""
        for epoch in range(1, self.epochs + 1):
            running, n_batches = self._epoch(epoch)
            if n_batches:
                self._end_epoch(epoch, float(running / n_batches))  # the batches it actually ran
            if (self.step_limit and self.step >= self.step_limit) or n_batches == 0:
                break

    def _epoch(self, epoch: int) -> tuple[Any, int]:
        """One pass over the training data: (the summed batch losses, the batches run)."""
        import torch

        spec, emit, should_stop, ctx = self.spec, self.emit, self.should_stop, self.ctx
        run_id, warmup, step_limit = spec.run_id, spec.params.warmup, self.step_limit
        wl, truth, phases = self.wl, self.truth, self.phases
        qclock = phases.clock
        model, opt, custom_step = wl.model, wl.optimizer, wl.train_step
        scheduler, per_step_scheduler = wl.scheduler, self.per_step_scheduler
        step, last_loss = self.step, self.last_loss
        measured_loss_sum, measured_loss_n = self.measured_loss_sum, self.measured_loss_n
        train_t0, cpu_t0, paused_s = self.train_t0, self.cpu_t0, self.paused_s
        last_phase_emit = self.last_phase_emit
        perf = time.perf_counter
        sync = self.sync

        def clock() -> float:
            if sync is not None:
                sync()
            return perf()

        running = torch.zeros(())
        n_batches = 0
        it = iter(wl.train_data)
        while True:
            phases.begin_step()
            try:
                batch = next(it)
            except StopIteration:
                phases.reset_step()
                break
            if step == 0 and sync is None:
                sync = cuda_sync_for(batch)
            t1 = clock()
            q1, p1 = truth.quantum_s, qclock.seconds
            if custom_step is not None:
                # The workload's own step: qtui cannot tell its forward from its
                # backward, so only data, the whole step and its quantum share.
                loss = custom_step(model, batch)
                if per_step_scheduler:
                    scheduler.step()
                t4 = clock()
                q4, p4 = truth.settle(), qclock.settle()
                phases.add_whole_step(t4 - t1, q4 - q1, p4 - p1)
                loss = loss.detach() if isinstance(loss, torch.Tensor) else torch.tensor(float(loss))
            else:
                assert opt is not None  # check_workload
                opt.zero_grad()
                loss = wl.batch_loss(model, batch)
                t2 = clock()
                q2, p2 = truth.quantum_s, qclock.seconds
                loss.backward()
                t3 = clock()
                q3, p3 = truth.settle(), qclock.settle()
                opt.step()
                if per_step_scheduler:
                    scheduler.step()
                t4 = clock()
                phases.add_step(t2 - t1, t3 - t2, q2 - q1, q3 - q2, p2 - p1, p3 - p2)
            running = running + loss.detach()
            n_batches += 1
            step += 1
            last_loss = float(loss.detach())
            if step_limit and step > warmup:
                measured_loss_sum += last_loss
                measured_loss_n += 1
            emit(
                Batch(
                    run_id=run_id,
                    epoch=epoch,
                    batch=n_batches,
                    loss=last_loss,
                    step=step,
                    elapsed_s=t4 - train_t0 - paused_s,
                )
            )
            if step == 1:
                _check_device(spec, truth, ctx.resolved_diff_method)  # fail fast
            if step_limit and step == warmup:
                # Warm-up done: measure from here.
                self.faults0 = page_faults()
                train_t0, cpu_t0 = perf(), time.process_time()
                phases.reset()
                truth.reset_counts()
            if should_stop():
                raise Cancelled()
            if t4 - last_phase_emit > 1.0 and phases.enabled:
                last_phase_emit = t4
                emit(Phases(run_id=run_id, seconds=phases.seconds(t4 - train_t0 - paused_s), steps=step))
            if step_limit and step >= step_limit:
                break
        self.step, self.last_loss, self.sync = step, last_loss, sync
        self.measured_loss_sum, self.measured_loss_n = measured_loss_sum, measured_loss_n
        self.train_t0, self.cpu_t0, self.last_phase_emit = train_t0, cpu_t0, last_phase_emit
        return running, n_batches

    def _end_epoch(self, epoch: int, mean: float) -> None:
        """Record the epoch's mean loss, step a per-epoch scheduler, validate."""
        self.epoch_losses.append(mean)
        scheduler = self.wl.scheduler
        if scheduler is not None and not self.per_step_scheduler:
            scheduler.step()
        self.emit(
            Epoch(
                run_id=self.spec.run_id, epoch=epoch, mean_loss=mean,
                elapsed_s=time.perf_counter() - self.train_t0 - self.paused_s,
            )
        )
        if self.wl.validation_data is not None and not self.step_limit:
            self._validate_epoch(epoch)

    def _validate_epoch(self, epoch: int) -> None:
        """The validation loss, its time paused out of ``train_s`` and ``core_s``."""
        from qtui.engine import device_truth

        f0 = page_faults()
        v0, c0 = time.perf_counter(), time.process_time()
        device_truth.watch(None)  # validation is not training: not counted
        v_loss = _validate(self.wl, self.wl.model)
        device_truth.watch(self.truth)
        self.paused_s += time.perf_counter() - v0
        self.paused_cpu += time.process_time() - c0
        paused = _less(page_faults(), f0)
        self.paused_faults = None if paused is None or self.paused_faults is None else (
            self.paused_faults[0] + paused[0], self.paused_faults[1] + paused[1])
        self.validation_losses.append(v_loss)
        self.emit(Validation(run_id=self.spec.run_id, epoch=epoch, loss=v_loss))

    def stop(self) -> _Measured:
        """Close the measured window; the last device check and phase totals."""
        train_s = time.perf_counter() - self.train_t0 - self.paused_s
        core_s = time.process_time() - self.cpu_t0 - self.paused_cpu
        faults = _less(_less(page_faults(), self.faults0), self.paused_faults)
        from qtui.engine import device_truth, qnode_time

        device_truth.watch(None)
        qnode_time.watch(None)
        spec = self.spec
        steps = self.step - spec.params.warmup if self.step_limit else self.step
        foreign = _check_device(spec, self.truth, self.ctx.resolved_diff_method)
        self.final_phases = self.phases.seconds(train_s)
        if self.phases.enabled:
            self.emit(Phases(run_id=spec.run_id, seconds=self.final_phases, steps=steps))
        return _Measured(train_s, core_s, steps, foreign, faults)

    def final_loss(self) -> float:
        """A step-limited run's mean over its measured steps, else the last epoch's mean."""
        if self.step_limit and self.measured_loss_n:
            return self.measured_loss_sum / self.measured_loss_n
        return self.epoch_losses[-1] if self.epoch_losses else self.last_loss

    def finished(
        self, measured: _Measured, accuracy: float | None, metrics: dict[str, dict[str, Any]], warnings: int
    ) -> RunFinished:
        """The ``run_finished`` event: the result of the run."""
        train_s, core_s, steps = measured.train_s, measured.core_s, measured.steps
        minor, major = measured.faults if measured.faults is not None else (None, None)
        return RunFinished(
            run_id=self.spec.run_id,
            accuracy=accuracy,
            train_s=train_s,
            final_loss=self.final_loss(),
            epoch_losses=self.epoch_losses,
            steps=steps,
            core_s=core_s,
            cores_in_use=core_s / train_s if train_s > 0 else 0.0,
            core_s_per_step=core_s / steps if steps else 0.0,
            peak_rss=0,  # filled in by the supervisor from the reaped child
            peak_threads=_thread_count(),
            phases=self.final_phases,
            warnings=warnings,
            threadpools=threadpools(),
            quantum=msgspec.convert(
                self.truth.report(steps, asked=self.spec.combo, foreign=measured.foreign), QuantumTruth
            ),
            cuda_sync=self.sync is not None,
            metrics=msgspec.convert(metrics, dict[str, Metric]),
            validation_losses=self.validation_losses,
            minor_faults=minor,
            major_faults=major,
        )


def _validate(wl: Any, model: Any) -> float:
    """The validation set's mean batch loss (no gradient, the model in eval mode)."""
    import torch

    total, n = 0.0, 0
    model.eval()
    try:
        with torch.no_grad():
            for batch in wl.validation_data:
                total += float(wl.batch_loss(model, batch))
                n += 1
    finally:
        model.train()
    return total / n if n else float("nan")


def _check_device(spec: RunSpec, truth: Truth, resolved: str) -> bool:
    """Did the circuits run elsewhere than the run's combination?  Raises
    ``ForeignDevice`` (the run fails, one line naming both) unless the run allows it."""
    from qtui.engine.device_truth import ForeignDevice

    reason = truth.mismatch(spec.device, spec.diff_method, resolved)
    if reason is None:
        return False
    if not spec.allow_foreign_device:
        raise ForeignDevice(reason)
    return True


def cuda_sync_for(*things: Any) -> Callable[[], None] | None:
    """``torch.cuda.synchronize`` when a tensor of ``things`` lives on a CUDA device, else None.

    ``things``: modules (their parameters and buffers), tensors, and batches of
    any nesting of lists, tuples and dicts.  CUDA runs kernels asynchronously: a
    clock read without a sync would charge a phase's kernels to a later phase.
    """
    import torch

    def tensors(x: Any) -> Iterator[Any]:
        if isinstance(x, torch.Tensor):
            yield x
        elif isinstance(x, torch.nn.Module):
            yield from x.parameters()
            yield from x.buffers()
        elif isinstance(x, dict):
            for v in x.values():
                yield from tensors(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                yield from tensors(v)

    if any(t.device.type == "cuda" for x in things for t in tensors(x)):
        return torch.cuda.synchronize
    return None


def _thread_count() -> int:
    """This process's threads now (0 where the OS will not say)."""
    import psutil

    try:
        return int(psutil.Process().num_threads())
    except psutil.Error:
        return 0
