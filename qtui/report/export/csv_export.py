"""CSV: one row per run, raw numbers (seconds, bytes, fractions) for spreadsheets.

Columns: session and run identity, ``group`` (the run's workload group,
``qtui.core.workload_groups``: what its Relative and the picks compare it with), ``parameter_*`` (device, diff method and
every workload parameter), timing, resources, accuracy, the workload's named
metrics when it has any (``metric_<name>`` and ``metric_<name>_higher_is_better``),
the last validation loss when runs had a validation set (``validation_loss``), final loss and what it is (``loss_kind``: ``last_epoch``,
``measured_steps`` or ``all_steps``, see ``qtui.analysis.fold.LOSS_KINDS``), warnings,
state and error.  Device truth (``qtui.engine.device_truth``): ``ran_on`` (the
text of the results' Ran on column), ``asked`` (the combination a run was
started as when it was recorded under what ran), the per-step counts
(``qtui.core.device_counts``, named as ``qml.Tracker`` names them):
``executions_per_step`` (device calls, the tracker's *batches*),
``circuits_per_step`` (its *simulations*) and ``states_per_step`` (the states
evolved, a broadcast tape of 5 counting 5: its *executions*; blank when a
run's qtui did not count them), and ``device_execute_s`` (seconds inside
device calls).
When some run ran on a cluster, ``executor``, ``job_id``,
``array_task_id``, ``node``, ``job_state`` (the scheduler's last word), its job's
accounting (``attempts``, ``queue_wait_s``: sbatch to the first start,
``slurm_elapsed_s`` and ``alloc_cpus``: sacct's Elapsed and AllocCPUS) and
``node_type`` (``qtui.core.node_types``: the text of the results' Node column)
follow the run's identity.  Refused combinations get a row too (state ``refused``, no
run id), so a spreadsheet shows everything that was asked for.  Text from a run
(errors, names) has its control characters escaped (``qtui.core.safe_text``).

Beside it, ``<stem>-samples.csv``: every run's resource readings over time, one
row per reading (``SAMPLE_COLUMNS``), from the summary's ``runs[].samples``
(``qtui.analysis.sample_series``), for plotting elsewhere.  A summary without
readings (written before qtui kept them, or whose runs never started) gets the
header alone, so a folder of exports always has both files and a re-export with
``--force`` never leaves another session's readings beside new runs.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from qtui.analysis.fold import loss_kind
from qtui.analysis.outcomes import describe_error, run_warning_total
from qtui.core import device_counts, node_types, phase_names
from qtui.core.safe_text import visible
from qtui.core.summary_schema import Run, RunResult, Summary
from qtui.core.workload_groups import WorkloadGroups
from qtui.report.export.base import Exporter
from qtui.report.results import ran_on

FIXED_COLUMNS = [
    "session_id",
    "run_id",
    "repeat_index",
    "state",
    "group",
]
#: Where a cluster run ran; present only when some run did.
JOB_COLUMNS = [
    "executor", "job_id", "array_task_id", "node", "job_state",
    "attempts", "queue_wait_s", "slurm_elapsed_s", "alloc_cpus", "node_type",
]
#: The CPUs a run could use at its start and whether its pools fit (``runs[].cpus``).
CPU_COLUMNS = [
    "usable_cpus", "busy_cores_at_start", "free_cpus", "largest_pool", "threads_auto",
    "oversubscribed", "threads_advice",
]
RESULT_COLUMNS = [
    "resolved_diff_method",
    "split_batch",
    "train_s",
    "steps",
    "time_per_step_s",
    "core_s",
    "cores_in_use",
    "core_s_per_step",
    "peak_rss_bytes",
    "peak_threads",
    "minor_faults",
    "major_faults",
    "contention_cores",
    "contention_cores_max",
    "contended",
    *CPU_COLUMNS,
    "gpu_mem_peak_bytes",
    "gpu_mem_scope",
    "gpu_util_mean",
    "ran_on",
    "asked",
    *(c.field for c in device_counts.COUNTS),
    "device_execute_s",
    "accuracy",
    "final_loss",
    "loss_kind",
    "epochs",
    "import_s",
    "build_s",
    "warnings",
    "warning_kinds",
    "error_type",
    "error",
]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:  # NaN
        return "nan"
    return value


def _columns(runs: list[Run]) -> tuple[list[str], list[str], list[str], bool, bool, list[str]]:
    """Every column, and the parameter keys, metric names and optional blocks the runs have."""
    param_keys: list[str] = ["device", "diff_method"]
    for run in runs:
        for k in run.parameters:
            if k not in param_keys:
                param_keys.append(k)
    cluster = any(node_types.is_cluster_run(r) for r in runs)
    metric_keys: list[str] = []  # the workload's named metrics, by name
    for run in runs:
        for k in run.result.metrics if run.result else {}:
            if k not in metric_keys:
                metric_keys.append(k)
    validated = any(run.validation_losses for run in runs)
    phase_keys = [p.key for p in phase_names.shown(*(run.phases for run in runs if run.phases))]
    extra = ([f"metric_{k}" for k in metric_keys]
             + [f"metric_{k}_higher_is_better" for k in metric_keys]
             + (["validation_loss"] if validated else []))
    at, phases_at = RESULT_COLUMNS.index("final_loss"), RESULT_COLUMNS.index("warnings")
    columns = (FIXED_COLUMNS + (JOB_COLUMNS if cluster else [])
               + [f"parameter_{k}" for k in param_keys]
               + RESULT_COLUMNS[:at] + extra + RESULT_COLUMNS[at:phases_at]
               + [f"phase_{k}_s" for k in phase_keys] + RESULT_COLUMNS[phases_at:])
    return columns, param_keys, metric_keys, cluster, validated, phase_keys


def _measured(run: Run) -> dict[str, Any]:
    """What a run measured: raw seconds, bytes and fractions (blank when it did not finish)."""
    res = run.result or RunResult()
    q = run.quantum
    steps, train_s = res.steps, res.train_s
    return {
        "train_s": train_s,
        "steps": steps,
        "time_per_step_s": train_s / steps if train_s is not None and steps else None,
        "core_s": res.core_s,
        "cores_in_use": res.cores_in_use,
        "core_s_per_step": res.core_s_per_step,
        "peak_rss_bytes": res.peak_rss or None,
        "peak_threads": res.peak_threads,
        "minor_faults": res.minor_faults,
        "major_faults": res.major_faults,
        "contention_cores": res.contention_cores,
        "contention_cores_max": res.contention_cores_max,
        "contended": res.contended if run.result else None,
        "gpu_mem_peak_bytes": res.gpu_mem_peak,
        "gpu_mem_scope": res.gpu_mem_scope or None,
        "gpu_util_mean": res.gpu_util_mean,
        "ran_on": ran_on(q) if q else None,
        **{c.field: getattr(q, c.field) if q else None for c in device_counts.COUNTS},
        "device_execute_s": q.execute_s if q else None,
        "accuracy": res.accuracy,
        "final_loss": res.final_loss,
    }


def _cpus(run: Run) -> dict[str, Any]:
    """``runs[].cpus`` as raw columns (blank for a run that recorded none)."""
    c = run.cpus
    if c is None:
        return dict.fromkeys(CPU_COLUMNS)
    return dict(zip(CPU_COLUMNS, (
        c.usable, c.busy, c.free, c.largest_pool, c.threads_auto, c.oversubscribed,
        c.free if c.oversubscribed else None,
    ), strict=True))


def _row(sid: str | None, run: Run) -> dict[str, Any]:
    err = run.error
    asked = run.asked or {}
    return {
        "session_id": sid,
        "run_id": run.run_id,
        "repeat_index": run.repeat_index,
        "state": run.state,
        "resolved_diff_method": run.resolved_diff_method,
        "split_batch": run.split_batch,
        **_measured(run),
        **_cpus(run),
        "asked": f"{asked.get('device')}+{asked.get('diff_method')}" if asked else None,
        "loss_kind": loss_kind(run.parameters, run.script),
        "epochs": len(run.epoch_losses),
        "import_s": run.import_s,
        "build_s": run.build_s,
        "warnings": run_warning_total(run),
        "warning_kinds": len(run.warnings),
        "error_type": (err.exc_type or err.state) if err else None,
        "error": describe_error(err) or None,
    }


#: The samples file's columns: who, then one reading (``runs[].samples``).
SAMPLE_COLUMNS = [
    "session_id", "run_id", "label", "group", "t_s", "cpu_s", "cores_in_use", "rss_bytes",
    "threads", "machine_busy_cores",
]
SAMPLES_SUFFIX = "-samples"


def sample_rows(summary: Summary) -> list[dict[str, Any]]:
    """One row per kept reading of every run, runs in the summary's order; ``label`` is
    the run's name in every view (``default.qubit+backprop #2``), ``group`` its
    result's (the runs file's ``group``), ``t_s`` seconds since its process started."""
    groups = WorkloadGroups(summary.results or summary.runs)
    out: list[dict[str, Any]] = []
    for run in summary.runs:
        s = run.samples
        if s is None:
            continue
        who = {
            "session_id": summary.session_id,
            "run_id": run.run_id,
            "label": groups.run_label(run.parameters, run.repeat_index),
            "group": groups.name(run.parameters),
        }
        for t, cpu, cores, rss, threads, busy in zip(
            s.t, s.cpu_s, s.cores_in_use, s.rss, s.threads, s.busy_cores, strict=False
        ):  # a file whose columns differ in length: up to the shortest
            out.append({**who, "t_s": t, "cpu_s": cpu, "cores_in_use": cores, "rss_bytes": rss,
                        "threads": threads, "machine_busy_cores": busy})
    return out


def render_samples(summary: Summary) -> str:
    """``<stem>-samples.csv``: the header, then ``sample_rows``; text escaped."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SAMPLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in sample_rows(summary):
        writer.writerow({c: _cell(row.get(c)) for c in SAMPLE_COLUMNS})
    return visible(buf.getvalue())  # a run's text (its label): control characters escaped


