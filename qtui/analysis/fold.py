"""A session's results, folded from the event stream.

``SessionSummary.apply(event)`` is the one place events become run records and
per-combination statistics.  What it answers is the summary's own records
(``qtui.core.summary_schema``): ``combos()`` gives one ``Result`` per combination
(the TUI renders them live), ``RunRecord.to_run()`` a ``Run``; a run's state while
it is folded stays in the plain event fields it came from.  This module only
folds: the JSON summary document
(``qtui.analysis.summary_builder``), the analysis (``qtui.analysis.recommend``, ``qtui.analysis.crossovers``)
and the rows every view renders (``qtui.report.results``) are built on top of it, and
nothing here imports them.
"""

from __future__ import annotations

import statistics
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from qtui.analysis.sample_series import SampleSeries
from qtui.core import cpu_fit, node_types, units
from qtui.core import events as ev
from qtui.core.config import SCRIPT_CHOICE
from qtui.core.parameters import (
    WORKLOAD_KNOBS,
    combo_key,
    combo_name,
    combo_parameters,
)
from qtui.core.run_states import TERMINAL_STATE, end_state
from qtui.core.summary_schema import (
    Cpus,
    DeviceUse,
    Metric,
    Quantum,
    Resources,
    Result,
    Run,
    RunCount,
    RunError,
    RunResult,
    ScriptEnd,
    WarningRecord,
)
from qtui.core.workload_groups import WorkloadGroups

#: What a result's ``final_loss`` is: the mean loss of the last epoch for a run
#: that trains whole epochs, the mean over the measured steps for a step-limited
#: run (a sweep point).  Every view names it with these words.
LOSS_KINDS = {
    "last_epoch": "mean loss of the last epoch",
    "measured_steps": "mean loss over the measured steps",
    # a qtui exec script that never called qtui.epoch(): the whole run is one epoch
    "all_steps": "mean loss over every step (the script marked no epoch: qtui.epoch() does)",
}


def loss_kind(parameters: dict[str, Any], script: Any = None) -> str:
    """``measured_steps`` for step-limited runs (``steps`` > 0); ``all_steps`` for a
    ``qtui exec`` script that marked no epoch (``script``: its ``script_ended`` record,
    a dict or a ``ScriptEnd``); else ``last_epoch``."""
    marked = script.get("epochs_marked") if isinstance(script, dict) else getattr(
        script, "epochs_marked", None)
    if marked is False:
        return "all_steps"
    try:
        steps = int(parameters.get("steps") or 0)
    except (TypeError, ValueError):
        steps = 0
    return "measured_steps" if steps > 0 else "last_epoch"


