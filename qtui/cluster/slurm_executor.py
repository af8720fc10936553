"""``--executor slurm``: a session's runs as one SLURM job array, through submitit.

``prepare`` submits every run of the session as one job array (``map_array``)
and writes the session's manifest (``qtui.cluster.jobs_folder``).  Each job
runs ``qtui.cluster.job_side.run_job`` on its node: the same supervisor,
child and sampler as a local run, writing its events to a JSONL file in the
shared jobs folder.  ``launch`` does not start anything: it follows that
run's file (``qtui.core.logtail.LogTail``) and hands its events to the local
supervisor, which reports, folds and summarises them like a local run's.  The
jobs run in parallel on the cluster; qtui follows them in order, so a run
whose job finished early is read at once when its turn comes.

A poller thread asks the scheduler where every task stands (``squeue`` for
pending reasons, nodes and restarts, ``sacct`` for how finished jobs ended;
submitit's own job objects for its local executor) every ``poll_s`` seconds and
sends a ``job_state`` event on every change: the TUI's jobs view and the
headless progress show them.  A state's reason is kept only where SLURM's word
has one (``qtui.core.job_words.keeps_reason``): a job that waited for
``Resources`` runs without one.  Every ``job_state`` names the job's own log
files (submitit's ``%A_%a_0_log.out``/``.err``), which every failure message
then names (``qtui.analysis.outcomes``).

Accounting: the ``sacct`` call that reads ended tasks (one per poll, for all
their arrays, ``-D``: every attempt, times as unix seconds) also gives each
job's queue wait (its first attempt's ``Start - Submit``), its ``Elapsed`` and
``AllocCPUS`` (the attempt that ended it); they ride on the ``job_state`` of its
final state, so they reach the run's record before its terminal event
(``done`` waits for the final state) or, for runs that gave their result
first, before the session ends: ``wind_up`` (after the last run) polls until
every job has its final word, ``WIND_UP_S`` at most.  A task that never got a
node (cancelled while pending) has no accounting.  The figures are per job:
every run of a ``--runs-per-job`` job has its job's.  A job that hit its time
limit says how long it ran by ``Elapsed``; its limit stays the limit.

Requeues (a node failure with ``JobRequeue=1``, ``scontrol requeue``): SLURM
ends the job (SIGTERM; the job side cancels its runs) and runs it again from
the start.  squeue's restart count tells the poller, which sends ``REQUEUED``
with the next attempt (``job_state.attempt``, shown ``REQUEUED, attempt 2``).
The job appends each attempt to the same event files after its own
``session_started`` (``qtui.cluster.job_side``); ``SlurmRun`` counts them, forgets
how the last attempt stopped, and sends a ``job_state`` with the node's machine
and that attempt, in the log's order: the fold starts the run's figures again
there, so a requeued run's batches, losses and timings are the finished
attempt's, and the record says how many attempts it took.  (It was a truncated
file before: "r1.jsonl was truncated", and both attempts' batches summed.)

Notes: every job of the array writes the same notes (its fork server
started), each into the log of every run it holds.  A note is said once per
session, the first job's; its numbers (timings) do not make it another note;
``wind_up`` then says how many jobs said it.

How a job's end is recorded, in SLURM's words (``scheduler_state``):

* the job's log ends with ``run_finished`` or ``run_failed``: that is the
  result (a raising workload is ``run_failed`` with its traceback; the job is
  FAILED in ``sacct`` too);
* TIMEOUT (the ``--time-limit``): ``run_timed_out`` with the limit (and how long
  it ran, sacct's Elapsed, on the run's record);
* cancelled from qtui (``scancel`` through submitit): ``run_cancelled``; its
  record ends with SLURM's CANCELLED (``finish`` waits ``CANCEL_SETTLE_S`` for it,
  ``wind_up`` for runs cancelled before their turn);
* cancelled outside qtui (a user's ``scancel``): ``run_cancelled`` saying so;
* a cancel the job did on its own SIGTERM, with SLURM's final word other than
  those (a requeue whose next attempt could not start: FAILED): ``run_crashed``
  with SLURM's word;
* OUT_OF_MEMORY, NODE_FAIL, FAILED without a result, PREEMPTED, BOOT_FAIL,
  DEADLINE: ``run_crashed`` with SLURM's state and the job's stderr tail;
* a task the scheduler no longer knows (not in ``squeue`` nor ``sacct`` for
  ``lost_after_s``, e.g. a pending array task dropped by an administrator):
  ``run_crashed`` with state LOST, so qtui never waits forever.

A scheduler that does not answer (``squeue``/``sacct`` exit non-zero, time out or
are missing: the controller is down or unreachable) is not a verdict: every
state stays as last seen, the clock towards LOST restarts, and once the outage
lasts ``outage_note_s`` (30 s; ``$QTUI_SLURM_OUTAGE_NOTE_S``) a note names the
command and its stderr (another says when it answers again).  A ``scancel`` that
fails is a note too, and stays in ``cancel_failures`` for whoever closes the
executor to report (its jobs may still be running).

``detach()`` (quit and leave the jobs running): from then on ``cancel`` and
``close`` stop following and never ``scancel``; ``qtui watch --jobs-dir``
re-attaches from the manifest (``SlurmExecutor(attach=folder)``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtui.cluster.jobs_folder import (
    JobRecord,
    Manifest,
    events_path,
    make_private,
    read_manifest,
    session_folder,
    write_manifest,
)
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core.config import RunSpec
from qtui.core.env import env_int
from qtui.core.events import Event, JobState, LogNote, SessionStarted
from qtui.core.job_words import keeps_reason
from qtui.core.logtail import LogTail
from qtui.engine.executor import Emit, Executor, LaunchError, RunEnd, RunHandle, Wake

#: States after which a job will not change any more (SLURM's words, plus LOST).
FINAL_STATES = frozenset({
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
    "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED", "LOST",
})
#: What the job's own supervisor says that the local one says again itself.
_JOB_FRAMING = frozenset(
    {"session_started", "session_finished", "run_queued", "run_refused", "run_launched"}
)
#: A run's own verdicts, final as they are read.
_RUN_RESULTS = frozenset({"run_finished", "run_failed"})
#: Terminal events a job writes when it is stopped from outside; the scheduler's
#: word (TIMEOUT, CANCELLED, ...) decides what they were.
_STOPPED = frozenset({"run_crashed", "run_timed_out", "run_cancelled"})
#: Final states that end a job as a whole, whatever its runs wrote: SLURM's word wins.
_JOB_ENDS = frozenset({
    "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
    "DEADLINE", "REVOKED", "LOST",
})
#: Seconds the log may lag behind the scheduler's final state (shared storage).
LOG_GRACE_S = 5.0
#: Adaptive polling (no --poll): while tasks start, then once they run.
STARTING_POLL_S = 2.0
STEADY_POLL_S = 15.0
#: Seconds ``wind_up`` waits for the jobs' final word once every run has ended.
WIND_UP_S = 10.0
#: Seconds a scheduler outage lasts before a note says so (``outage_note_default``).
OUTAGE_NOTE_S = 30
#: The environment variable that overrides ``OUTAGE_NOTE_S`` (whole seconds): the test
#: that pauses a real slurmctld waits a few seconds for the note, not 30.
OUTAGE_NOTE_ENV = "QTUI_SLURM_OUTAGE_NOTE_S"
#: Seconds a cancelled run's finish waits for SLURM to say its job ended (CANCELLED).
CANCEL_SETTLE_S = 5.0
#: squeue's columns: task id, state, pending reason, node, restarts (``-O``, ``|`` after each).
SQUEUE_FORMAT = "JobArrayID:|,State:|,Reason:|,NodeList:|,RestartCnt:"
#: sacct's columns, every attempt of a task (``-D``), times in unix seconds: the state and
#: the accounting come from one call per poll, for every array with an ended task.
SACCT_FORMAT = "JobID,State,NodeList,Reason,Submit,Start,ElapsedRaw,AllocCPUS"
#: A number in a note (a timing): masked to tell whether two notes say the same thing.
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
#: What squeue says (exit 1) for a job id the controller has purged: an answer, "not here".
_UNKNOWN_JOB = "Invalid job id specified"
#: What scancel says for a job that has ended meanwhile: nothing was left to cancel.
_NOTHING_TO_CANCEL = (_UNKNOWN_JOB, "already completing or completed")


def outage_note_default() -> float:
    """Seconds an outage lasts before it is noted: ``$QTUI_SLURM_OUTAGE_NOTE_S``, whole
    seconds of at least 1, else ``OUTAGE_NOTE_S`` (a bad value: one warning and 30).
    Read here only, when an executor is made: the console, ``qtui watch`` and the app
    get the same threshold, and a test can shorten it for a ``qtui`` child it starts."""
    return float(env_int(OUTAGE_NOTE_ENV, OUTAGE_NOTE_S, minimum=1))


class SchedulerError(Exception):
    """A scheduler command (squeue, sacct, scancel) did not answer; the text names it
    and its stderr.  Where the scheduler stands is then unknown, not "no such job"."""


@dataclass
class TaskState:
    state: str = "PENDING"
    reason: str = ""
    node: str = ""
    unknown_since: float | None = None  # monotonic: when the scheduler stopped knowing it
    final_at: float | None = None  # monotonic: when a final state was first seen
    attempt: int = 0  # SLURM's restart count + 1 (2 after a requeue); 0 not known yet
    queue_wait_s: float | None = None  # accounting, from sacct once the job ended
    elapsed_s: float | None = None
    alloc_cpus: int | None = None

    def words(self) -> tuple[Any, ...]:
        """What a ``job_state`` says: a change in any of it is sent."""
        return (self.state, self.reason, self.node, self.attempt, self.queue_wait_s,
                self.elapsed_s, self.alloc_cpus)


@dataclass
class Seen:
    """One task as the scheduler answered for it (squeue, else sacct's last attempt)."""

    state: str
    reason: str = ""
    node: str = ""
    restarts: int | None = None  # squeue's RestartCnt; sacct: its attempts - 1
    queue_wait_s: float | None = None
    elapsed_s: float | None = None
    alloc_cpus: int | None = None


class SlurmExecutor(Executor):
    """Submits a session as a job array; follows each job's event file."""

    name = "slurm"

    def __init__(
        self,
        options: SlurmOptions | dict[str, Any] | None = None,
        *,
        attach: str | os.PathLike[str] | None = None,
        argv: list[str] | None = None,
        poll_s: float | None = None,
        lost_after_s: float | None = None,
        outage_note_s: float | None = None,
    ) -> None:
        if isinstance(options, dict):
            options = SlurmOptions.from_dict(options)
        self.options = options or SlurmOptions()
        self.argv = list(argv or [])
        #: None: adaptive (``poll_interval``); the options' --poll, or a caller's, fix it.
        self.poll_s = poll_s if poll_s is not None else (self.options.poll_s or None)
        self.lost_after_s = lost_after_s if lost_after_s is not None else self.options.lost_after_s
        self.outage_note_s = outage_note_s if outage_note_s is not None else outage_note_default()
        #: Scheduler queries that got no answer (all of them, this session).
        self.scheduler_failures = 0
        #: Why the job array was not submitted (sbatch refused it), None when it was.
        self.submission_error: str | None = None
        self._outage_since: float | None = None  # monotonic: first failure of this outage
        self._outage_noted = False
        self._cancel_failures: dict[str, str] = {}  # run_id -> why its scancel failed
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self._manifest: Manifest | None = None
        self._records: dict[str, JobRecord] = {}
        self._jobs: dict[str, Any] = {}  # run_id -> submitit Job (None when re-attached)
        self._states: dict[str, TaskState] = {}
        self._wakes: dict[str, Wake] = {}
        self._ended: set[str] = set()  # runs whose log gave a result (their job is ending)
        # a note's kind (its words, numbers masked) -> [first job id, its words, jobs saying it]
        self._notes: dict[str, list[Any]] = {}
        self._emit: Emit | None = None
        self._detached = False
        self._closed = threading.Event()
        self._poller: threading.Thread | None = None
        if attach is not None:
            self._attach(Path(attach))

    # --- where ------------------------------------------------------------------
    @property
    def folder(self) -> Path | None:
        """The session's jobs folder (``qtui watch --jobs-dir`` takes it)."""
        return self._folder

    @property
    def executor_label(self) -> str:
        return "slurm" if self.options.cluster == "slurm" else f"submitit-{self.options.cluster}"

    def _attach(self, folder: Path) -> None:
        manifest = read_manifest(folder)
        self.options = SlurmOptions.from_dict({**manifest.options, "cluster": manifest.cluster})
        self._folder, self._manifest = folder, manifest
        for rec in manifest.jobs:
            self._records[rec.run_id] = rec
            self._jobs[rec.run_id] = self._job_object(rec)
            self._states[rec.run_id] = TaskState(state="UNKNOWN")

    def _job_object(self, rec: JobRecord) -> Any:
        """A submitit job for a re-attached run (cancel, stderr); None if unavailable."""
        if self._folder is None or not rec.job_id:
            return None
        import submitit

        cls = submitit.SlurmJob if self.options.cluster == "slurm" else submitit.LocalJob
        return cls(self._folder / "submitit", rec.job_id)  # "16_2": one array task

    # --- the seam -----------------------------------------------------------------
    def session_info(self, session_id: str) -> dict[str, Any]:
        folder = self._folder or session_folder(self.options.folder(), session_id)
        return {"name": "slurm", "cluster": self.options.cluster, "jobs_dir": str(folder)}

    def prepare(self, specs: list[RunSpec], emit: Emit, *, session_id: str, interval: float) -> None:
        self._emit = emit
        new = [s for s in specs if s.run_id not in self._records]
        if new:
            if self._manifest is not None and self._manifest.session_id != session_id:
                raise LaunchError(
                    f"runs {', '.join(s.run_id for s in new)} are not in the re-attached "
                    f"session {self._manifest.session_id}"
                )
            self._submit(new, session_id, interval)
        if self._poller is None:
            self._poller = threading.Thread(target=self._poll_loop, name="qtui-slurm-poll", daemon=True)
            self._poller.start()

    def _submit(self, specs: list[RunSpec], session_id: str, interval: float) -> None:
        try:
            import submitit
        except ImportError:  # pragma: no cover - a declared dependency
            raise LaunchError("--executor slurm needs submitit: pip install submitit") from None
        if self.options.cluster == "slurm" and shutil.which("sbatch") is None:
            raise LaunchError(
                "--executor slurm: sbatch is not on PATH (is this a SLURM login node?)"
            )
        if self._folder is None:
            self._folder = session_folder(self.options.folder(), session_id)
            self._manifest = Manifest(
                session_id=session_id, cluster=self.options.cluster,
                options=self.options.to_dict(), argv=self.argv,
            )
        folder, manifest = self._folder, self._manifest
        assert manifest is not None
        try:
            make_private(folder)  # 0700: its pickles are code (qtui.cluster.jobs_folder)
            from qtui.cluster.job_side import job_python, run_job

            # the job's python, started where qtui was, never imports from that folder
            python = job_python()
            ex = submitit.AutoExecutor(
                folder=folder / "submitit", cluster=self.options.cluster,
                slurm_python=python, local_python=python,
            )
            ex.update_parameters(name=f"qtui-{session_id}", **self.options.submitit_parameters())

            per = self._runs_per_job(len(specs))
            chunks = [specs[i:i + per] for i in range(0, len(specs), per)]
            n = len(chunks)
            jobs = ex.map_array(
                run_job,
                [[s.to_dict() for s in c] for c in chunks],
                [[str(events_path(folder, s.run_id)) for s in c] for c in chunks],
                [interval] * n, [session_id] * n, [str(folder)] * n,
            )
        except LaunchError:
            raise
        except Exception as exc:  # noqa: BLE001 - boundary: sbatch's refusal, a full disk: each run's LaunchError
            text = " ".join(str(exc).split())[:400]
            self.submission_error = f"the job array was not submitted: {text}"
            raise LaunchError(self.submission_error) from None
        submitted = time.time()
        placed = [(spec, job) for chunk, job in zip(chunks, jobs, strict=True) for spec in chunk]
        for spec, job in placed:
            base, _, task = str(job.job_id).partition("_")
            rec = JobRecord(
                run_id=spec.run_id, spec=spec.to_dict(), job_id=str(job.job_id),
                array_task_id=task, events=f"events/{spec.run_id}.jsonl", submitted=submitted,
            )
            with self._lock:
                self._records[spec.run_id] = rec
                self._jobs[spec.run_id] = job
                self._states[spec.run_id] = TaskState()
            manifest.jobs.append(rec)
        write_manifest(folder, manifest)
        billing = self.options.billing_note() if self.options.cluster == "slurm" else None
        if billing and self._emit is not None:  # in the summary's notes: every report says it
            self._emit(LogNote(message=f"slurm: {billing}"))

    def _runs_per_job(self, n_runs: int) -> int:
        """``--runs-per-job``, raised when the array would exceed the cluster's
        ``MaxArraySize`` (sbatch would refuse it), with a note saying so."""
        asked = max(1, self.options.runs_per_job)
        limit = array_limit() if self.options.cluster == "slurm" else None
        per = runs_per_job_for(n_runs, asked, limit)
        if per != asked and self._emit is not None:
            self._emit(LogNote(message=(
                f"slurm: {n_runs} runs at {asked} per job exceed the cluster's MaxArraySize "
                f"({limit}); packing {per} runs per job (as --runs-per-job {per})"
            )))
        return per

    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        rec = self._records.get(spec.run_id)
        if rec is None or self._folder is None:
            raise LaunchError(f"{spec.run_id} was never submitted (prepare() not called)")
        with self._lock:
            self._wakes[spec.run_id] = wake
        return SlurmRun(self, rec, self._folder / rec.events, emit, wake)

    def discard(self, run_id: str) -> None:
        if not self._detached:
            self.cancel_run(run_id)

    def detach(self) -> None:
        self._detached = True

    @property
    def detached(self) -> bool:
        return self._detached

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if not self._detached:
            for run_id in list(self._records):
                if not self.is_final(run_id) and run_id not in self._ended:
                    self.scancel(run_id)  # the whole job: nobody watches its runs any more
        if self._poller is not None:
            self._poller.join(timeout=5)

    @property
    def cancel_failures(self) -> dict[str, str]:
        """run_id -> why its job could not be cancelled (it may still be running).  A note
        says so during the session; after ``close`` none reaches the session, so whoever
        closes the executor reports these."""
        with self._lock:
            return dict(self._cancel_failures)

    def uncancelled(self) -> str | None:
        """The jobs this executor could not cancel, in one sentence (None when none):
        what the session's front end prints after closing it."""
        failed = self.cancel_failures
        if not failed:
            return None
        return (
            f"{len(failed)} job(s) could not be cancelled and may still be running "
            "(scancel them by hand): " + "; ".join(sorted(set(failed.values())))
        )

    # --- scheduler state ---------------------------------------------------------
    def cancel_run(self, run_id: str) -> str:
        """Stop one run: ``"job"`` when its job holds only runs that are over
        (``scancel``), ``"file"`` when others of its job must go on (the job side
        cancels it on seeing ``cancel/<run_id>``)."""
        rec = self._records.get(run_id)
        if rec is None:
            return ""
        with self._lock:
            others = [
                r for r, other in self._records.items()
                if other.job_id == rec.job_id and r != run_id and r not in self._ended
            ]
        if not others:
            self.scancel(run_id)
            return "job"
        if self._folder is not None:
            with contextlib.suppress(OSError):
                (self._folder / "cancel").mkdir(exist_ok=True)
                (self._folder / "cancel" / run_id).touch()
        return "file"

    def scancel(self, run_id: str) -> str | None:
        """Cancel one run's job (``scancel`` on SLURM, a signal on submitit's local
        executor).  None when done (or nothing was left to cancel), else why it failed:
        that is also a note, and stays in ``cancel_failures``."""
        why = self._cancel_job(run_id)
        with self._lock:
            if why is None:
                self._cancel_failures.pop(run_id, None)
            else:
                self._cancel_failures[run_id] = why
        if why is not None and self._emit is not None:
            self._emit(LogNote(message=f"run {run_id}: could not cancel its job: {why}"))
        return why

    def _cancel_job(self, run_id: str) -> str | None:
        job = self._jobs.get(run_id)
        rec = self._records.get(run_id)
        if rec is None or not rec.job_id:
            return None  # never submitted: nothing to cancel
        if self.options.cluster == "slurm":
            try:
                _run(["scancel", rec.job_id], empty_when=_NOTHING_TO_CANCEL)
            except SchedulerError as exc:
                return str(exc)
            return None
        # submitit's local executor: SIGINT, as its own cancel sends.  Re-attached, there
        # is no process handle, but the job id is the job's pid.
        try:
            if rec.job_id.isdigit() and getattr(job, "_process", None) is None:
                os.kill(int(rec.job_id), signal.SIGINT)
            elif job is not None:
                job.cancel(check=False)
        except ProcessLookupError:
            return None  # already gone: nothing to cancel
        except OSError as exc:
            return f"cannot signal job {rec.job_id}: {exc}"
        return None

    def settle(self, run_id: str, wait_s: float = 3.0) -> None:
        """A run gave its result (or its job was cancelled) and its job holds nothing
        else: wait briefly for the scheduler to say how the job ended (COMPLETED,
        CANCELLED, with its accounting), so its record says so too."""
        rec = self._records.get(run_id)
        if rec is None:
            return
        with self._lock:
            others = [r for r, o in self._records.items()
                      if o.job_id == rec.job_id and r != run_id and r not in self._ended]
        deadline = time.monotonic() + wait_s
        while not others and not self.is_final(run_id) and time.monotonic() < deadline:
            self.poll_once()  # a scheduler outage is counted there; settling just ends
            if not self.is_final(run_id):
                time.sleep(0.25)

    def state(self, run_id: str) -> TaskState:
        with self._lock:
            return self._states.setdefault(run_id, TaskState(state="UNKNOWN"))

    def note_once(self, job_id: str, message: str) -> bool:
        """True the first time this session a note of these words is read: every job of
        the array writes the same ones (its fork server started), each into the log of
        every run it holds.  The numbers in it (timings) do not make it another note."""
        kind = _NUMBER.sub("#", message)
        with self._lock:
            seen = self._notes.get(kind)
            if seen is None:
                self._notes[kind] = [job_id, message, {job_id}]
                return True
            seen[2].add(job_id)
            return False

    def _say_note_counts(self) -> None:
        """Once, at the end: how many jobs said each note that was shown once."""
        with self._lock:
            repeated = [(first, words, len(jobs)) for first, words, jobs in self._notes.values()
                        if len(jobs) > 1]
            self._notes.clear()
        for first, words, n in repeated:
            head = words if len(words) <= 60 else words[:57] + "..."
            self._emit_note(f"slurm: {n} jobs said \"{head}\" (shown once, for job {first})")

    def _emit_note(self, message: str) -> None:
        if self._emit is not None:
            self._emit(LogNote(message=message))

    def ended(self, run_id: str) -> None:
        """The run's log gave its result: its job is ending on its own, never cancel it."""
        with self._lock:
            self._ended.add(run_id)

    def is_final(self, run_id: str) -> bool:
        return self.state(run_id).state in FINAL_STATES

    def stderr_tail(self, run_id: str, lines: int = 20) -> str:
        job = self._jobs.get(run_id)
        if job is None:
            return ""
        try:
            text = Path(job.paths.stderr).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def note_machine(self, run_id: str, machine: dict[str, Any], attempt: int = 1) -> None:
        """The job's log (re)started on its node, for the ``attempt``-th time: tell who it
        is (``job_state`` with machine and that attempt; the fold starts the run's
        figures again from an attempt above 1)."""
        st = self.state(run_id)
        node = str(machine.get("hostname") or machine.get("node") or st.node)
        with self._lock:
            st.node = node or st.node
            st.attempt = max(st.attempt, attempt)
            if st.state not in FINAL_STATES:
                st.state = "RUNNING"  # its log says so before the poller may
            if not keeps_reason(st.state):
                st.reason = ""  # "Resources" was why it waited, not why it runs
        self._send(run_id, st, machine, attempt=attempt)

    def job_logs(self, run_id: str) -> list[str]:
        """The job's own stdout and stderr files (submitit's ``%A_%a_0_log.out``/``.err``)."""
        job = self._jobs.get(run_id)
        try:
            return [str(job.paths.stdout), str(job.paths.stderr)] if job is not None else []
        except (AttributeError, OSError, ValueError):
            return []

    def _send(
        self, run_id: str, st: TaskState, machine: dict[str, Any] | None = None,
        attempt: int | None = None,
    ) -> None:
        rec = self._records.get(run_id)
        emit = self._emit
        if rec is None or emit is None:
            return
        emit(
            JobState(
                run_id=run_id, executor=self.executor_label, job_id=rec.job_id,
                array_task_id=rec.array_task_id, state=st.state, reason=st.reason,
                node=st.node, machine=machine or {},
                attempt=st.attempt if attempt is None else attempt,
                logs=self.job_logs(run_id), queue_wait_s=st.queue_wait_s,
                elapsed_s=st.elapsed_s, alloc_cpus=st.alloc_cpus,
            )
        )

    def _poll_loop(self) -> None:
        said: set[str] = set()
        while not self._closed.is_set():
            try:
                self.poll_once()  # the scheduler's own failures are counted and noted there
            except Exception as exc:  # noqa: BLE001 - boundary: a note names it (once); polling goes on, or no job could end
                text = f"{type(exc).__name__}: {exc}"
                if text not in said and self._emit is not None:
                    said.add(text)
                    self._emit(LogNote(message=f"slurm: the job poller failed: {text}"))
            self._closed.wait(self.poll_interval())

    def poll_interval(self) -> float:
        """``--poll`` when given; else 2 s while some task has not been seen running or
        ended (a start is worth seeing at once), then 15 s: a job that runs needs no
        watching by the scheduler, its results come through its event file."""
        if self.poll_s is not None:
            return self.poll_s
        with self._lock:
            starting = any(st.state in ("", "PENDING", "CONFIGURING", "REQUEUED")
                           for st in self._states.values())
        return STARTING_POLL_S if starting else STEADY_POLL_S

    def poll_once(self) -> None:
        """Ask the scheduler about every unfinished task; send what changed.  When it
        does not answer, nothing changes (see ``_scheduler_failed``)."""
        with self._lock:
            open_ids = [r for r, st in self._states.items() if st.state not in FINAL_STATES]
        if not open_ids:
            return
        asked = time.monotonic()
        try:
            if self.options.cluster == "slurm":
                seen = self._slurm_states(open_ids)
            else:
                seen = self._local_states(open_ids)
        except SchedulerError as exc:
            self._scheduler_failed(str(exc), asked)
            return
        self._scheduler_answered()
        now = time.monotonic()
        for run_id in open_ids:
            st = self.state(run_id)
            before = st.words()
            got = seen.get(run_id)
            requeued: TaskState | None = None
            with self._lock:
                if got is None:
                    st.unknown_since = st.unknown_since or now
                    if now - st.unknown_since >= self.lost_after_s:
                        st.state = "LOST"
                        st.reason = (
                            "no longer known to the scheduler (in neither squeue nor sacct "
                            f"for {self.lost_after_s:g} s)"
                        )
                else:
                    st.unknown_since = None
                    attempt = got.restarts + 1 if got.restarts is not None else st.attempt
                    if st.attempt and attempt > st.attempt and "REQUEUED" not in (got.state, st.state):
                        # seen again after a requeue (squeue: PENDING, restarts 1): say so
                        requeued = TaskState(state="REQUEUED", node=st.node, attempt=attempt)
                    st.attempt = max(st.attempt, attempt, 1)
                    st.state = got.state
                    st.reason = got.reason if keeps_reason(got.state) else ""
                    st.node = got.node or st.node
                    for key in ("queue_wait_s", "elapsed_s", "alloc_cpus"):
                        if getattr(got, key) is not None:
                            setattr(st, key, getattr(got, key))
                if st.state in FINAL_STATES and st.final_at is None:
                    st.final_at = now
            if requeued is not None:
                self._send(run_id, requeued)
            if st.words() != before:
                self._send(run_id, st)
                wake = self._wakes.get(run_id)
                if wake is not None:
                    wake()

    def wind_up(self) -> None:
        """Every run has ended: wait (``WIND_UP_S`` at most) for the scheduler's final
        word on the jobs still ending, a cancelled one's CANCELLED and every job's
        accounting with it, so the record ends with them; then say how many jobs
        said each note shown once.  Left running (detached): nothing to wait for."""
        deadline = time.monotonic() + WIND_UP_S
        while not self._detached and self._emit is not None and time.monotonic() < deadline:
            with self._lock:
                ending = any(st.state not in FINAL_STATES for r, st in self._states.items()
                             if self._records.get(r) is not None and self._records[r].job_id)
            if not ending:
                break
            self.poll_once()
            self._closed.wait(0.5)
        self._say_note_counts()

    def _scheduler_failed(self, why: str, asked: float | None = None) -> None:
        """No answer: states stay as last seen and no job counts towards LOST (an outage
        is not "unknown to the scheduler"); a lasting outage is said once, in a note.
        It counts from when the first unanswered question was asked (a command that
        times out has been unanswered for its whole timeout)."""
        now = time.monotonic()
        with self._lock:
            self.scheduler_failures += 1
            self._outage_since = self._outage_since or asked or now
            for st in self._states.values():
                st.unknown_since = None
            lasting = now - self._outage_since
            say = lasting >= self.outage_note_s and not self._outage_noted
            self._outage_noted = self._outage_noted or say
        if say and self._emit is not None:
            self._emit(LogNote(
                message=(
                    f"slurm: the scheduler has not answered for {lasting:.1f} s: {why}; "
                    "the jobs' states are unknown, still waiting (none is declared LOST "
                    "while the scheduler is unreachable)"
                ),
                topic="scheduler_outage", since=time.time() - lasting,
            ))

    def _scheduler_answered(self) -> None:
        with self._lock:
            since, noted = self._outage_since, self._outage_noted
            self._outage_since, self._outage_noted = None, False
        if noted and since is not None and self._emit is not None:
            self._emit(LogNote(
                message=f"slurm: the scheduler answers again after {time.monotonic() - since:.1f} s",
                topic="scheduler_back",
            ))

    def _slurm_states(self, run_ids: list[str]) -> dict[str, Seen]:
        """run_id -> where its task stands: squeue (state, pending reason, node, restarts),
        then sacct for the rest (one call for their arrays, every attempt: the last one's
        state, node and Elapsed, the first one's queue wait)."""
        by_job: dict[str, list[str]] = {}
        for r in run_ids:
            if r in self._records:
                by_job.setdefault(self._records[r].job_id, []).append(r)
        arrays = sorted({j.partition("_")[0] for j in by_job})
        got: dict[str, Seen] = {}  # job id -> what the scheduler said of it
        if not arrays:
            return {}
        squeue = _run(
            ["squeue", "-h", "-r", "-j", ",".join(arrays), "-O", SQUEUE_FORMAT],
            empty_when=(_UNKNOWN_JOB,),
        )
        wanted = set(by_job)
        for line in squeue.splitlines():
            parts = [p.strip() for p in line.strip().split("|")]
            if len(parts) >= 4:
                reason = "" if parts[2] in ("None", "(null)") else parts[2]
                restarts = _count(parts[4]) if len(parts) > 4 else None
                for job in array_tasks(parts[0], wanted):
                    got[job] = Seen(parts[1], reason, parts[3], restarts)
        missing = [j for j in by_job if j not in got]
        if missing:
            sacct = _run(
                ["sacct", "-n", "-X", "-P", "-D", "-j",
                 ",".join(sorted({j.partition("_")[0] for j in missing})), "-o", SACCT_FORMAT],
                env={**os.environ, "SLURM_TIME_FORMAT": "%s"},
            )
            attempts: dict[str, list[list[str]]] = {}  # job id -> its own rows, in order
            pending: dict[str, list[str]] = {}  # job id -> a pending range's row (58_[1-3])
            for line in sacct.splitlines():
                parts = line.strip().split("|")
                if len(parts) >= 3:
                    for job in array_tasks(parts[0], wanted):
                        if parts[0] == job:
                            attempts.setdefault(job, []).append(parts)
                        else:  # -D also lists a started task's old pending range: not an attempt
                            pending[job] = parts
            for job in wanted:
                rows = attempts.get(job) or ([pending[job]] if job in pending else [])
                if rows:
                    got.setdefault(job, _from_sacct(rows))
        return {r: got[j] for j, runs in by_job.items() if j in got for r in runs}

    def _local_states(self, run_ids: list[str]) -> dict[str, Seen]:
        """submitit's local executor: its processes stand in for the cluster's jobs."""
        import psutil

        out: dict[str, Seen] = {}
        host = os.uname().nodename
        for run_id in run_ids:
            job = self._jobs.get(run_id)
            rec = self._records.get(run_id)
            if job is None or rec is None:
                continue
            raw = str(job.state).upper()
            if raw == "RUNNING":
                out[run_id] = Seen("RUNNING", "", host)
            elif raw in ("FINISHED", "INTERRUPTED"):
                failed = raw == "INTERRUPTED" or _local_job_failed(job, unreadable=False)
                out[run_id] = Seen("FAILED" if failed else "COMPLETED", "", host)
            else:  # re-attached from another process: the job id is its pid
                pid = int(rec.job_id) if rec.job_id.isdigit() else 0
                if pid and psutil.pid_exists(pid):
                    out[run_id] = Seen("RUNNING", "", host)
                elif Path(job.paths.result_pickle).exists():
                    failed = _local_job_failed(job, unreadable=True)
                    out[run_id] = Seen("FAILED" if failed else "COMPLETED", "", host)
        return out


def array_limit() -> int | None:
    """The cluster's ``MaxArraySize`` (``scontrol show config``): an array's task ids
    must stay below it.  None when the scheduler does not say."""
    try:
        text = _run(["scontrol", "show", "config"], timeout_s=15.0)
    except SchedulerError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "MaxArraySize" and value.strip().isascii() and value.strip().isdigit():
            return int(value.strip())
    return None


def runs_per_job_for(n_runs: int, asked: int, limit: int | None) -> int:
    """Runs per array task: ``asked``, or as many as it takes for the array's task
    ids (0 .. tasks-1) to stay below ``limit``."""
    per = max(1, asked)
    if limit and limit > 0 and -(-n_runs // per) > limit:
        per = -(-n_runs // limit)
    return per


def array_tasks(job_id: str, wanted: set[str]) -> list[str]:
    """The tasks of ``wanted`` that one ``squeue``/``sacct`` JobID stands for.

    A started task is one line, ``58_1``; tasks of an array that have not started
    are one line for them all in ``sacct -X`` (and in ``squeue`` without ``-r``):
    ``58_[1-3%4]`` (a range, ``%`` the array's throttle), ``58_[1,3-5]`` (a list).
    Before this was read, pending tasks were unknown to qtui, and an outside
    ``scancel`` of the array, or a paused controller, had them declared LOST."""
    if job_id in wanted:
        return [job_id]
    base, sep, rest = job_id.partition("_")
    if not sep or not rest.startswith("["):
        return []
    inner = rest[1:].partition("]")[0].partition("%")[0]
    spans: list[tuple[int, int]] = []
    for part in inner.split(","):
        lo, dash, hi = part.strip().partition("-")
        if lo.isascii() and lo.isdigit() and (not dash or (hi.isascii() and hi.isdigit())):
            spans.append((int(lo), int(hi) if dash else int(lo)))
    out = []
    for job in sorted(wanted):
        b, _, index = job.partition("_")
        if b == base and index.isascii() and index.isdigit():
            i = int(index)
            if any(lo <= i <= hi for lo, hi in spans):
                out.append(job)
    return out


def _local_job_failed(job: Any, *, unreadable: bool) -> bool:
    """Whether submitit's local job raised; ``unreadable`` when its result file cannot
    be read (half written, removed): the run's own log then has the last word."""
    try:
        return job.exception() is not None
    except (OSError, EOFError, pickle.UnpicklingError, subprocess.SubprocessError):
        return unreadable


def _from_sacct(rows: list[list[str]]) -> Seen:
    """One task from its ``sacct -D`` rows (``SACCT_FORMAT``), oldest attempt first: the
    last says where it stands and how long it ran; the first that got a node, how long
    it waited from sbatch to its start.  A row that never got a node has no accounting."""
    last = rows[-1] + [""] * (len(SACCT_FORMAT.split(",")) - len(rows[-1]))
    state = last[1].split()[0] if last[1] else "UNKNOWN"  # "CANCELLED by 0"
    node = "" if last[2] in ("None assigned", "(null)") else last[2]
    reason = last[3] if last[3] not in ("None", "") else ""
    seen = Seen(state, reason, node, restarts=len(rows) - 1)
    if node:
        seen.elapsed_s = elapsed_seconds(last[6])
        seen.alloc_cpus = _count(last[7])
    for row in rows:
        if len(row) >= 6 and row[2] not in ("None assigned", "(null)", ""):
            submit, start = _count(row[4]), _count(row[5])
            if submit is not None and start is not None and start >= submit:
                seen.queue_wait_s = float(start - submit)
            break
    return seen


def _count(text: str) -> int | None:
    """A whole number SLURM printed (ASCII digits only), else None."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def elapsed_seconds(text: str) -> float | None:
    """Seconds from sacct's ``ElapsedRaw`` (``73``) or ``Elapsed`` (``1:13``,
    ``00:01:13``, ``1-02:03:04``); None for anything else (``Unknown``, ``INVALID``)."""
    days, _, clock = text.strip().rpartition("-")
    parts = clock.split(":")
    if not (1 <= len(parts) <= 3) or (days and _count(days) is None):
        return None
    values = [_count(p) for p in parts]
    if any(v is None for v in values):
        return None
    total = 0
    for v in values:
        total = total * 60 + int(v or 0)
    return float(total + (int(days) * 86400 if days else 0))


def _run(
    cmd: list[str], *, empty_when: tuple[str, ...] = (), timeout_s: float = 30.0,
    env: dict[str, str] | None = None,
) -> str:
    """A scheduler command's stdout.  ``SchedulerError`` naming the command and its
    stderr when it cannot run, times out or exits non-zero (the controller is down,
    unreachable, refuses), unless its stderr holds one of ``empty_when``: then "" (an
    answer: "no such job")."""
    shown = " ".join(cmd)
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, check=False,
            stdin=subprocess.DEVNULL, env=env,
        )
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"`{shown}` gave no answer in {timeout_s:g} s") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise SchedulerError(f"`{shown}` could not run: {exc}") from None
    if done.returncode != 0:
        err = " ".join(done.stderr.split())[:300]
        if any(text in err for text in empty_when):
            return ""
        raise SchedulerError(f"`{shown}` exited {done.returncode}: {err or 'no stderr'}")
    return done.stdout


class SlurmRun(RunHandle):
    """One run's job, watched through its event file and the scheduler's state."""

    sample_pid = None  # sampled on its node, by the job's own supervisor
    enforces_timeout = True  # the job's supervisor applies --timeout; SLURM, --time-limit

    def __init__(
        self, executor: SlurmExecutor, rec: JobRecord, log: Path, emit: Emit, wake: Wake
    ) -> None:
        self.executor = executor
        self.rec = rec
        self.t0 = time.monotonic()
        self._emit, self._wake = emit, wake
        self._tail = LogTail(log)
        self._lock = threading.Lock()
        self._result: str | None = None  # run_finished / run_failed read from the log
        self._stopped: Event | None = None  # a crash/cancel/timeout the job wrote itself
        self._cancelled = False
        self._scancelled = False  # the cancel was the job's scancel (not a cancel file)
        self._starts = 0  # session_started lines read: the attempts of the job that wrote
        self._stop = threading.Event()
        self._follower = threading.Thread(target=self._follow, name=f"qtui-follow-{rec.run_id}", daemon=True)
        self._follower.start()

    # --- following ---------------------------------------------------------------
    def _follow(self) -> None:
        while not self._stop.is_set():
            self._read(final=False)
            self._stop.wait(0.1)

    def _read(self, final: bool) -> None:
        with self._lock:
            events = self._tail.poll(final=final)
        for event in events:
            self._route(event)

    def _route(self, event: Event) -> None:
        if isinstance(event, SessionStarted):  # the job (re)started: a new attempt
            self._starts += 1
            self._stopped = None  # how an earlier attempt stopped (a requeue's SIGTERM) is void
            self.executor.note_machine(self.rec.run_id, dict(event.machine), self._starts)
            return
        if event.type in _JOB_FRAMING:
            return
        if isinstance(event, LogNote):
            if self.executor.note_once(self.rec.job_id, event.message):
                self._emit(LogNote(message=f"job {self.rec.job_id}: {event.message}", t=event.t))
            return  # every job writes the same notes, in the log of each of its runs: said once
        if getattr(event, "run_id", self.rec.run_id) != self.rec.run_id:
            return
        if event.type in _STOPPED:
            self._stopped = event  # what it was is decided with the scheduler's word
            self._wake()
            return
        if event.type in _RUN_RESULTS:
            self._result = event.type
            self.executor.ended(self.rec.run_id)
            self._emit(event)
            self._wake()
            return
        self._emit(event)

    # --- the handle ---------------------------------------------------------------
    def done(self) -> bool:
        if self._result is not None:
            return True
        if self._cancelled and self.executor.detached:
            return True  # leave it running: stop watching now
        stopped = self._stopped
        if stopped is not None and (self._cancelled or stopped.type != "run_cancelled"):
            return True  # its own verdict (a crash, its --timeout), or our cancel, done
        # Otherwise (nothing yet, or a cancel the job did on SIGTERM: its time limit, an
        # outside scancel) the scheduler's final state decides, once the log has caught up.
        st = self.executor.state(self.rec.run_id)
        if st.state not in FINAL_STATES:
            return False
        return stopped is not None or (
            st.final_at is not None and time.monotonic() - st.final_at >= LOG_GRACE_S
        )

    def cancel(self) -> None:
        self._cancelled = True
        if not self.executor.detached:
            self._scancelled = self.executor.cancel_run(self.rec.run_id) == "job"
        self._wake()

    def kill(self) -> None:
        if self._scancelled and not self.executor.detached:
            self.executor.scancel(self.rec.run_id)  # SLURM escalates to SIGKILL itself

    def finish(self) -> RunEnd:
        self._stop.set()
        self._follower.join(timeout=5)
        self._read(final=True)
        if self._result is not None:
            self.executor.settle(self.rec.run_id)
            return RunEnd()
        if self._cancelled:
            if self._scancelled:  # its record ends with SLURM's word: CANCELLED
                self.executor.settle(self.rec.run_id, CANCEL_SETTLE_S)
            return RunEnd(cancelled=True, scheduler_state="CANCELLED" if self._scancelled else "")
        st = self.executor.state(self.rec.run_id)
        where = f"job {self.rec.job_id}" + (f" on {st.node}" if st.node else "")
        if st.state == "TIMEOUT":
            limit = float(self.executor.options.time_limit_min) * 60
            return RunEnd(
                timed_out_s=limit, scheduler_state="TIMEOUT",
                detail=f"SLURM: TIMEOUT, {where} ran into its {self.executor.options.time_limit_min} min time limit",
            )
        if st.state == "CANCELLED":
            return RunEnd(cancelled=True, scheduler_state="CANCELLED",
                          detail=f"SLURM: CANCELLED, {where} was cancelled outside qtui")
        stopped = self._stopped
        if stopped is not None and st.state not in _JOB_ENDS and stopped.type != "run_cancelled":
            self._emit(stopped)  # the run's own verdict (its --timeout, a crashed child)
            return RunEnd()
        # else SLURM's word: a cancel qtui did not ask for was the job's SIGTERM (a requeue
        # whose next attempt failed to start, say), not the run's own doing
        tail = self.executor.stderr_tail(self.rec.run_id)
        who = "qtui" if st.state == "LOST" else "SLURM"  # LOST is qtui's word, not SLURM's
        detail = f"{who}: {st.state}, {where}" + (f" ({st.reason})" if st.reason else "")
        return RunEnd(scheduler_state=st.state, detail=detail + (f"\n{tail}" if tail else ""))

    def close(self) -> None:
        self._stop.set()
        self._follower.join(timeout=5)
        with self._lock:
            self._tail.close()
