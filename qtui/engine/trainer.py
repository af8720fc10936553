"""The training loop every workload runs under, emitting events as it goes.

Used by the child process (``qtui.engine.child``) and by the in-process thread
mode alike, so both measure the same thing.  ``train_s`` covers the training
loop only (after imports, model and data construction; before evaluation);
``core_s`` is the process CPU time over that same span.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

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
    from qtui.engine.warnings_capture import WarningCounter

Emit = Callable[[Event], None]


class Cancelled(Exception):
    """Raised inside the loop when the thread-mode runner is asked to stop."""


def package_versions() -> dict[str, str]:
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


def limit_loaded_pools(threads: int) -> None:
    """Size the OpenMP/BLAS pools of libraries that are loaded already (a forked run).

    A fork server loads torch and numpy before the run's ``--threads`` is known,
    with OpenBLAS at one thread (``OPENBLAS_NUM_THREADS=1``: OpenBLAS starts its
    pool when loaded, and a process must have no threads when it forks).  So here
    every pool is set to ``threads`` (threadpoolctl), or, for 0, OpenBLAS is given
    back the size it would have chosen itself from the run's environment.
    """
    from threadpoolctl import threadpool_limits

    if threads > 0:
        threadpool_limits(limits=threads)
        return
    default = 0
    for var in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            default = int(value)
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
        return _run(spec, emit, should_stop, counter, settle_heap)
    except Cancelled:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's code may raise anything
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
        if "qtui.engine.device_truth" in sys.modules:
            sys.modules["qtui.engine.device_truth"].watch(None)


def _run(
    spec: RunSpec,
    emit: Emit,
    should_stop: Callable[[], bool],
    counter: WarningCounter,
    settle_heap: bool = False,
) -> bool:
    p = spec.params
    t_import = time.perf_counter()
    apply_thread_limit(p.threads)
    import numpy as np
    import pennylane  # noqa: F401 - imported here so import_s covers it, not build_s
    import torch

    from qtui.engine import device_truth
    from qtui.engine.phases import PhaseTimer, every_from_env
    from qtui.engine.workload import (
        WorkloadContext,
        check_workload,
        load_builder,
        normalise_metrics,
    )

    if p.threads > 0:
        torch.set_num_threads(p.threads)
    torch.set_warn_always(True)  # count every complex->real cast, not the first only
    import_s = time.perf_counter() - t_import

    device_truth.install()  # before the workload's modules load: every device class
    t_build = time.perf_counter()
    builder = load_builder(p.workload, spec.workload_path)
    torch.manual_seed(p.seed)
    np.random.seed(p.seed)
    ctx = WorkloadContext(device=spec.device, diff_method=spec.diff_method, params=p)
    wl = check_workload(builder(ctx), p.workload)
    build_s = time.perf_counter() - t_build
    truth = device_truth.Truth()
    phases = PhaseTimer(truth, every_from_env())

    emit(
        RunStarted(
            run_id=spec.run_id,
            spec=spec.to_dict(),
            pid=os.getpid(),
            host=socket.gethostname(),
            versions=package_versions(),
            resolved_diff_method=ctx.resolved_diff_method or spec.diff_method,
            split_batch=ctx.split_batch,
            batches_per_epoch=wl.batches_per_epoch,
            threadpools=threadpools(),
            import_s=import_s,
            build_s=build_s,
            params_used=None if wl.params_used is None else sorted(set(wl.params_used)),
        )
    )

    model, opt, custom_step = wl.model, wl.optimizer, wl.train_step
    scheduler = wl.scheduler
    per_step_scheduler = scheduler is not None and wl.scheduler_step == "step"
    validation_losses: list[float] = []
    paused_s = paused_cpu = 0.0  # validation time, kept out of train_s and core_s
    step_limit = p.warmup + p.steps if p.steps > 0 else 0
    epochs = wl.epochs if step_limit == 0 else 10**9
    epoch_losses: list[float] = []
    step = measured_steps = 0
    last_loss = float("nan")
    # Step-limited runs (sweeps) report the mean loss over the measured steps;
    # whole-epoch runs the mean of the last epoch (qtui.analysis.fold.LOSS_KINDS).
    measured_loss_sum, measured_loss_n = 0.0, 0
    perf = time.perf_counter
    # GPU correctness: with a CUDA tensor in the model (or the first batch), every
    # phase boundary waits for CUDA's queued kernels (cuda_sync_for); else none.
    sync = cuda_sync_for(model)

    def clock() -> float:
        if sync is not None:
            sync()
        return perf()

    if settle_heap:
        from qtui.engine.heap import settle

        settle()  # no full collection of the imports inside the window (qtui.engine.heap)
    train_t0 = perf()
    cpu_t0 = time.process_time()
    last_phase_emit = train_t0
    model.train()
    device_truth.watch(truth)  # off again below, or in run_training's finally

    for epoch in range(1, epochs + 1):
        running = torch.zeros(())
        n_batches = 0
        it = iter(wl.train_data)
        while True:
            phases.begin_step()
            t0 = clock()
            try:
                batch = next(it)
            except StopIteration:
                phases.reset_step()
                break
            if step == 0 and sync is None:
                sync = cuda_sync_for(batch)
            t1 = clock()
            q1 = truth.quantum_s
            if custom_step is not None:
                # The workload's own step: qtui cannot tell its forward from its
                # backward, so only data, the whole step and its quantum share.
                loss = custom_step(model, batch)
                if per_step_scheduler:
                    scheduler.step()
                t4 = clock()
                q4 = truth.settle()
                phases.add_whole_step(t1 - t0, t4 - t1, q4 - q1)
                loss = loss.detach() if isinstance(loss, torch.Tensor) else torch.tensor(float(loss))
            else:
                assert opt is not None  # check_workload
                opt.zero_grad()
                loss = wl.batch_loss(model, batch)
                t2 = clock()
                q2 = truth.quantum_s
                loss.backward()
                t3 = clock()
                q3 = truth.settle()
                opt.step()
                if per_step_scheduler:
                    scheduler.step()
                t4 = clock()
                phases.add_step(t1 - t0, t2 - t1, t3 - t2, t4 - t3, q2 - q1, q3 - q2)
            running = running + loss.detach()
            n_batches += 1
            step += 1
            last_loss = float(loss.detach())
            if step_limit and step > p.warmup:
                measured_loss_sum += last_loss
                measured_loss_n += 1
            emit(
                Batch(
                    run_id=spec.run_id,
                    epoch=epoch,
                    batch=n_batches,
                    loss=last_loss,
                    step=step,
                    elapsed_s=t4 - train_t0 - paused_s,
                )
            )
            if step == 1:
                _check_device(spec, truth, ctx.resolved_diff_method)  # fail fast
            if step_limit and step == p.warmup:
                # Warm-up done: measure from here.
                train_t0, cpu_t0 = perf(), time.process_time()
                phases.reset()
                truth.reset_counts()
            if should_stop():
                raise Cancelled()
            if t4 - last_phase_emit > 1.0 and phases.enabled:
                last_phase_emit = t4
                emit(Phases(run_id=spec.run_id, seconds=phases.seconds, steps=step))
            if step_limit and step >= step_limit:
                break
        if n_batches:
            mean = float(running / n_batches)  # the batches this epoch actually ran
            epoch_losses.append(mean)
            if scheduler is not None and not per_step_scheduler:
                scheduler.step()
            emit(
                Epoch(
                    run_id=spec.run_id, epoch=epoch, mean_loss=mean,
                    elapsed_s=perf() - train_t0 - paused_s,
                )
            )
            if wl.validation_data is not None and not step_limit:
                v0, c0 = perf(), time.process_time()
                device_truth.watch(None)  # validation is not training: not counted
                v_loss = _validate(wl, model)
                device_truth.watch(truth)
                paused_s += perf() - v0
                paused_cpu += time.process_time() - c0
                validation_losses.append(v_loss)
                emit(Validation(run_id=spec.run_id, epoch=epoch, loss=v_loss))
        if (step_limit and step >= step_limit) or n_batches == 0:
            break

    train_s = perf() - train_t0 - paused_s
    core_s = time.process_time() - cpu_t0 - paused_cpu
    device_truth.watch(None)
    measured_steps = step - p.warmup if step_limit else step
    foreign = _check_device(spec, truth, ctx.resolved_diff_method)
    if phases.enabled:
        emit(Phases(run_id=spec.run_id, seconds=phases.seconds, steps=measured_steps))

    accuracy = None
    metrics: dict[str, dict[str, Any]] = {}
    # A step-limited run (a sweep point) measures time per step; its accuracy after a
    # few steps means nothing, and evaluating the whole data set took longer than
    # its measured steps (the forum's 200 samples on lightning: ~1.3 s for 0.4 s).
    if wl.evaluate is not None and not step_limit:
        model.eval()
        accuracy, metrics = normalise_metrics(wl.evaluate(model))
    counter.flush()

    emit(
        RunFinished(
            run_id=spec.run_id,
            accuracy=accuracy,
            train_s=train_s,
            final_loss=(
                measured_loss_sum / measured_loss_n
                if step_limit and measured_loss_n
                else (epoch_losses[-1] if epoch_losses else last_loss)
            ),
            epoch_losses=epoch_losses,
            steps=measured_steps,
            core_s=core_s,
            cores_in_use=core_s / train_s if train_s > 0 else 0.0,
            core_s_per_step=core_s / measured_steps if measured_steps else 0.0,
            peak_rss=0,  # filled in by the supervisor from the reaped child
            peak_threads=_thread_count(),
            phases=phases.seconds,
            warnings=counter.total,
            threadpools=threadpools(),
            quantum=msgspec.convert(
                truth.report(measured_steps, asked=spec.combo, foreign=foreign), QuantumTruth
            ),
            cuda_sync=sync is not None,
            metrics=msgspec.convert(metrics, dict[str, Metric]),
            validation_losses=validation_losses,
        )
    )
    return True


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
    try:
        import psutil

        return int(psutil.Process().num_threads())
    except Exception:  # noqa: BLE001
        return 0