@dataclass
class RunRecord:
    """Everything known about one run, updated as its events arrive."""

    run_id: str
    spec: dict[str, Any]
    state: str = "queued"
    started: dict[str, Any] = field(default_factory=dict)  # RunStarted fields
    epoch: int = 0
    batch: int = 0
    step: int = 0
    last_loss: float | None = None
    # Not bounded on purpose: the loss chart shows the whole run, and an
    # array of doubles costs 8 bytes a batch (a million-batch run: 8 MB).
    batch_losses: array[float] = field(default_factory=lambda: array("d"))
    epoch_losses: list[float] = field(default_factory=list)
    validation_losses: list[float] = field(default_factory=list)  # per epoch, if any
    warnings: dict[tuple[str, str, str, int], dict[str, Any]] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    last_sample: dict[str, Any] = field(default_factory=dict)
    # Its readings over time, bounded (``runs[].samples``; qtui.analysis.sample_series).
    samples: SampleSeries = field(default_factory=SampleSeries)
    result: dict[str, Any] = field(default_factory=dict)  # RunFinished fields
    error: dict[str, Any] = field(default_factory=dict)  # failed/crashed/timed out/cancelled
    # A cluster job's placement (``job_state`` events): executor, job_id, array_task_id,
    # state, reason, node, and the node's machine_info once its log started.
    job: dict[str, Any] = field(default_factory=dict)
    # The combination the run was started as, when its circuits ran elsewhere and it
    # was recorded under what ran (--allow-foreign-device; qtui.engine.device_truth).
    asked: dict[str, Any] = field(default_factory=dict)
    # ``qtui exec``: where its output is kept (``script_output``), how the script ended
    # (``script_ended``: exit code, what it asked for, its output's last lines) and what
    # it logged with ``qtui.log`` (name -> values).
    script: dict[str, Any] = field(default_factory=dict)
    logged: dict[str, list[float]] = field(default_factory=dict)
    t_start: float | None = None
    t_end: float | None = None

    @property
    def device(self) -> str:
        return str(self.spec.get("device", ""))

    @property
    def diff_method(self) -> str:
        return str(self.spec.get("diff_method", ""))

    @property
    def combo(self) -> str:
        """``default.qubit+backprop``, a script's ``train.py on ...`` (``combo_name``)."""
        return combo_name(combo_parameters(self.spec))

    @property
    def warning_count(self) -> int:
        return sum(int(w.get("count", 0)) for w in self.warnings.values())

    def to_run(self) -> Run:
        """The run's ``runs[]`` record."""
        result = {k: v for k, v in self.result.items() if k not in ("threadpools", "run_id", "quantum")}
        quantum = self.result.get("quantum")
        return Run(
            run_id=self.run_id,
            state=self.state,
            repeat_index=self.spec.get("repeat_index", 0),
            parameters=combo_parameters(self.spec),
            resolved_diff_method=self.started.get("resolved_diff_method"),
            split_batch=self.started.get("split_batch"),
            pid=self.started.get("pid"),
            import_s=self.started.get("import_s"),
            build_s=self.started.get("build_s"),
            threadpools=self.result.get("threadpools") or self.started.get("threadpools", []),
            cpus=self.cpus(),
            result=msgspec.convert(result, RunResult) if result else None,
            quantum=msgspec.convert(quantum, Quantum) if quantum else None,
            asked=dict(self.asked) or None,
            epoch_losses=list(self.epoch_losses),
            validation_losses=list(self.validation_losses),
            phases=dict(self.phases),
            warnings=[msgspec.convert(w, WarningRecord) for w in self.warnings.values()],
            error=self.error_record(),
            script=msgspec.convert(self.script, ScriptEnd) if self.script else None,
            logged={k: list(v) for k, v in self.logged.items()},
            samples=self.samples.record(),
            **self._placement(),
        )

    def cpus(self) -> Cpus | None:
        """The CPUs it may use and whether its pools fit them (``qtui.core.cpu_fit``)."""
        pools = self.result.get("threadpools") or self.started.get("threadpools") or []
        return cpu_fit.fit(self.started.get("cpus"), pools)

    def error_record(self) -> RunError | None:
        """How the run ended when it did not finish (None while it runs or once it finished);
        a cluster run's adds its job's log files (when the job ran) and sacct's Elapsed,
        whenever their ``job_state`` came."""
        if not self.error:
            return None
        job, extra = self.job, {}
        if job.get("logs") and job.get("node"):
            extra["job_logs"] = list(job["logs"])
        if job.get("elapsed_s") is not None:
            extra["slurm_elapsed_s"] = job["elapsed_s"]
        return error_record({"run_id": self.run_id, **self.error, **extra})

    def placement(self) -> Run:
        """Only where the run ran (executor, node, node's machine): what
        ``qtui.core.node_types`` reads, without building the whole record."""
        return Run(run_id=self.run_id, **self._placement())

    def _placement(self) -> dict[str, Any]:
        """``executor``, ``job_id``, ``array_task_id``, ``node``, ``job_state`` and the
        node's ``node_machine`` for a run on a cluster; nothing for a local run."""
        if not self.job:
            return {}
        return {
            "executor": self.job.get("executor", ""),
            "job_id": self.job.get("job_id", ""),
            "array_task_id": self.job.get("array_task_id", ""),
            "node": self.job.get("node", ""),
            "job_state": self.job.get("state", ""),
            "node_machine": dict(self.job.get("machine") or {}),
            "attempts": int(self.job.get("attempts") or 0),
            "queue_wait_s": self.job.get("queue_wait_s"),
            "slurm_elapsed_s": self.job.get("elapsed_s"),
            "alloc_cpus": self.job.get("alloc_cpus"),
            "job_logs": list(self.job.get("logs") or []),
        }


