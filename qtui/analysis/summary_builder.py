"""The summary document (``qtui.core.summary_schema.Summary``), built on the fold.

``document(summary)`` is what ``--json`` writes, what every exporter renders
and what ``qtui report`` re-reads: the fold's per-combination ``results[]``
and ``runs[]``, plus the analysis made from them (the recommendation, per
workload group, and the sweep's series and crossovers, over the workload runs:
a ``qtui exec`` script's runs are no sweep point, ``qtui.core.workload_groups``).  A session with cluster runs also gets a
top-level ``nodes`` list: per node type (``qtui.core.node_types``) its label, CPU
model, logical cores, node names and run ids.  Field by field in
``docs/EXPORTS.md``.
"""

from __future__ import annotations

import datetime as _dt
import math

from qtui.analysis.crossovers import analyse
from qtui.analysis.fold import SessionSummary
from qtui.analysis.recommend import recommend
from qtui.analysis.thread_choice import choose
from qtui.core import node_types
from qtui.core.summary_schema import Refusal, Run, SessionResources, Summary
from qtui.core.workload_groups import workload_runs


def document(summary: SessionSummary) -> Summary:
    """The summary of a (possibly still running) session."""
    s = summary.session
    results = summary.combos()
    t = s.get("t")
    when = _dt.datetime.fromtimestamp(
        t if isinstance(t, (int, float)) else _dt.datetime.now().timestamp(), tz=_dt.timezone.utc
    )
    runs = [r.to_run() for r in summary.runs.values()]
    return Summary(
        qtui_version=s.get("qtui_version"),
        datetime=when.isoformat(),
        session_id=s.get("session_id"),
        argv=list(s.get("argv", [])),
        machine_info=dict(s.get("machine") or {}),
        versions=summary.versions(),
        interrupted=summary.interrupted,
        results=results,
        recommendation=recommend(results),
        sweep=analyse(workload_runs(results)),
        thread_choice=choose(workload_runs(results)),
        refused=[Refusal(**{k: str(r.get(k) or "") for k in ("device", "diff_method", "reason")})
                 for r in summary.refused],
        runs=runs,
        notes=list(summary.notes),
        nodes=node_types.nodes_block(runs, s.get("machine")),
        resources=_own_cost(summary, runs),
    )


def _own_cost(summary: SessionSummary, runs: list[Run]) -> SessionResources | None:
    """qtui's own CPU over the session, and per second of its runs' training; None
    where the session did not say it (older logs, ``--isolation thread``)."""
    cpu = summary.qtui_cpu_s
    if cpu is None:
        return None
    train_s = sum(t for t in (r.result.train_s for r in runs if r.result is not None)
                  if t is not None and math.isfinite(t))
    return SessionResources(qtui_cpu_s=cpu, qtui_cpu_per_train_s=cpu / train_s if train_s > 0 else None)