def samples_note(summary: Summary) -> str:
    """Why the samples file has its header only ("" when some run has readings)."""
    if any(run.samples is not None and run.samples.t for run in summary.runs):
        return ""
    if not summary.runs:
        return "the summary holds no runs"
    return ("the summary holds no samples (written before qtui kept them, or its runs never "
            "started; the session's event log has them: qtui report LOG.jsonl)")


def rows(summary: Summary) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and one dict per run (and per refused combination)."""
    columns, param_keys, metric_keys, cluster, validated, phase_keys = _columns(summary.runs)
    out: list[dict[str, Any]] = []
    sid = summary.session_id
    groups = WorkloadGroups(summary.results or summary.runs)  # the results' headers
    for run in summary.runs:
        row = _row(sid, run)
        row["group"] = groups.name(run.parameters)
        if cluster:
            for key in JOB_COLUMNS[:-1]:
                row[key] = getattr(run, key)
            row["node_type"] = node_types.of_run(run, summary.machine_info) or None
        for key in phase_keys:
            row[f"phase_{key}_s"] = run.phases.get(key)
        run_metrics = run.result.metrics if run.result else {}
        for k in metric_keys:
            m = run_metrics.get(k)
            row[f"metric_{k}"] = m.value if m else None
            row[f"metric_{k}_higher_is_better"] = m.higher_is_better if m else None
        if validated:
            row["validation_loss"] = run.validation_losses[-1] if run.validation_losses else None
        for k in param_keys:
            row[f"parameter_{k}"] = run.parameters.get(k)
        out.append(row)
    for ref in summary.refused:
        out.append(
            {
                "session_id": sid,
                "state": "refused",
                "parameter_device": ref.device,
                "parameter_diff_method": ref.diff_method,
                "error_type": "refused",
                "error": ref.reason,
            }
        )
    return columns, out


class CsvExporter(Exporter):
    name = "csv"
    extension = "csv"
    description = "one row per run with parameter_* columns; raw numbers (s, bytes)"
    beside = (SAMPLES_SUFFIX,)

    def render_beside(self, summary: Summary, suffix: str) -> str:
        if suffix != SAMPLES_SUFFIX:
            raise KeyError(suffix)
        return render_samples(summary)

    def render(self, summary: Summary) -> str:
        columns, data = rows(summary)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
        return visible(buf.getvalue())  # a run's text: control characters escaped