def _new_attempt(rec: RunRecord) -> None:
    """Forget what a run reported before its job was requeued: its figures are those of
    the attempt that finishes (the job's log holds each attempt after its own start)."""
    rec.started, rec.t_start, rec.last_sample = {}, None, {}
    rec.samples = SampleSeries()
    rec.epoch = rec.batch = rec.step = 0
    rec.last_loss = None
    rec.batch_losses = array("d")
    rec.epoch_losses, rec.validation_losses = [], []
    rec.warnings, rec.phases, rec.logged, rec.script = {}, {}, {}, {}


def error_record(data: dict[str, Any]) -> RunError:
    """A terminal event's fields (``run_failed`` … ``run_cancelled``) as a ``RunError``."""
    return msgspec.convert(data, RunError)


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "stddev": None, "median": None, "mad": None, "min": None,
                "max": None, "times": []}
    median = statistics.median(values)
    return {
        "mean": statistics.fmean(values),
        "stddev": statistics.stdev(values) if len(values) > 1 else None,
        "median": median,
        # median absolute deviation (raw, not scaled): pyperf's robust spread
        "mad": statistics.median(abs(v - median) for v in values) if len(values) > 1 else None,
        "min": min(values),
        "max": max(values),
        "times": list(values),
    }


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


class SessionSummary:
    """Fold events into run records; answer per-combination statistics."""

    def __init__(self) -> None:
        self.session: dict[str, Any] = {}
        self.runs: dict[str, RunRecord] = {}
        self.refused: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.interrupted = False
        self.finished = False
        #: qtui's own CPU seconds, summed over the session's supervisor sessions (the app
        #: runs one per start); None until one says it (``session_finished.qtui_cpu_s``).
        self.qtui_cpu_s: float | None = None

    # folding ------------------------------------------------------------------
    def apply(self, event: ev.Event) -> RunRecord | None:
        """Fold one event in; returns the run it touched, if any."""
        if isinstance(event, ev.SessionStarted):
            self.session = event.to_dict()
            for spec in event.runs:
                self._record(spec.get("run_id", ""), spec)
            self.refused = list(event.refused) or self.refused
            return None
        if isinstance(event, ev.SessionFinished):
            self.finished = True
            self.interrupted = event.interrupted
            if event.qtui_cpu_s is not None:
                self.qtui_cpu_s = (self.qtui_cpu_s or 0.0) + event.qtui_cpu_s
            return None
        if isinstance(event, ev.RunRefused):
            item = {"device": event.device, "diff_method": event.diff_method, "reason": event.reason}
            if item not in self.refused:
                self.refused.append(item)
            return None
        if isinstance(event, ev.LogNote):
            self.notes.append(event.message)
            return None
        run_id = getattr(event, "run_id", None)
        if not run_id:
            return None
        if isinstance(event, (ev.RunQueued, ev.RunStarted)):
            rec = self._record(run_id, event.spec)
        else:
            rec = self.runs.get(run_id) or self._record(run_id, {"run_id": run_id})
        self._apply_run(rec, event)
        return rec

    def _record(self, run_id: str, spec: dict[str, Any]) -> RunRecord:
        rec = self.runs.get(run_id)
        if rec is None:
            rec = self.runs[run_id] = RunRecord(run_id=run_id, spec=dict(spec))
        elif spec.get("device"):
            rec.spec = dict(spec)
        return rec

    def _apply_run(self, rec: RunRecord, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            rec.state = "running"
            rec.started = event.to_dict()
            rec.t_start = event.t
            if event.params_used is not None and isinstance(rec.spec.get("params"), dict):
                # The workload reads only these: the others are not recorded as applied.
                rec.spec = {**rec.spec, "params": drop_unused(rec.spec["params"], event.params_used)}
        elif isinstance(event, ev.RunLaunched):
            # Running from the moment the process exists: its imports take seconds
            # and the sampler already watches it (``started`` stays empty until then).
            if rec.state == "queued":
                rec.state = "running"
        elif isinstance(event, ev.Batch):
            rec.state = "running" if rec.state == "queued" else rec.state
            rec.epoch, rec.batch, rec.step = event.epoch, event.batch, event.step
            rec.last_loss = event.loss
            rec.batch_losses.append(event.loss)
        elif isinstance(event, ev.Epoch):
            if len(rec.epoch_losses) < event.epoch:
                rec.epoch_losses.append(event.mean_loss)
            else:
                rec.epoch_losses[event.epoch - 1] = event.mean_loss
        elif isinstance(event, ev.Validation):
            del rec.validation_losses[event.epoch - 1 :]
            rec.validation_losses.extend([float("nan")] * (event.epoch - 1 - len(rec.validation_losses)))
            rec.validation_losses.append(event.loss)
        elif isinstance(event, ev.WarningSeen):
            rec.warnings[event.key] = {
                "category": event.category,
                "message": event.message,
                "filename": event.filename,
                "lineno": event.lineno,
                "count": event.count,
                "first_t": event.first_t,
                "last_t": event.last_t,
            }
        elif isinstance(event, ev.Phases):
            rec.phases = dict(event.seconds)
        elif isinstance(event, ev.Logged):
            for name, value in event.values.items():
                rec.logged.setdefault(name, []).append(value)
        elif isinstance(event, ev.ScriptOutput):
            # Known before the script's first line: a run killed later still names them.
            rec.script = {**rec.script, "stdout_path": event.stdout_path or None,
                          "stderr_path": event.stderr_path or None,
                          "output_limit_bytes": event.limit_bytes, "output_note": event.note}
        elif isinstance(event, ev.ScriptEnded):
            data = event.to_dict()
            for k in ("type", "v", "t", "run_id"):
                data.pop(k, None)
            rec.script = {**rec.script, **data}
        elif isinstance(event, ev.Sample):
            rec.last_sample = event.to_dict()
            rec.samples.add(event)
        elif isinstance(event, ev.JobState):
            old = rec.job
            starts = int(old.get("attempts") or 0)
            if event.machine and event.attempt > max(starts, 1):
                _new_attempt(rec)  # its job was requeued: what it reported was the last attempt's
            rec.job = {
                "executor": event.executor, "job_id": event.job_id,
                "array_task_id": event.array_task_id, "state": event.state,
                "reason": event.reason, "node": event.node or old.get("node", ""),
                "machine": event.machine or old.get("machine") or {},
                # the attempt SLURM is on (shown), and the starts of the run's log (recorded)
                "attempt": max(event.attempt, int(old.get("attempt") or 0)),
                "attempts": max(starts, event.attempt or 1) if event.machine else starts,
                "logs": list(event.logs) or list(old.get("logs") or []),
                **{k: getattr(event, k) if getattr(event, k) is not None else old.get(k)
                   for k in ("queue_wait_s", "elapsed_s", "alloc_cpus")},
            }
        elif event.type in TERMINAL_STATE:
            rec.state = end_state(event)
            rec.t_end = event.t
            data = event.to_dict()
            for k in ("type", "v", "t"):
                data.pop(k, None)
            if isinstance(event, ev.RunFinished):
                rec.result = data
                q = event.quantum
                chose = SCRIPT_CHOICE in (rec.device, rec.diff_method)  # what its script chose
                if q is not None and (q.foreign or chose) and q.device and not rec.asked:
                    # Recorded under what ran: its parameters, label and combination;
                    # what was asked only when it ran elsewhere.
                    if q.foreign and (rec.device, rec.diff_method) != (SCRIPT_CHOICE, SCRIPT_CHOICE):
                        rec.asked = {"device": rec.device, "diff_method": rec.diff_method}
                    rec.spec = {**rec.spec, "device": q.device, "diff_method": q.diff_method}
                if q is not None and q.diff_method and "," not in q.diff_method and rec.started:
                    # What PennyLane resolved, seen at the device, over what the run
                    # said it resolved before any circuit ran.
                    rec.started["resolved_diff_method"] = q.diff_method
                if event.epoch_losses:
                    rec.epoch_losses = list(event.epoch_losses)
                if event.validation_losses:
                    rec.validation_losses = list(event.validation_losses)
                if event.phases:
                    rec.phases = dict(event.phases)
            else:
                data["state"] = rec.state
                rec.error = data

    # questions ------------------------------------------------------------------
    def ordered_runs(self) -> list[RunRecord]:
        return list(self.runs.values())

    def combos(self) -> list[Result]:
        """One ``results[]`` record per combination, in first-seen order."""
        groups: dict[str, list[RunRecord]] = {}
        for rec in self.runs.values():
            if not rec.spec.get("device"):
                continue
            groups.setdefault(combo_key(combo_parameters(rec.spec)), []).append(rec)
        results = [self._combo(recs) for recs in groups.values()]
        # labels within a family, Relative within a group (qtui.core.workload_groups)
        kept_apart = WorkloadGroups(results)
        for _, members in kept_apart.split(results):
            means = [r.mean for r in members if r.mean is not None]
            fastest = min(means) if means else None
            for r in members:
                r.label = kept_apart.label(r)
                r.group = kept_apart.name(r.parameters)
                r.relative = r.mean / fastest if fastest and r.mean is not None else None
        return results

    def _combo(self, recs: list[RunRecord]) -> Result:
        done = [r for r in recs if r.state == "finished" and r.result]
        res = [r.result for r in done]
        params = combo_parameters(recs[0].spec)
        entry = Result(
            combo=combo_name(params),
            parameters=params,
            **_stats([float(x["train_s"]) for x in res]),
            resources=_resources(res),
            contended_runs=sum(1 for x in res if x.get("contended")),
            **_thread_fit(recs),
            loss_kind=loss_kind(params, next((r.script for r in done if r.script), None)),
            epoch_losses=[list(r.epoch_losses) for r in done],
            metrics=_metrics(res),
            phases=_mean_phases([r.phases for r in done if r.phases]),
            resolved_diff_method=next(
                (r.started.get("resolved_diff_method") for r in recs if r.started), None
            ),
            split_batch=next((r.started.get("split_batch") for r in recs if r.started), None),
            quantum=_quantum([r for r in done if r.result.get("quantum")]),
            threadpools=next(
                (list(r.result["threadpools"]) for r in done if r.result.get("threadpools")), []
            ),
            warnings=_merge_warnings(recs),
            errors=[e for e in (r.error_record() for r in recs) if e is not None],
            runs=RunCount(total=len(recs), finished=len(done)),
            run_ids=[r.run_id for r in recs],
            # Where the finished runs were measured (qtui.core.node_types): the node type
            # of each, and the cluster nodes by name (empty for local runs).
            node_types=_unique(
                node_types.of_run(r.placement(), self.session.get("machine")) for r in done
            ),
            nodes=_unique(str(r.job.get("node") or "") for r in done if r.job),
        )
        steps = [int(x.get("steps", 0)) for x in res]
        entry.steps = steps[0] if steps else None
        entry.time_per_step = entry.mean / steps[0] if steps and steps[0] and entry.mean else None
        acc = [x["accuracy"] for x in res if x.get("accuracy") is not None]
        entry.accuracy = _mean([float(a) for a in acc])
        entry.final_loss = _mean([float(x["final_loss"]) for x in res])
        if any(r.validation_losses for r in done):
            entry.validation_losses = [list(r.validation_losses) for r in done]
        entry.warning_count = sum(w.count for w in entry.warnings)
        return entry

    def versions(self) -> dict[str, str]:
        """Package versions the runs reported (the session's machine info otherwise)."""
        for rec in self.runs.values():
            if rec.started.get("versions"):
                return dict(rec.started["versions"])
        return dict(self.session.get("machine", {}).get("versions", {}))


def drop_unused(params: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    """A run's workload parameters without those its workload does not read
    (``Workload.params_used``; qtui's own run controls always stay)."""
    keep = set(used)
    return {k: v for k, v in params.items() if k not in WORKLOAD_KNOBS or k in keep}


def _thread_fit(recs: list[RunRecord]) -> dict[str, Any]:
    """``oversubscribed_runs``, ``threads_advice`` (the fewest CPUs free among them) and
    ``threads_auto`` (what ``--threads auto`` chose) of a combination's runs."""
    fits = [c for c in (r.cpus() for r in recs) if c is not None]
    over = [c for c in fits if c.oversubscribed]
    return {
        "oversubscribed_runs": len(over),
        "threads_advice": min((c.free for c in over if c.free is not None), default=None),
        "threads_auto": [c.threads_auto for c in fits if c.threads_auto is not None],
    }


def _resources(res: list[dict[str, Any]]) -> Resources:
    """``results[].resources`` over the finished runs' ``run_finished`` fields."""
    peak_rss = [int(x.get("peak_rss", 0)) for x in res]
    peak_threads = [int(x.get("peak_threads", 0)) for x in res]
    busy = [float(x["contention_cores"]) for x in res if x.get("contention_cores") is not None]
    busy_max = [
        float(x["contention_cores_max"]) for x in res if x.get("contention_cores_max") is not None
    ]
    out = Resources(
        peak_rss_bytes=max(peak_rss) if peak_rss else None,
        cores_in_use=_mean([float(x["cores_in_use"]) for x in res]),
        core_s=_mean([float(x["core_s"]) for x in res]),
        core_s_stddev=(
            statistics.stdev([float(x["core_s"]) for x in res]) if len(res) > 1 else None
        ),
        core_s_per_step=_mean(_finite(x.get("core_s_per_step") for x in res)),
        peak_threads=max(peak_threads) if peak_threads else None,
        peak_rss_values=peak_rss,
        core_s_values=[float(x["core_s"]) for x in res],
        contention_cores=_mean(busy),
        contention_cores_max=max(busy_max) if busy_max else None,
    )
    for kind in ("minor_faults", "major_faults"):  # counted in the window (engine.trainer)
        setattr(out, kind, _mean([float(x[kind]) for x in res if x.get(kind) is not None]))
    gpu_mem = [int(x["gpu_mem_peak"]) for x in res if x.get("gpu_mem_peak") is not None]
    gpu_util = [float(x["gpu_util_mean"]) for x in res if x.get("gpu_util_mean") is not None]
    if gpu_mem or gpu_util:
        # GPU figures exist only where NVML saw a GPU (qtui.engine.sampler).
        out.gpu_mem_peak_bytes = max(gpu_mem) if gpu_mem else None
        out.gpu_mem_scope = next((x.get("gpu_mem_scope") for x in res if x.get("gpu_mem_scope")), "")
        out.gpu_util_mean = _mean(gpu_util)
    return out


def _metrics(results: list[dict[str, Any]]) -> dict[str, Metric]:
    """``results[].metrics``: each named metric's mean over the finished runs, its
    direction, and its values per run ({} when the workload named none)."""
    out: dict[str, Metric] = {}
    for res in results:
        for name, m in (res.get("metrics") or {}).items():
            if not isinstance(m, dict):
                continue
            slot = out.setdefault(name, Metric(higher_is_better=bool(m.get("higher_is_better", True))))
            slot.values.append(m.get("value"))
    for slot in out.values():
        slot.value = _mean([float(v) for v in slot.values if isinstance(v, (int, float))])
    return out


def _quantum(done: list[RunRecord]) -> Quantum | None:
    """``results[].quantum``: device truth over a combination's finished runs (None
    without any): the devices (executions and circuits summed), the diff methods,
    the means per run of executions, circuits, states (runs that counted them) and
    device seconds per step, and which combinations its runs were started as when
    they ran elsewhere."""
    if not done:
        return None
    devices: dict[tuple[Any, Any, Any], DeviceUse] = {}
    methods: list[str] = []
    per_step: dict[str, list[float]] = {"executions": [], "circuits": [], "states": [],
                                        "execute_s": []}
    execute_s: list[float] = []
    for r in done:
        q = r.result["quantum"]
        for d in q.get("devices") or []:
            key = (d.get("name"), d.get("wires"), d.get("shots"))
            m = devices.setdefault(key, DeviceUse(name=key[0], wires=key[1], shots=key[2],
                                                  executions=0, circuits=0))
            m.executions = (m.executions or 0) + int(d.get("executions") or 0)
            m.circuits = (m.circuits or 0) + int(d.get("circuits") or 0)
            if d.get("states") is not None:
                m.states = (m.states or 0) + int(d["states"])
        methods += [m for m in q.get("diff_methods") or [] if m not in methods]
        steps = int(r.result.get("steps") or 0)
        for name in ("executions", "circuits", "states"):  # None: a run without a step
            per_step[name] += _finite([q.get(f"{name}_per_step")])
        execute_s.append(float(q.get("execute_s") or 0.0))
        if steps:
            per_step["execute_s"].append(float(q.get("execute_s") or 0.0) / steps)
    return Quantum(
        devices=list(devices.values()),
        diff_methods=methods,
        executions_per_step=_mean(per_step["executions"]),
        circuits_per_step=_mean(per_step["circuits"]),
        states_per_step=_mean(per_step["states"]),
        execute_s=_mean(execute_s),
        execute_s_per_step=_mean(per_step["execute_s"]),
        asked=_unique(f"{r.asked['device']}+{r.asked['diff_method']}" for r in done if r.asked),
        # why the per-step figures are None (no run had a step)
        per_step_note=None if per_step["executions"] else next(
            (str(r.result["quantum"].get("per_step_note")) for r in done
             if r.result["quantum"].get("per_step_note")), None),
    )


def _finite(values: Iterable[Any]) -> list[float]:
    """The finite numbers among ``values`` (None, NaN: a figure a run did not have)."""
    out = [units.number(v) for v in values]
    return [v for v in out if v is not None]


def _unique(items: Iterable[str]) -> list[str]:
    """The non-empty items, once each, in first-seen order."""
    return [x for x in dict.fromkeys(items) if x]


def _mean_phases(items: list[dict[str, float]]) -> dict[str, float | None]:
    if not items:
        return {}
    keys = list(items[0])
    return {k: statistics.fmean(float(p.get(k, 0.0)) for p in items) for k in keys}


def _merge_warnings(recs: list[RunRecord]) -> list[WarningRecord]:
    merged: dict[tuple[str, str, str, int], WarningRecord] = {}
    for r in recs:
        for key, w in r.warnings.items():
            m = merged.get(key)
            if m is None:
                merged[key] = msgspec.convert(w, WarningRecord)
            else:
                m.count += w["count"]
                m.first_t = min(m.first_t, w["first_t"]) if m.first_t is not None else w["first_t"]
                m.last_t = max(m.last_t, w["last_t"]) if m.last_t is not None else w["last_t"]
    return sorted(merged.values(), key=lambda w: -w.count)
