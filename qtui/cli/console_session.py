"""Headless sessions: live progress with rich, a hyperfine-style table at the end.

``run_session`` drives a ``Supervisor`` from a worker thread while the main
thread shows progress and handles Ctrl-C (and SIGTERM): the first one cancels
every run, and the session still prints the table and saves what finished.
Everything shown comes from ``qtui.analysis.fold.SessionSummary``, the same fold of
the event stream the TUI and the exporters use.

No torch or pennylane here: this runs in the CLI process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from qtui.analysis.fold import RunRecord, SessionSummary
from qtui.analysis.outcomes import describe_error
from qtui.analysis.predictions import with_predictions
from qtui.analysis.summary_builder import document
from qtui.core import end_notice, units
from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.core.job_words import job_line, jobs_tally
from qtui.core.parameters import combo_parameters
from qtui.core.parameters import run_label as label_of_run
from qtui.core.safe_text import one_line, visible
from qtui.core.summary_schema import Summary
from qtui.core.units import cores as fmt_cores
from qtui.core.units import loss as fmt_loss
from qtui.core.units import memory as fmt_bytes
from qtui.core.units import percent as fmt_percent
from qtui.core.units import seconds as fmt_seconds
from qtui.engine.event_log import moved_to
from qtui.report.analysis_report import print_analysis
from qtui.report.console_report import exit_reason, print_report
from qtui.session.control import SessionController
from qtui.store.summary_file import SummaryFile

EXIT_OK = 0
EXIT_RUNS_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_HANGUP = 129
#: Signals that cancel the session and keep what finished: Ctrl-C, kill, a closed terminal.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: While some cluster job is pending, where every job stands, this often (issue 22, item 2):
#: a queue can hold a job for hours, and silence reads as a hang.
JOBS_EVERY_S = 30.0


# --- one-line texts (the figures themselves come from qtui.core.units) -----------------------


def run_label(rec: RunRecord) -> str:
    """``device+method #k`` (k = 1-based repeat), as the one-line reasons say it."""
    return label_of_run(combo_parameters(rec.spec), rec.spec.get("repeat_index"))


def outcome_text(rec: RunRecord) -> str:
    """One line saying how a run that did not finish ended."""
    return describe_error(rec.error_record(), rec.state) or rec.state


# --- live progress --------------------------------------------------------------------

#: The events that print a line of their own; every other one is only folded (the
#: batches, ~100 a second for the forum model, used to build the line's head each).
_SAID = frozenset({"run_started", "run_finished", "run_failed", "run_crashed", "run_timed_out",
                   "run_cancelled", "job_state"})


