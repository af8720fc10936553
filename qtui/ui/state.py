"""What the live panels show, folded from the event stream on the UI thread.

The engine's thread (or the log follower) only appends events to an
``EventFeed``; the app drains it on a timer and calls ``LiveState.apply_batch``
once per tick.  ``SessionSummary`` stays the single source for run records and
per-combination results; this class adds what only a live view needs: sample
histories, the node's per-core CPU history, the latest GPU reading, warnings
merged across runs, the analysis of the finished runs (cached per finished
run), and a version counter per kind of data: each panel (``qtui.ui.panel``)
redraws itself when the counters it watches move.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # imported with the first event folded (``LiveState.summary``), not before the app's
    # first frame: the fold brings msgspec and the event schema (tests/test_app_lightness.py)
    from qtui.analysis.fold import RunRecord, SessionSummary
    from qtui.core import events as ev
    from qtui.core.summary_schema import Recommendation, Result, Summary, SweepAxis
    from qtui.core.workload_groups import WorkloadGroups

CPU_HISTORY = 40
GPU_HISTORY = 60
#: Histories are halved (every other point dropped) past this many points, so a
#: session of many hours keeps bounded memory; the plots downsample anyway.
MAX_HISTORY = 200_000
ACTIVE_STATES = frozenset({"queued", "running"})


class EventFeed:
    """Thread-safe hand-off from the producer thread to the UI thread.

    ``push`` is called from the supervisor's (or follower's) thread for every
    event; it only appends to a deque, so the producer never waits on the UI.
    """

    def __init__(self) -> None:
        self._items: deque[ev.Event] = deque()
        self._lock = threading.Lock()
        self.pushed = 0

    def push(self, event: ev.Event) -> None:
        with self._lock:
            self._items.append(event)
            self.pushed += 1

    def drain(self, limit: int = 50_000) -> list[ev.Event]:
        out: list[ev.Event] = []
        with self._lock:
            while self._items and len(out) < limit:
                out.append(self._items.popleft())
        return out

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class MergedWarning:
    """One distinct warning across every run of the session."""

    category: str
    message: str
    filename: str
    lineno: int
    counts: dict[str, int] = field(default_factory=dict)  # run_id -> running count
    first_t: float = 0.0
    last_t: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    @property
    def source(self) -> str:
        return f"{self.filename}:{self.lineno}"

    @property
    def key(self) -> str:
        return f"{self.category}|{self.filename}|{self.lineno}|{self.message}"


@dataclass
class Versions:
    """Bumped when a kind of data changes; a panel watching it redraws."""

    loss: int = 0
    cpu: int = 0
    memory: int = 0
    warnings: int = 0
    runs: int = 0
    results: int = 0
    phases: int = 0
    gpu: int = 0
    style: int = 0  # palette (theme) changed: every panel redraws


@dataclass
class GpuReading:
    """The GPU figures of the latest sample that carried any (NVML, sampled by the engine)."""

    run_id: str
    util: list[float]  # percent per device
    mem_used: list[int]  # bytes per device
    mem_total: list[int]
    run_mem: int | None  # bytes the sampled run's processes hold, when NVML can tell


class LiveState:
    """Everything the live panels read; mutated only on the UI thread."""

    def __init__(self, summary: SessionSummary | None = None) -> None:
        self._summary = summary or None  # an empty one is made when first asked, as before
        self.versions = Versions()
        self.cpu_history: list[deque[float]] = []
        self.percpu: list[float] = []
        self.cpu_t: float | None = None  # time of the latest per-core sample
        self.rss_history: dict[str, list[float]] = {}  # run_id -> RSS bytes per sample
        self.threads: dict[str, int] = {}
        self.cores: dict[str, float] = {}
        self.warnings: dict[str, MergedWarning] = {}
        self.newest_warning: str | None = None
        self.colors: dict[str, int] = {}  # run_id -> colour index, first seen first
        self.current_run: str | None = None
        self.events_applied = 0
        self.notes: list[str] = []
        #: When the cluster's scheduler stopped answering (unix s), while it does not.
        self.outage_since: float | None = None
        self.sessions = 0
        self.gpu: GpuReading | None = None
        self.gpu_history: list[deque[float]] = []  # utilisation per device
        self.palette: list[str] = ["cyan"]  # series colours of the current theme
        self.phases_pick: str | None = None  # run highlighted in a queue
        self._groups: WorkloadGroups | None = None
        self._varying_n = -1
        self._analysis_version = -1
        self._analysis: tuple[list[Result], Recommendation, dict[str, SweepAxis]] | None = None

    @property
    def summary(self) -> SessionSummary:
        """The session's runs and results, the single source (made when first asked)."""
        if self._summary is None:
            from qtui.analysis.fold import SessionSummary

            self._summary = SessionSummary()
        return self._summary

    # folding --------------------------------------------------------------------
    def apply_batch(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: ev.Event) -> None:
        import qtui.core.events as ev  # loaded with the first event; this form is the cheaper per call

        self.events_applied += 1
        rec = self.summary.apply(event)
        v = self.versions
        if isinstance(event, ev.SessionStarted):
            self.sessions += 1
            self.phases_pick = None  # the phases panel follows the new runs
            v.runs += 1
            v.phases += 1
            for spec in event.runs:
                self._color(str(spec.get("run_id", "")))
        elif isinstance(event, ev.Sample):
            self._sample(event)
        elif isinstance(event, ev.Batch):
            v.loss += 1
            v.runs += 1
            self.current_run = event.run_id
        elif isinstance(event, (ev.Epoch, ev.Validation)):
            v.loss += 1
        elif isinstance(event, ev.WarningSeen):
            self._warning(event)
        elif isinstance(event, ev.Phases):
            v.phases += 1
        elif isinstance(event, ev.LogNote):
            self.notes.append(event.message)
            if event.topic in ("scheduler_outage", "scheduler_back"):  # the status line's
                self.outage_since = event.since if event.topic == "scheduler_outage" else None
                v.runs += 1
        elif isinstance(event, ev.JobState):
            # folded into the run's record (RunRecord.job) by the summary; the queue
            # shows it, the CPU panel names the node; a requeued job's new attempt
            # starts the run's figures again, so the loss plot redraws at once
            v.runs += 1
            v.cpu += 1
            v.loss += 1
        elif isinstance(event, (ev.RunQueued, ev.RunStarted)):
            self._color(event.run_id)
            v.runs += 1
            if isinstance(event, ev.RunStarted):
                self.current_run = event.run_id
                v.memory += 1
        elif event.type in ev.TERMINAL_TYPES:
            v.runs += 1
            v.results += 1
            v.loss += 1
            v.memory += 1
            v.phases += 1
        elif isinstance(event, ev.SessionFinished):
            v.runs += 1
        if rec is not None and rec.run_id not in self.colors:
            self._color(rec.run_id)

    def _color(self, run_id: str) -> None:
        if run_id and run_id not in self.colors:
            self.colors[run_id] = len(self.colors)

    def _sample(self, s: ev.Sample) -> None:
        if s.percpu:
            if len(self.cpu_history) != len(s.percpu):
                self.cpu_history = [deque(maxlen=CPU_HISTORY) for _ in s.percpu]
            for hist, value in zip(self.cpu_history, s.percpu, strict=True):
                hist.append(float(value))
            self.percpu = list(s.percpu)
            self.cpu_t = s.t
            self.versions.cpu += 1
        if s.run_id:
            rss = self.rss_history.setdefault(s.run_id, [])
            rss.append(float(s.rss))
            if len(rss) > MAX_HISTORY:
                del rss[::2]
            self.threads[s.run_id] = s.threads
            self.cores[s.run_id] = s.cores_in_use
            self.current_run = s.run_id
            self.versions.memory += 1
        util = getattr(s, "gpu_util", None)  # engine-side NVML; absent without a GPU
        if util:
            self.gpu = GpuReading(
                run_id=s.run_id,
                util=[float(u) for u in util],
                mem_used=[int(m) for m in getattr(s, "gpu_mem_used", None) or []],
                mem_total=[int(m) for m in getattr(s, "gpu_mem_total", None) or []],
                run_mem=getattr(s, "run_gpu_mem", None),
            )
            if len(self.gpu_history) != len(util):
                self.gpu_history = [deque(maxlen=GPU_HISTORY) for _ in util]
            for hist, value in zip(self.gpu_history, util, strict=True):
                hist.append(float(value))
            self.versions.gpu += 1

    def _warning(self, w: ev.WarningSeen) -> None:
        key = f"{w.category}|{w.filename}|{w.lineno}|{w.message}"
        merged = self.warnings.get(key)
        if merged is None:
            merged = self.warnings[key] = MergedWarning(
                w.category, w.message, w.filename, w.lineno, first_t=w.first_t
            )
        merged.counts[w.run_id] = w.count
        merged.first_t = min(merged.first_t or w.first_t, w.first_t)
        merged.last_t = max(merged.last_t, w.last_t)
        self.newest_warning = max(self.warnings.values(), key=lambda m: m.last_t).key
        self.versions.warnings += 1

    # questions ------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        return self._summary.ordered_runs() if self._summary is not None else []

    def active_runs(self) -> list[RunRecord]:
        return [r for r in self.runs() if r.state in ACTIVE_STATES]

    def session_info(self) -> dict[str, Any]:
        """The session's own record (executor, machine), empty before the first event."""
        return self._summary.session if self._summary is not None else {}

    def run(self, run_id: str | None) -> RunRecord | None:
        return self._summary.runs.get(run_id) if run_id and self._summary is not None else None

    def memory_run(self) -> RunRecord | None:
        """The run the memory panel follows: the running one, else the latest sampled."""
        running = [r for r in self.summary.ordered_runs() if r.state == "running"]
        if running:
            return running[-1]
        current = self.run(self.current_run)
        if current is not None and self.rss_history.get(current.run_id):
            return current
        sampled = [r for r in self.summary.ordered_runs() if self.rss_history.get(r.run_id)]
        return sampled[-1] if sampled else current

    def elapsed(self, rec: RunRecord, now: float | None = None) -> float | None:
        if rec.t_start is None:
            return None
        end = rec.t_end if rec.t_end is not None else (now or time.time())
        return max(0.0, end - rec.t_start)

    def run_label(self, rec: RunRecord) -> str:
        """``default.qubit+backprop #1``; with the swept values when parameters vary
        between runs (``default.qubit+backprop (qubits=4) #1``), as results' labels."""
        rep = int(rec.spec.get("repeat_index", 0) or 0)
        varying = self._varying_keys(rec)
        if varying:
            params = rec.spec.get("params") or {}
            extra = ", ".join(f"{k}={params.get(k)}" for k in varying)
            return f"{rec.combo} ({extra}) #{rep + 1}"
        return f"{rec.combo} #{rep + 1}"

    def _varying_keys(self, rec: RunRecord) -> list[str]:
        # within the run's workload family (qtui.core.workload_groups); recomputed only
        # when runs are added (labels are asked for at every redraw)
        from qtui.core.parameters import combo_parameters

        if self._groups is None or self._varying_n != len(self.summary.runs):
            from qtui.core.summary_schema import Result
            from qtui.core.workload_groups import WorkloadGroups

            self._varying_n = len(self.summary.runs)
            self._groups = WorkloadGroups(
                [
                    Result(parameters=combo_parameters(r.spec))
                    for r in self.summary.runs.values()
                    if r.spec.get("device")
                ]
            )
        return self._groups.varying(combo_parameters(rec.spec))

    def phases_run(self, picked: str | None = None) -> RunRecord | None:
        """The run the phases panel details: the one picked in a queue, else the
        running one, else the latest with a phase breakdown."""
        rec = self.run(picked)
        if rec is not None:
            return rec
        runs = self.summary.ordered_runs()
        running = [r for r in runs if r.state == "running"]
        if running:
            return running[-1]
        with_phases = [r for r in runs if r.phases]
        return with_phases[-1] if with_phases else None

    def cpu_node(self) -> str | None:
        """The node whose per-core CPU the panel shows: the compute node of the run in
        focus when it is a cluster run (its samples come from there), else None."""
        rec = self.run(self.current_run)
        if rec is None or not rec.job:
            return None
        return str(rec.job.get("node") or (rec.job.get("machine") or {}).get("hostname") or "") or None

    def color(self, run_id: str | None) -> str:
        """The run's series colour in the current theme (first seen, first colour)."""
        return self.palette[self.colors.get(run_id or "", 0) % len(self.palette)]

    def set_palette(self, colors: list[str]) -> None:
        self.palette = list(colors) or ["cyan"]
        self.versions.style += 1

    def pick_phases(self, run_id: str) -> None:
        """A run highlighted in a queue: the phases panel details it."""
        if run_id != self.phases_pick:
            self.phases_pick = run_id
            self.versions.phases += 1

    def analysis(self) -> tuple[list[Result], Recommendation, dict[str, SweepAxis]]:
        """``results[]``, recommendation and sweep of the session, as in ``document()``;
        recomputed once per finished run, not per panel or per tick."""
        version = self.versions.results
        if self._analysis is None or self._analysis_version != version:
            from qtui.analysis.crossovers import analyse
            from qtui.analysis.recommend import recommend
            from qtui.core.workload_groups import workload_runs

            combos = self.summary.combos()
            finished = [c for c in combos if c.mean is not None]
            self._analysis = (combos, recommend(finished), analyse(workload_runs(finished)))
            self._analysis_version = version
        return self._analysis

    def document(self) -> Summary:
        """The session's JSON summary (``qtui.analysis.summary_builder.document``), for export and history."""
        from qtui.analysis.summary_builder import document

        return document(self.summary)
