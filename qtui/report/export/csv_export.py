"""CSV: one row per run, raw numbers (seconds, bytes, fractions) for spreadsheets.

Columns: session and run identity, ``parameter_*`` (device, diff method and
every workload parameter), timing, resources, accuracy, the workload's named
metrics when it has any (``metric_<name>`` and ``metric_<name>_higher_is_better``),
the last validation loss when runs had a validation set (``validation_loss``), final loss and what it is (``loss_kind``: ``last_epoch``
or ``measured_steps``, see ``qtui.analysis.fold.LOSS_KINDS``), warnings,
state and error.  Device truth (``qtui.engine.device_truth``): ``ran_on`` (the
text of the results' Ran on column), ``asked`` (the combination a run was
started as when it was recorded under what ran), ``executions_per_step``,
``circuits_per_step`` and ``device_execute_s`` (seconds inside device calls).
When some run ran on a cluster, ``executor``, ``job_id``,
``array_task_id``, ``node``, ``job_state`` (the scheduler's last word) and
``node_type`` (``qtui.core.node_types``: the text of the results' Node column)
follow the run's identity.  Refused combinations get a row too (state ``refused``, no
run id), so a spreadsheet shows everything that was asked for.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from qtui.analysis.fold import loss_kind
from qtui.analysis.outcomes import describe_error, run_warning_total
from qtui.core import node_types
from qtui.report.export.base import Exporter
from qtui.report.phase_table import PHASES, STEP_PHASES
from qtui.report.results import quantum, ran_on

FIXED_COLUMNS = [
    "session_id",
    "run_id",
    "repeat_index",
    "state",
]
#: Where a cluster run ran; present only when some run did.
JOB_COLUMNS = ["executor", "job_id", "array_task_id", "node", "job_state", "node_type"]
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
    "contention_cores",
    "contention_cores_max",
    "contended",
    "gpu_mem_peak_bytes",
    "gpu_mem_scope",
    "gpu_util_mean",
    "ran_on",
    "asked",
    "executions_per_step",
    "circuits_per_step",
    "device_execute_s",
    "accuracy",
    "final_loss",
    "loss_kind",
    "epochs",
    "import_s",
    "build_s",
    *(f"phase_{name}_s" for name, _ in PHASES),
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


def rows(summary: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and one dict per run (and per refused combination)."""
    runs = [r for r in summary.get("runs") or [] if isinstance(r, dict)]
    param_keys: list[str] = ["device", "diff_method"]
    for run in runs:
        for k in run.get("parameters") or {}:
            if k not in param_keys:
                param_keys.append(k)
    cluster = any(node_types.is_cluster_run(r) for r in runs)
    metric_keys: list[str] = []  # the workload's named metrics, by name
    for run in runs:
        for k in (run.get("result") or {}).get("metrics") or {}:
            if k not in metric_keys:
                metric_keys.append(k)
    validated = any(run.get("validation_losses") for run in runs)
    step_phases = any(
        k in (run.get("phases") or {}) for run in runs for k, _ in STEP_PHASES
    )
    extra = ([f"metric_{k}" for k in metric_keys]
             + [f"metric_{k}_higher_is_better" for k in metric_keys]
             + (["validation_loss"] if validated else [])
             + ([f"phase_{name}_s" for name, _ in STEP_PHASES] if step_phases else []))
    at = RESULT_COLUMNS.index("final_loss")
    columns = (FIXED_COLUMNS + (JOB_COLUMNS if cluster else [])
               + [f"parameter_{k}" for k in param_keys]
               + RESULT_COLUMNS[:at] + extra + RESULT_COLUMNS[at:])
    machine = summary.get("machine_info")
    out: list[dict[str, Any]] = []
    sid = summary.get("session_id")
    for run in runs:
        res = run.get("result") or {}
        q = quantum(run)
        asked = run.get("asked") if isinstance(run.get("asked"), dict) else {}
        params = run.get("parameters") or {}
        err = run.get("error") or {}
        steps = res.get("steps")
        train_s = res.get("train_s")
        row: dict[str, Any] = {
            "session_id": sid,
            "run_id": run.get("run_id"),
            "repeat_index": run.get("repeat_index"),
            "state": run.get("state"),
            "resolved_diff_method": run.get("resolved_diff_method"),
            "split_batch": run.get("split_batch"),
            "train_s": train_s,
            "steps": steps,
            "time_per_step_s": train_s / steps if train_s is not None and steps else None,
            "core_s": res.get("core_s"),
            "cores_in_use": res.get("cores_in_use"),
            "core_s_per_step": res.get("core_s_per_step"),
            "peak_rss_bytes": res.get("peak_rss") or None,
            "peak_threads": res.get("peak_threads"),
            "contention_cores": res.get("contention_cores"),
            "contention_cores_max": res.get("contention_cores_max"),
            "contended": res.get("contended") if res else None,
            "gpu_mem_peak_bytes": res.get("gpu_mem_peak"),
            "gpu_mem_scope": res.get("gpu_mem_scope") or None,
            "gpu_util_mean": res.get("gpu_util_mean"),
            "ran_on": ran_on(q) if q else None,
            "asked": f"{asked.get('device')}+{asked.get('diff_method')}" if asked else None,
            "executions_per_step": q.get("executions_per_step"),
            "circuits_per_step": q.get("circuits_per_step"),
            "device_execute_s": q.get("execute_s"),
            "accuracy": res.get("accuracy"),
            "final_loss": res.get("final_loss"),
            "loss_kind": loss_kind(params) if isinstance(params, dict) else None,
            "epochs": len(run.get("epoch_losses") or []),
            "import_s": run.get("import_s"),
            "build_s": run.get("build_s"),
            "warnings": run_warning_total(run),
            "warning_kinds": len(run.get("warnings") or []),
            "error_type": err.get("exc_type") or (err.get("state") if err else None),
            "error": describe_error(err) or None,
        }
        if cluster:
            for key in JOB_COLUMNS[:-1]:
                row[key] = run.get(key)
            row["node_type"] = node_types.of_run(run, machine) or None
        for name, _ in PHASES + (STEP_PHASES if step_phases else ()):
            row[f"phase_{name}_s"] = (run.get("phases") or {}).get(name)
        run_metrics = res.get("metrics")
        run_metrics = run_metrics if isinstance(run_metrics, dict) else {}
        for k in metric_keys:
            m = run_metrics.get(k)
            row[f"metric_{k}"] = m.get("value") if isinstance(m, dict) else None
            row[f"metric_{k}_higher_is_better"] = m.get("higher_is_better") if isinstance(m, dict) else None
        if validated:
            v = run.get("validation_losses") or []
            row["validation_loss"] = v[-1] if v else None
        for k in param_keys:
            row[f"parameter_{k}"] = params.get(k)
        out.append(row)
    for ref in summary.get("refused") or []:
        if not isinstance(ref, dict):
            continue
        out.append(
            {
                "session_id": sid,
                "state": "refused",
                "parameter_device": ref.get("device"),
                "parameter_diff_method": ref.get("diff_method"),
                "error_type": "refused",
                "error": ref.get("reason"),
            }
        )
    return columns, out


class CsvExporter(Exporter):
    name = "csv"
    extension = "csv"
    description = "one row per run with parameter_* columns; raw numbers (s, bytes)"

    def render(self, summary: dict[str, Any]) -> str:
        columns, data = rows(summary)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
        return buf.getvalue()