class Progress:
    """Thread-safe progress state; ``on_event`` runs on the supervisor's thread."""

    def __init__(
        self, specs: list[RunSpec], console: Console, live: bool,
        refused: Callable[[], str | None] = lambda: None,
        jobs_every_s: float | None = None,
    ) -> None:
        self.summary = SessionSummary()
        self.order = [s.run_id for s in specs]
        self.total = len(specs)
        self.console = console
        self.live = live
        self.lock = threading.Lock()
        self.current: str | None = None
        self.t_run: float | None = None
        self._job_said: dict[str, str] = {}  # run_id -> the job line printed last
        self.refused = refused  # why a cluster refused the submission: said once, at the end
        self.jobs_every_s = jobs_every_s  # a cluster session's jobs line (None: local runs)
        self._t0 = time.monotonic()
        self._jobs_at = self._t0  # when the jobs line was last due

    def index(self, run_id: str) -> int:
        return self.order.index(run_id) + 1 if run_id in self.order else 0

    def on_event(self, event: ev.Event) -> None:
        with self.lock:
            rec = self.summary.apply(event)
            if isinstance(event, ev.RunQueued) and event.run_id not in self.order:
                self.order.append(event.run_id)  # a planner's run (--repeat auto, a sweep's size)
                self.total = len(self.order)
        if rec is None:
            if isinstance(event, ev.LogNote):
                self._print(f"note: {event.message}", style="yellow")
            return
        if event.type not in _SAID:
            return  # a batch, a sample, an epoch: the live line reads them from the fold
        i = self.index(rec.run_id)
        head = f"[{i}/{self.total}] {run_label(rec)}"
        if isinstance(event, ev.RunStarted):
            with self.lock:
                self.current, self.t_run = rec.run_id, time.monotonic()
            extra = []
            if event.resolved_diff_method and event.resolved_diff_method != rec.diff_method:
                extra.append(f"best → {event.resolved_diff_method}")
            if event.split_batch:
                extra.append("batch split")
            note = f" ({', '.join(extra)})" if extra else ""
            self._print(f"{head}: started{note}, imports {event.import_s:.1f} s")
        elif isinstance(event, ev.RunFinished):
            self._clear(rec.run_id)
            self._print(
                f"{head}: finished in {fmt_seconds(event.train_s)},"
                f" loss {fmt_loss(event.final_loss)}, accuracy {fmt_percent(event.accuracy)},"
                f" peak RSS {fmt_bytes(event.peak_rss)}, {fmt_cores(event.cores_in_use)} cores",
                style="green",
            )
        elif event.type in ("run_failed", "run_crashed", "run_timed_out", "run_cancelled"):
            self._clear(rec.run_id)
            if not self.refused():  # not one line per run for a refused submission
                self._print(f"{head}: {outcome_text(rec)}", style="red")
        elif isinstance(event, ev.JobState):
            # the scheduler's word on every change (the executor sends changes only):
            # PENDING with its reason, RUNNING on a node, REQUEUED, the end
            line = job_line(rec.job)
            if line and self._job_said.get(rec.run_id) != line:  # not again for the node's info
                self._job_said[rec.run_id] = line
                self._print(f"{head}: {line}", style="dim")

    def tick(self, now: float) -> None:
        """Every ``jobs_every_s`` while some job is pending: one line with where every
        unfinished job stands, ``jobs: 1 RUNNING · 3 PENDING (Priority), 2 done;
        1 min 30 s since submission`` (the state changes have their own lines)."""
        if self.jobs_every_s is None or now - self._jobs_at < self.jobs_every_s:
            return
        self._jobs_at = now
        with self.lock:
            runs = list(self.summary.runs.values())
            active = [r.job for r in runs if r.state in ("queued", "running")]
            done = len(runs) - len(active)
        if not any(str(j.get("state") or "") == "PENDING" for j in active):
            return
        tally = jobs_tally(active)
        self._print(
            f"jobs: {tally}" + (f", {done} done" if done else "")
            + f"; {units.wait(now - self._t0)} since submission",
            style="dim",
        )

    def _clear(self, run_id: str) -> None:
        with self.lock:
            if self.current == run_id:
                self.current = None

    def _print(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(visible(text), style=style or ""), highlight=False)

    def __rich__(self) -> RenderableType:
        with self.lock:
            rec = self.summary.runs.get(self.current) if self.current else None
            done = sum(
                1 for r in self.summary.runs.values() if r.state not in ("queued", "running")
            )
            if rec is None:
                return Text(f"{done}/{self.total} runs done", style="dim")
            s = rec.last_sample
            bpe = int(rec.started.get("batches_per_epoch") or 0)
            epochs = int(rec.spec.get("params", {}).get("epochs", 0) or 0)
            elapsed = time.monotonic() - (self.t_run or time.monotonic())
            line = Text()
            line.append(f"run {self.index(rec.run_id)}/{self.total} ", style="bold")
            line.append(visible(run_label(rec)), style="cyan")
            line.append(f"  epoch {rec.epoch}/{epochs or '?'}")
            line.append(f"  batch {rec.batch}/{bpe or '?'}")
            line.append(f"  last batch loss {fmt_loss(rec.last_loss)}")
            line.append(f"  {elapsed:.1f} s")
            res = Text("  ")
            res.append(f"RSS {fmt_bytes(s.get('rss'))}  threads {s.get('threads', '-')}")
            res.append(f"  cores in use {fmt_cores(s.get('cores_in_use'))}")
            percpu = s.get("percpu") or []
            if percpu:
                res.append("  cpu ", style="dim")
                for p in percpu[:48]:
                    res.append(_bar(float(p)), style="green" if p < 70 else "yellow")
            return Group(line, res)


