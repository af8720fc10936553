"""A ``qtui exec`` run: an unmodified training script, measured in the run's child.

*(child)*  Reached from ``qtui.engine.child.serve`` when ``spec.command`` is set,
in a forked or a spawned child alike, so the supervisor, its sampler (CPU, RSS,
threads, cores, contention), timeouts and cancel work as for any run.  What
happens here, in order:

1. torch and PennyLane are imported (``import_s``; a forked child has them
   already), the thread limit applied, every warning counted
   (``warnings_capture``) and PennyLane's devices watched (``device_truth``).
2. Hooks, none of which changes what the script computes:

   * ``qml.device(name, ...)`` records ``name`` and, with ``--device``, builds
     that device instead (same arguments);
   * ``QNode.__init__`` records the ``diff_method`` asked for and, with
     ``--diff-method``, replaces it (``qml.qnode`` builds QNodes through it);
   * **the loss rule**: every ``.backward()`` on a one-element tensor is a
     training step, its value the loss (a ``batch`` event; ``--no-loss-capture``
     turns it off).  ``torch.autograd.backward(t)`` called directly is not seen;
     an optimiser closure that calls ``.backward()`` several times per step
     (LBFGS) gives one step per call.  So is every ``step``/``step_and_cost`` of
     one of PennyLane's optimizers (``pl_optimizer_steps``: the autograd way of
     most demos), its cost the loss (``step`` has none);
   * ``qtui.log`` / ``qtui.epoch`` (``qtui.script_api``) get a sink;
   * file descriptors 1 and 2 are teed: everything the script (or C code in
     it) writes still goes where it went, and the last ``TAIL_LINES`` of each
     are kept.

3. The script runs as ``python script.py args`` would run it: ``runpy.run_path``
   as ``__main__``, ``sys.argv = [script, *args]``, ``sys.path[0]`` its folder,
   in the run's ``cwd``.  ``SystemExit`` gives the exit code as Python would
   (``None`` 0, an int, anything else printed and 1); an uncaught exception is
   printed by ``sys.excepthook`` from the script's own frame on (as Python prints
   it: no qtui or ``runpy`` frames) and is exit code 1.

4. ``script_ended`` (exit code, what was asked, the tails), then the terminal
   event: exit 0 → ``run_finished``; anything else → ``run_failed`` naming the
   exit code and the exception's text (else the last stderr line).  Both leave
   after the tees have passed on the script's last byte, so with ``qtui exec``
   (``RunSpec.show_output``: fds 1 and 2 are qtui's own) qtui's line about the
   run's end is printed after the script's output.

**train_s** is the script's own wall time: from its first line to its exit,
with torch and PennyLane already imported (so the same in a forked and a
spawned child), including whatever the script does besides training (data,
model, evaluation).  ``core_s`` is the process CPU time over that span,
``steps`` the training steps; without one the per-step figures are None (NaN for
``core_s_per_step``), and ``quantum.per_step_note`` says why (``NO_STEP``).
``quantum.foreign`` is true only when circuits ran elsewhere than an override
said (``--allow-foreign-device``); the script's own choice is not foreign.  Epochs are those the script marks with
``qtui.epoch()``; a script that marks none has one epoch, the whole run.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import msgspec

from qtui.core.config import SCRIPT_CHOICE, RunSpec
from qtui.core.events import (
    Batch,
    Epoch,
    Event,
    Logged,
    Metric,
    QuantumTruth,
    RunFailed,
    RunFinished,
    RunStarted,
    ScriptEnded,
    ScriptOutput,
)
from qtui.engine import pl_optimizer_steps

Emit = Callable[[Event], None]

#: Why a script run has no per-step figure (``quantum.per_step_note``).
NO_STEP = ("no training step seen: the script called neither .backward() "
           "nor a PennyLane optimizer's step")
#: Lines of the script's stdout and stderr kept in the run record.
TAIL_LINES = 50
#: Bytes kept per stream before cutting to lines.
TAIL_BYTES = 64 * 1024
#: The most of each stream kept in its output file: a script's log is KBs, and this
#: bounds what a runaway print loop leaves in the data folder per run and stream.
OUTPUT_LIMIT_BYTES = 64 * 1024**2
#: The streams' names, by file descriptor (the output files' suffixes).
STREAMS = {1: "stdout", 2: "stderr"}


class Tee(threading.Thread):
    """Fd ``fd`` goes through a pipe: every byte is passed on, the last ones kept, and
    the first ``limit`` written to ``keep`` as they come (the run's output file).

    The file is opened by the project's path rules (``open_output_file``: a regular
    file only, never a FIFO or a device, 0600) before the script starts, and written
    with plain ``write`` calls, so a run killed meanwhile leaves every byte written so
    far.  Past ``limit`` one line says the file was cut there (``cut_line``) and the
    rest goes on to the terminal and the tail only.  A file that cannot be made or
    written is given up, never the run: ``path`` is then "" (or it stops), ``note``
    says why.
    """

    def __init__(self, fd: int, keep: Path | None = None, limit: int = OUTPUT_LIMIT_BYTES) -> None:
        super().__init__(name=f"qtui-tee-{fd}", daemon=True)
        self.fd = fd
        self.buf = bytearray()
        self.limit = limit
        self.total = 0  # bytes the script wrote to this stream
        self.kept = 0  # of them, bytes in the file
        self.path = ""
        self.note = ""
        self._file: int | None = None
        if keep is not None:
            self._open(keep)
        self._saved = os.dup(fd)
        r, w = os.pipe()
        self._r = r
        os.dup2(w, fd)
        os.close(w)

    def _open(self, keep: Path) -> None:
        from qtui.core.paths import open_output_file

        try:
            keep.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            f = open_output_file(keep, private=True)
        except OSError as exc:  # FileRefused too: one line, the run goes on
            self.note = f"{keep.name} not kept: {_why(exc)}"
            return
        self._file = os.dup(f.fileno())
        f.close()
        self.path = str(keep)

    def cut_line(self) -> str:
        """The line ending a file cut at its limit (the stream's own bytes stop there)."""
        return (f"\n[qtui: cut here at {self.limit:,} bytes; the rest of the script's "
                f"{STREAMS.get(self.fd, 'output')} was not kept in this file]\n")

    def _keep(self, chunk: bytes) -> None:
        if self._file is None:
            return
        room = self.limit - self.kept
        part = chunk[:room] if room < len(chunk) else chunk
        try:
            _write_all(self._file, part)
            self.kept += len(part)
            if len(part) < len(chunk):
                _write_all(self._file, self.cut_line().encode())
                self._close_file()
        except OSError as exc:  # a full disk: the file stops, the run goes on
            self.note = f"{os.path.basename(self.path)} stopped after {self.kept:,} bytes: {_why(exc)}"
            self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.close(self._file)
            self._file = None

    def run(self) -> None:
        try:
            while True:
                chunk = os.read(self._r, 65536)
                if not chunk:
                    break
                with contextlib.suppress(OSError):
                    os.write(self._saved, chunk)
                self.total += len(chunk)
                self._keep(chunk)
                self.buf.extend(chunk)
                if len(self.buf) > TAIL_BYTES:
                    del self.buf[: len(self.buf) - TAIL_BYTES]
        except OSError:
            pass

    def stop(self) -> list[str]:
        """Put the fd back, read what is left (bounded: a helper may hold the pipe)."""
        os.dup2(self._saved, self.fd)  # our end of the pipe closes here
        self.join(timeout=1.0)
        os.close(self._saved)
        if not self.is_alive():
            self._close_file()
        if self.total > self.limit and self.path and not self.note:
            self.note = (f"{os.path.basename(self.path)} cut at {self.limit:,} bytes "
                         f"of {self.total:,}")
        text = bytes(self.buf).decode("utf-8", errors="replace")
        return text.splitlines()[-TAIL_LINES:]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _why(exc: OSError) -> str:
    """The OS's words for a failed open or write, on one line."""
    if exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _tees(spec: RunSpec) -> list[Tee]:
    """The tees of fds 1 and 2, keeping the script's output in ``spec.output_dir``
    (``<run id>.stdout``, ``.stderr``), or nowhere when it names none."""
    folder = Path(spec.output_dir) if spec.output_dir else None
    return [Tee(fd, folder / f"{spec.run_id}.{name}" if folder else None)
            for fd, name in STREAMS.items()]


class _Recorder:
    """The loss points, epochs and logged metrics of one script run (the script_api sink)."""

    def __init__(self, run_id: str, emit: Emit, t0: float) -> None:
        self.run_id = run_id
        self._emit = emit
        self.t0 = t0
        self.lock = threading.Lock()
        self.step = 0
        self.points = 0  # steps with a loss (``step`` of a PennyLane optimizer has none)
        self.epoch_no = 1
        self.batch = 0  # steps in this epoch
        self.in_epoch: list[float] = []
        self.epochs_marked = False  # the script called qtui.epoch(): its epochs are its own
        self.epoch_losses: list[float] = []
        self.last_loss = float("nan")
        self.logged_last: dict[str, float] = {}

    def loss(self, value: float | None) -> None:
        """One training step, with its loss (None: a step without one, as NaN)."""
        with self.lock:
            self.step += 1
            self.batch += 1
            if value is not None:
                self.points += 1
                self.in_epoch.append(value)
                self.last_loss = value
            self._emit(
                Batch(
                    run_id=self.run_id, epoch=self.epoch_no, batch=self.batch,
                    loss=float("nan") if value is None else value, step=self.step,
                    elapsed_s=time.perf_counter() - self.t0,
                )
            )

    # script_api.Sink -------------------------------------------------------------
    def log(self, metrics: dict[str, Any]) -> None:
        values = {str(k): _scalar(v) for k, v in metrics.items()}
        if "loss" in values:
            self.loss(values["loss"])
        with self.lock:
            self.logged_last.update(values)
            self._emit(
                Logged(run_id=self.run_id, step=self.step, values=values,
                       elapsed_s=time.perf_counter() - self.t0)
            )

    def epoch(self, loss: Any = None) -> None:
        with self.lock:
            self.epochs_marked = True
            if loss is not None:
                mean = _scalar(loss)
            elif self.in_epoch:
                mean = sum(self.in_epoch) / len(self.in_epoch)
            else:
                mean = float("nan")
            self._mark(mean)

    def _mark(self, mean: float) -> None:
        self.epoch_losses.append(mean)
        self._emit(Epoch(run_id=self.run_id, epoch=self.epoch_no, mean_loss=mean,
                         elapsed_s=time.perf_counter() - self.t0))
        self.epoch_no += 1
        self.batch = 0
        self.in_epoch = []

    def close(self) -> None:
        """A script that marked no epoch: the whole run is epoch 1."""
        with self.lock:
            if not self.epoch_losses and self.in_epoch:
                self._mark(sum(self.in_epoch) / len(self.in_epoch))


def _scalar(value: Any) -> float:
    try:
        return float(value.detach()) if hasattr(value, "detach") else float(value)
    except (TypeError, ValueError):
        return float("nan")


class _Asked:
    """What the script asked PennyLane for, and the overrides applied (``--device``...)."""

    def __init__(self, device: str, diff_method: str) -> None:
        self.device = device  # "" : the script's own choice
        self.diff_method = diff_method
        self.devices: dict[str, None] = {}
        self.diff_methods: dict[str, None] = {}


def _install_overrides(asked: _Asked) -> None:
    import inspect

    import pennylane as qml

    from qtui.engine.device_truth import method_name

    original_device = qml.device

    def device(name: Any, *args: Any, **kwargs: Any) -> Any:
        asked.devices[str(name)] = None
        return original_device(asked.device or name, *args, **kwargs)

    device.__wrapped__ = original_device  # type: ignore[attr-defined]
    qml.device = device

    cls = qml.QNode
    original_init = cls.__init__
    signature = inspect.signature(original_init)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        want = bound.arguments.get("diff_method", "best")
        asked.diff_methods[method_name(want)] = None
        if asked.diff_method:
            bound.arguments["diff_method"] = asked.diff_method
        original_init(*bound.args, **bound.kwargs)

    init.__wrapped__ = original_init  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[method-assign]


def _install_loss_capture(recorder: _Recorder) -> None:
    """The two ways a script trains: ``.backward()`` on a scalar (torch), and a step of
    one of PennyLane's optimizers (``pl_optimizer_steps``); each is a step of the run."""
    import torch

    pl_optimizer_steps.install()
    pl_optimizer_steps.watch(recorder.loss)
    original = torch.Tensor.backward

    def backward(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if self.numel() == 1 and not pl_optimizer_steps.in_step():
            recorder.loss(float(self.detach()))
        return result

    backward.__wrapped__ = original  # type: ignore[attr-defined]
    torch.Tensor.backward = backward  # type: ignore[method-assign]


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run_path(script: str, args: list[str]) -> tuple[int, str, str]:
    """Run the script as ``python script args``: (exit code, exception type, its text)."""
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return _exit_code(exc), "SystemExit", ""
    except BaseException as exc:  # noqa: BLE001 - boundary: the script's own error, printed and returned for run_failed
        tb = _from_script(exc.__traceback__, script)
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)  # Python prints exc's own
        return 1, type(exc).__name__, str(exc)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0, "", ""


def _from_script(tb: TracebackType | None, script: str) -> TracebackType | None:
    """The traceback from the script's first frame on, as ``python script`` prints it
    (without this function's and ``runpy``'s frames); None when the script ran no line
    (a ``SyntaxError``: Python prints its file, line and caret alone)."""
    path = os.path.abspath(script)
    t = tb
    while t is not None and t.tb_frame.f_code.co_filename != path:
        t = t.tb_next
    return t


def run_script(spec: RunSpec, emit: Emit) -> bool:
    """Run ``spec.command``; True when the script exited 0 (a ``run_finished``)."""
    from qtui.engine.warnings_capture import WarningCounter

    counter = WarningCounter(spec.run_id, emit)
    counter.install()
    try:
        from qtui.engine.trainer import flush_env_notes

        flush_env_notes()  # a bad OMP_NUM_THREADS met before the counter: the run's warning
        return _run(spec, emit, counter)
    except BaseException as exc:  # boundary: qtui's own setup failed: a run_failed event says so
        if isinstance(exc, KeyboardInterrupt):
            raise
        emit(RunFailed(run_id=spec.run_id, exc_type=type(exc).__name__, message=str(exc),
                       traceback=traceback.format_exc()))
        return False
    finally:
        counter.flush()
        counter.uninstall()
        if "qtui.engine.device_truth" in sys.modules:
            sys.modules["qtui.engine.device_truth"].watch(None)
        pl_optimizer_steps.watch(None)


def _run(spec: RunSpec, emit: Emit, counter: Any) -> bool:
    from qtui.engine.trainer import apply_thread_limit, package_versions, threadpools

    p = spec.params
    if spec.cwd:
        os.chdir(spec.cwd)
    t_import = time.perf_counter()
    apply_thread_limit(p.threads)
    import pennylane  # noqa: F401 - before the clock: train_s is the script's own time
    import torch

    from qtui import script_api
    from qtui.engine import device_truth

    if p.threads > 0:
        torch.set_num_threads(p.threads)
    torch.set_warn_always(True)
    device_truth.install()
    import_s = time.perf_counter() - t_import

    asked = _Asked(
        "" if spec.device == SCRIPT_CHOICE else spec.device,
        "" if spec.diff_method == SCRIPT_CHOICE else spec.diff_method,
    )
    _install_overrides(asked)
    emit(
        RunStarted(
            run_id=spec.run_id, spec=spec.to_dict(), pid=os.getpid(),
            host=socket.gethostname(), versions=package_versions(),
            threadpools=threadpools(), import_s=import_s, build_s=0.0,
        )
    )
    recorder = _Recorder(spec.run_id, emit, time.perf_counter())
    if spec.loss_capture:
        _install_loss_capture(recorder)
    script_api.sink = recorder
    truth = device_truth.Truth()
    tees = _tees(spec)
    if spec.output_dir:  # where the output is kept, before the script's first line
        out, err = tees
        emit(ScriptOutput(run_id=spec.run_id, stdout_path=out.path, stderr_path=err.path,
                          limit_bytes=OUTPUT_LIMIT_BYTES, note=_output_note(tees)))
    for t in tees:
        t.start()
    t0 = recorder.t0 = time.perf_counter()
    cpu0 = time.process_time()

    def finish(code: int, exc_type: str, exc_text: str) -> bool:
        device_truth.watch(None)
        pl_optimizer_steps.watch(None)
        script_api.sink = None
        return _finish(spec, emit, counter, recorder, truth, asked, tees, t0, cpu0,
                       code, exc_type, exc_text)

    device_truth.watch(truth)
    with _os_exit_ends_the_run(finish):
        code, exc_type, exc_text = _run_path(spec.command[0], list(spec.command[1:]))
    return finish(code, exc_type, exc_text)


@contextlib.contextmanager
def _os_exit_ends_the_run(finish: Callable[[int, str, str], bool]) -> Iterator[None]:
    """While the script runs, ``os._exit(code)`` ends the run as ``sys.exit(code)``
    would (many torch scripts end with it to skip a slow teardown): the run's end is
    recorded, then the process exits at once, as asked.  In a process the script
    forked (multiprocessing ends its children with ``os._exit``) it is the plain
    ``os._exit``: that process is not the run."""
    real_exit = os._exit
    me = os.getpid()
    ended = threading.Lock()

    def exit_hook(status: int) -> NoReturn:
        if os.getpid() == me and ended.acquire(blocking=False):
            ok = False
            try:
                sys.stdout.flush()
                sys.stderr.flush()
                ok = finish(int(status), "ExitCode" if status else "", "")
            except BaseException:  # noqa: BLE001 - boundary: on the run's stderr; exit code 1 says the end was not recorded
                traceback.print_exc()
            finally:
                real_exit(0 if ok else 1)  # whatever happened: the script asked to exit now
        real_exit(status)

    os._exit = exit_hook
    try:
        yield
    finally:
        os._exit = real_exit


def _finish(
    spec: RunSpec, emit: Emit, counter: Any, recorder: _Recorder, truth: Any, asked: _Asked,
    tees: list[Tee], t0: float, cpu0: float, code: int, exc_type: str, exc_text: str,
) -> bool:
    """The run's end once the script has ended (returned, raised, exited): its
    ``script_ended``, then ``run_finished`` or ``run_failed``; True when finished."""
    from qtui.engine.trainer import threadpools

    train_s = time.perf_counter() - t0
    core_s = time.process_time() - cpu0
    stdout_tail, stderr_tail = (t.stop() for t in tees)
    out, err = tees
    recorder.close()
    counter.flush()
    emit(
        ScriptEnded(
            run_id=spec.run_id, exit_code=code, command=list(spec.command),
            asked_devices=list(asked.devices), asked_diff_methods=list(asked.diff_methods),
            device_override=asked.device, diff_method_override=asked.diff_method,
            stdout_tail=stdout_tail, stderr_tail=stderr_tail, loss_points=recorder.points,
            epochs_marked=recorder.epochs_marked, stdout_bytes=out.total, stderr_bytes=err.total,
            output_note=_output_note(tees),
        )
    )
    if code != 0:
        message = _failure(code, exc_type, exc_text, stderr_tail)
        emit(RunFailed(run_id=spec.run_id, exc_type=exc_type or "ExitCode", message=message,
                       traceback="\n".join(stderr_tail) or exc_text))
        return False
    mismatch = _mismatch(truth, asked)
    if mismatch and not spec.allow_foreign_device:
        emit(RunFailed(run_id=spec.run_id, exc_type="ForeignDevice", message=mismatch,
                       traceback=""))
        return False
    steps = recorder.step
    # Foreign only when circuits ran elsewhere than an override said (and that is
    # allowed); the script's own choice is recorded under what ran (the summary).
    foreign = bool(mismatch)
    overridden = spec.combo if asked.device or asked.diff_method else ""
    report = truth.report(steps, asked=overridden, foreign=foreign)
    report["per_step_note"] = "" if steps else NO_STEP
    emit(
        RunFinished(
            run_id=spec.run_id,
            # qtui.log(accuracy=...) is the run's accuracy (a fraction, as a workload's).
            accuracy=recorder.logged_last.get("accuracy"),
            train_s=train_s,
            final_loss=recorder.epoch_losses[-1] if recorder.epoch_losses else recorder.last_loss,
            epoch_losses=list(recorder.epoch_losses),
            steps=steps,
            core_s=core_s,
            cores_in_use=core_s / train_s if train_s > 0 else 0.0,
            core_s_per_step=core_s / steps if steps else float("nan"),  # none: "—"
            peak_rss=0,  # filled in by the supervisor from the reaped child
            peak_threads=_thread_count(),
            warnings=counter.total,
            threadpools=threadpools(),
            quantum=msgspec.convert(report, QuantumTruth),
            metrics={k: Metric(value=v, higher_is_better=higher_is_better(k))
                     for k, v in recorder.logged_last.items() if k != "loss"},
        )
    )
    return True


def _output_note(tees: list[Tee]) -> str:
    """What became of the output files when not all of the output is in them, or ""."""
    return "; ".join(t.note for t in tees if t.note)


def _failure(code: int, exc_type: str, exc_text: str, stderr_tail: list[str]) -> str:
    """Why a script failed, in one line: its uncaught exception's text (its type is
    the event's ``exc_type``), else its last stderr line, with the exit code."""
    if exc_type not in ("", "SystemExit", "ExitCode") and exc_text.strip():
        return f"{exc_text.strip()} (the script exited with code {code})"
    last = next((line for line in reversed(stderr_tail) if line.strip()), "")
    return f"the script exited with code {code}" + (f": {last.strip()}" if last else "")


#: Words in a logged metric's name that say lower is better (``loss``, ``val_mse``...).
LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "perplexity", "time")


def higher_is_better(name: str) -> bool:
    """A ``qtui.log`` metric's direction, from its name: lower is better for a loss or
    an error (``LOWER_IS_BETTER``), higher otherwise (accuracy, F1...)."""
    low = name.lower()
    return not any(word in low for word in LOWER_IS_BETTER)


def _thread_count() -> int:
    import psutil

    try:
        return int(psutil.Process().num_threads())
    except psutil.Error:  # cannot read /proc: the threads Python knows of
        return threading.active_count()


def _mismatch(truth: Any, asked: _Asked) -> str | None:
    """Circuits that ran elsewhere than ``--device``/``--diff-method`` said (one line)."""
    bad = [
        (d, m) for d, m in truth.ran
        if (asked.device and d != asked.device)
        or (asked.diff_method and asked.diff_method != "best" and m != asked.diff_method)
    ]
    if not bad:
        return None
    want = "+".join([asked.device or "(the script's device)",
                     asked.diff_method or "(the script's method)"])
    ran = ", ".join(f"{d}+{m}" for d, m in truth.ran)
    return f"asked for {want}, circuits ran on {ran}"