def _bar(pct: float) -> str:
    blocks = " ▁▂▃▄▅▆▇█"
    return blocks[min(8, max(0, round(pct / 12.5)))]


# --- saving -----------------------------------------------------------------------------


# --- the session ------------------------------------------------------------------------


@contextlib.contextmanager
def _signals(on_signal: Any) -> Iterator[None]:
    """Route SIGINT/SIGTERM/SIGHUP to ``on_signal`` while the session runs (main thread only).

    SIGHUP (the SSH connection or terminal closed) is handled like SIGTERM: the
    runs are cancelled, the cancel is recorded, and the summary is written.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in _STOP_SIGNALS}
    for s in saved:
        signal.signal(s, on_signal)
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def _with_history(on_event: Any, err: Console) -> Any:
    """Tee events into the history database; a database problem never stops a run."""
    from qtui.session.control import history_enabled

    if not history_enabled():
        return on_event
    try:
        from qtui.store.history_db import HistoryDB, HistoryError, recording

        db = HistoryDB()
    except (HistoryError, OSError, sqlite3.Error) as exc:
        err.print(Text(f"qtui: warning: history is not recorded ({one_line(exc)})"), highlight=False)
        return on_event
    return recording(on_event, db)


def run_session(
    specs: list[RunSpec],
    *,
    refused: list[dict[str, Any]] | None = None,
    interval: float = 0.1,
    events_path: str | None = None,
    json_path: str | None = None,
    force: bool = False,
    argv: list[str] | None = None,
    out: Console | None = None,
    err: Console | None = None,
    planner: Any = None,
    executor: Any = None,
    session_id: str | None = None,
    renumber: bool = True,
    isolation: str = "process",
    predict: list[int] | None = None,
    jobs_every_s: float = JOBS_EVERY_S,
    bell: bool = True,
    bell_after_s: float = end_notice.LONG_SESSION_S,
) -> int:
    """Run ``specs``, show progress, print the table, save ``--json``; returns the exit code.

    ``executor`` (a cluster executor, ``qtui.cluster``) runs them instead of local
    children; it is closed here at the end.  A local one (a warm ``ProcessExecutor``
    a test suite shares) is the caller's: it serves the runs and stays open.
    Without one, ``isolation`` names the local executor
    (``qtui --isolation``): process (forked from a warm server), spawn or thread.  With jobs in flight, Ctrl-C asks
    whether to cancel them or leave them running (no terminal to ask: cancel);
    SIGTERM cancels them; SIGHUP (the terminal is gone) leaves them running, to be
    re-attached with ``qtui watch --jobs-dir``.
    """
    out = out or Console()
    err = err or Console(stderr=True)
    progress_ref: list[Progress] = []
    summary_file = (  # predictions (``qtui sweep --predict``) in the final summary only
        SummaryFile(json_path, lambda: document(progress_ref[0].summary)) if json_path else None
    )

    def on_event(e: ev.Event) -> None:
        progress_ref[0].on_event(e)
        if summary_file is not None:
            summary_file.on_event(e)  # rewritten after every run that ends

    cluster = executor is not None and hasattr(executor, "detach") and executor.name == "slurm"
    control = _controller(on_event, err, isolation, planner, executor, session_id)
    if renumber:
        specs = control.number(specs)  # the ids progress shows, before any event arrives
    # A script's own output (``qtui exec``) goes straight to this terminal: no live
    # region that it would write over (qtui's own lines still come, run by run).
    shows_output = not cluster and any(s.show_output for s in specs)
    progress = Progress(
        specs, err, err.is_terminal and not shows_output,
        refused=lambda: getattr(executor, "submission_error", None) if cluster else None,
        jobs_every_s=jobs_every_s if cluster else None,
    )
    progress_ref.append(progress)
    _announce(specs, err, refused, planner, executor if cluster else None, session_id)
    interrupts = _Interrupts(control, err, cluster)
    t_start = time.monotonic()
    _drive(
        control, specs, progress, interrupts,
        interval=interval, refused=refused or [], events_path=events_path, argv=argv,
    )
    if cluster:
        executor.close()  # cancels what is still in flight, unless left running
    elapsed = time.monotonic() - t_start
    if err.is_terminal and end_notice.wanted(elapsed, enabled=bell, after_s=bell_after_s):
        err.file.write(end_notice.sequence(end_notice.message(len(progress.summary.runs), elapsed)))
        err.file.flush()
    summary = progress.summary
    data = with_predictions(document(summary), predict)
    skipped = getattr(planner, "skipped", None)
    if skipped and "qubits" in data.sweep:  # sizes predicted over --max-memory/--max-step-time
        data.sweep["qubits"].skipped = list(skipped)
    code = EXIT_OK
    # The summary is written before anything that could fail (the report, an error).
    if summary_file is not None:
        code = _write_summary(summary_file, summary.session.get("session_id"), data, err, json_path)
    if control.error is not None:
        raise control.error
    refusal = progress.refused()
    if refusal:  # nothing was submitted, so nothing ran: the scheduler's words, once
        err.print(Text(one_line(f"qtui: error: {refusal}")), highlight=False, soft_wrap=True)
        return EXIT_RUNS_FAILED
    _print_results(data, out, planner)
    if events_path:  # or where it went on after a failed write (qtui.engine.event_log)
        written = moved_to(summary.notes) or events_path
        err.print(Text(f"Events written to {visible(written)}"), highlight=False)
    kept = output_folders(data)
    if kept:  # qtui exec: every line the scripts printed, not only the record's last 50
        err.print(Text(f"Script output kept in {one_line(', '.join(kept))}/ "
                       "(<run id>.stdout, .stderr)"), highlight=False, soft_wrap=True)
    if cluster:
        from qtui.cli.slurm_prompts import farewell, report_uncancelled

        report_uncancelled(executor, err)
        farewell(executor, err)
    return _exit_code(data, interrupts.received, code, bool(cluster and executor.detached), err)


def output_folders(data: Summary) -> list[str]:
    """The folders holding the ``qtui exec`` runs' output files, in run order (one per
    session: ``qtui.core.paths.script_output_dir``)."""
    folders: dict[str, None] = {}
    for run in data.runs:
        for path in (run.script.stdout_path, run.script.stderr_path) if run.script else ():
            if path:
                folders[os.path.dirname(path)] = None
    return list(folders)


def _controller(
    on_event: Callable[[ev.Event], None],
    err: Console,
    isolation: str,
    planner: Any,
    executor: Any,
    session_id: str | None,
) -> SessionController:
    """The session's controller, recording into the history database; only the
    supervisor options given are passed on (its defaults hold for the rest)."""
    options: dict[str, Any] = {}
    if planner is not None:
        options["planner"] = planner
    cluster = executor is not None and executor.name == "slurm"
    if cluster:
        options["executor"] = executor
    if session_id is not None:
        options["session_id"] = session_id
    return SessionController(
        on_event, isolation=isolation, record=lambda f: _with_history(f, err),
        supervisor_options=options or None, executor=None if cluster else executor,
    )


def _announce(
    specs: list[RunSpec],
    err: Console,
    refused: list[dict[str, Any]] | None,
    planner: Any,
    cluster_executor: Any,
    session_id: str | None,
) -> None:
    """Say what is about to run before the first event: the refused combinations,
    then the plan (``--repeat auto``, one at a time, or the cluster's jobs)."""
    if refused:
        err.print("Refused by PennyLane (not run):", style="bold")
        for item in refused:
            err.print(
                Text(visible(f"  {item['device']}+{item['diff_method']}: {item['reason']}")),
                highlight=False,
            )
    if planner is not None and hasattr(planner, "describe"):  # a sweep within its limits
        err.print(Text(visible(planner.describe())), highlight=False)
    elif planner is not None:
        p = planner.policy
        err.print(
            f"Running {len(specs)} combination(s) with --repeat auto: interleaved passes until "
            f"the 95 % interval of each mean is within {p.target_ci:.1%} (at most "
            f"{p.max_repeats} runs each), one run at a time.",
            highlight=False,
        )
    elif cluster_executor is None:
        err.print(f"Running {len(specs)} run(s), one at a time.", highlight=False)
    if cluster_executor is not None:
        from qtui.cli.slurm_prompts import announce

        announce(cluster_executor, specs, session_id, err)


class _Interrupts:
    """The stop signals a session received, and what each does to its runs.

    With cluster jobs in flight a Ctrl-C is not acted on in the handler: it is
    noted in ``ask`` and the main loop asks whether to cancel or leave them.
    """

    def __init__(self, control: SessionController, err: Console, cluster: bool) -> None:
        self.control = control
        self.err = err
        self.cluster = cluster
        self.received: list[int] = []
        self.ask: list[int] = []  # a Ctrl-C with cluster jobs in flight: the main loop asks

    def on_signal(self, signum: int, frame: Any) -> None:
        """The handler of every stop signal (``_signals``)."""
        received, ask, control = self.received, self.ask, self.control
        if self.cluster and not received and signum in (signal.SIGINT, signal.SIGHUP):
            if signum == signal.SIGHUP:  # nobody left to ask: the jobs go on
                received.append(signum)
                control.cancel_all(leave_running=True)
                return
            if not ask:
                ask.append(signum)
                return
        if not received:
            self.err.print(
                "\nInterrupted: cancelling runs (the table and --json keep what finished)...",
                style="yellow",
            )
        received.append(signum)
        control.cancel_all()

    def ask_if_pending(self, live: Live | None) -> None:
        """Ask about the jobs in flight if a Ctrl-C is waiting for an answer."""
        if self.ask and not self.received:
            from qtui.cli.slurm_prompts import ask_leave_or_cancel

            if live is not None:
                live.stop()
            leave = ask_leave_or_cancel(self.err)
            self.received.append(self.ask[0])
            self.control.cancel_all(leave_running=leave)


def _drive(
    control: SessionController,
    specs: list[RunSpec],
    progress: Progress,
    interrupts: _Interrupts,
    **start: Any,
) -> None:
    """Start the runs and wait for them on the main thread, with live progress on a
    terminal and the stop signals routed to ``interrupts``."""
    with _signals(interrupts.on_signal):
        live_ctx = (
            Live(progress, console=progress.console, refresh_per_second=4, transient=True)
            if progress.live
            else contextlib.nullcontext()
        )
        with live_ctx as live:
            control.start(specs, renumber=False, **start)
            while control.active:
                try:
                    control.wait(0.2)
                except KeyboardInterrupt:  # when no handler could be installed
                    interrupts.on_signal(signal.SIGINT, None)
                interrupts.ask_if_pending(live)
                progress.tick(time.monotonic())


def _write_summary(
    summary_file: SummaryFile, session_id: str | None, data: Summary, err: Console, json_path: str | None
) -> int:
    """Write ``--json`` and say where; a fallback place is named, and fails the exit code."""
    where, why = summary_file.final(session_id, data)
    if why is None:
        err.print(Text(f"Summary written to {visible(where)}"), highlight=False, soft_wrap=True)
        return EXIT_OK
    err.print(
        Text(one_line(f"qtui: could not write {json_path} ({why}); saved {where} instead")),
        soft_wrap=True,  # one line a script can read, whatever the width
    )
    return EXIT_RUNS_FAILED


def _print_results(data: Summary, out: Console, planner: Any) -> None:
    """The results table, the ``--repeat auto`` account, the analysis."""
    out.print()
    print_report(data, out)
    if planner is not None and hasattr(planner, "report"):
        out.print("Repeats (--repeat auto):", style="bold")
        for r in planner.report():
            ci = "—" if r["ci"] is None else f"± {r['ci']:.1%} of the mean (95 %)"
            out.print(Text(visible(f"  {r['combination']}: {r['runs']} runs, {ci}; {r['why']}")))
    print_analysis(data, out)


def _exit_code(data: Summary, received: list[int], code: int, detached: bool, err: Console) -> int:
    """The session's exit code: the first stop signal's, else a failed run's, else ``code``."""
    if received:
        if not detached:
            err.print("qtui: interrupted; the runs that had not finished were cancelled")
        return {signal.SIGTERM: EXIT_TERMINATED, signal.SIGHUP: EXIT_HANGUP}.get(
            signal.Signals(received[0]), EXIT_INTERRUPTED
        )
    reason = exit_reason(data)
    if reason:
        err.print(Text(one_line(f"qtui: {reason}")), highlight=False, soft_wrap=True)
        return EXIT_RUNS_FAILED
    return code
