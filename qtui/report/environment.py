"""Where a summary was measured: the machine, and what the results ran.

Exporters and the console print these lines under the results, so a pasted
table says which CPU, how many cores and which package versions produced it,
what qtui itself cost while measuring (its own CPU, ``resources``), and the
workload: its parameters shared by every result (``workload_lines``), one line
per workload when a session holds several (a ``qtui exec`` script beside
built-in runs: ``qtui.core.workload_groups``' families).
"""

from __future__ import annotations

from typing import Any

from qtui.core import units
from qtui.core.parameters import script_command
from qtui.core.summary_schema import NodeType, Result, Summary
from qtui.core.units import GiB
from qtui.core.workload_groups import COMBINATION_KEYS, WorkloadGroups, family, workload_name

#: The versions an environment line names (of those ``qtui.engine.machine`` records).
SHOWN_PACKAGES = (
    "torch", "pennylane", "pennylane-lightning", "pennylane-lightning-kokkos",
    "pennylane-lightning-gpu", "numpy",
)


def workload_line(params: dict[str, Any]) -> str:
    """``qubits=2, epochs=6, ..., threads=default``: the shared parameters without the
    ones that are off (``steps=0`` trains whole epochs, and its ``warmup`` is unused),
    ``threads=0`` as what it means (issue 23, item 8: they read as made-up zeros)."""
    shown = dict(params)
    if not shown.get("steps"):
        shown.pop("steps", None)
        shown.pop("warmup", None)
    if shown.get("threads") == 0:
        shown["threads"] = "default"
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def workload_lines(summary: Summary) -> list[str]:
    """The environment's Workload line(s): the parameters shared by every result of a
    workload (those that differ are in the results' labels), shown once.

    One workload: one line, ``seed=42, …, workload=…, threads=default``.  Several
    (``qtui.core.workload_groups``' families: a ``qtui exec`` script beside built-in
    runs), one line each, named: ``script train.py --epochs 2`` (a script's
    workload parameters are not its own: only its command line), ``forum workload:
    seed=42, …``.  Issue 23: a mixed session's one line held what the script and the
    forum runs happened to share (``threads=default``), naming neither.
    """
    if not summary.results:
        return []
    groups = WorkloadGroups(summary.results)
    families: dict[str, list[Result]] = {}
    for r in summary.results:
        families.setdefault(family(r.parameters), []).append(r)
    mixed = len(families) > 1
    out = []
    for members in families.values():
        params = members[0].parameters
        command = script_command(params)
        if command is not None:
            out.append(f"script {command}")
            continue
        varying = set(groups.varying(params))
        shared = {k: v for k, v in params.items() if k not in COMBINATION_KEYS and k not in varying}
        if not mixed:
            text = workload_line(shared)
        else:
            name = workload_name(shared.pop("workload", None))
            rest = workload_line(shared)
            text = ", ".join(w for w in (name, rest) if w)
        if text:
            out.append(text)
    return out


def _measured_on(nodes: list[NodeType]) -> str:
    """``AMD EPYC 7763 ×128: n1, n2 (6 runs); …`` from a summary's ``nodes`` (cluster runs)."""
    parts = []
    for item in nodes:
        if not item.label:
            continue
        names = [n for n in item.nodes if n]
        runs = len(item.run_ids)
        parts.append(f"{item.label}: {', '.join(names) or '?'} ({runs} run{'s' * (runs != 1)})")
    return "; ".join(parts)


def own_cpu(summary: Summary) -> str:
    """``250.0 ms (0.9 % of a core per training second)``: qtui's own process over the
    session, children excluded (issue 24); "" where the summary does not say."""
    res = summary.resources
    if res is None or units.number(res.qtui_cpu_s) is None:
        return ""
    text = units.seconds(res.qtui_cpu_s)
    if units.number(res.qtui_cpu_per_train_s) is not None:
        text += f" ({units.percent(res.qtui_cpu_per_train_s)} of a core per training second)"
    return text


def environment_lines(summary: Summary) -> list[tuple[str, str]]:
    """(label, value) pairs: CPU, cores, memory, OS, Python, package versions.

    Reads ``qtui.engine.machine.machine_info()`` keys (``machine_info`` is free-form
    by design), falling back to pytest-benchmark's names, so summaries from other
    writers still render.
    """
    m = summary.machine_info
    cpu: dict[str, Any] = m["cpu"] if isinstance(m.get("cpu"), dict) else {}
    versions = dict((m.get("versions") or {}) if isinstance(m.get("versions"), dict) else {})
    versions.update(summary.versions)
    out: list[tuple[str, str]] = []
    measured = _measured_on(summary.nodes)
    if measured:
        out.append(("Measured on", measured))
    host = m.get("hostname") or m.get("node")
    if host:
        out.append(("Host", f"{host} (submitted from; the runs ran on the nodes above)"
                    if measured else str(host)))
    model = m.get("cpu_model") or cpu.get("brand_raw") or m.get("processor")
    if model:
        out.append(("CPU", str(model)))
    logical = m.get("logical_cores") or cpu.get("count")
    physical = m.get("physical_cores") or cpu.get("physical_count")
    usable = m.get("usable_cores")
    if logical:
        text = f"{logical} logical"
        if physical:
            text = f"{physical} physical, " + text
        if usable and usable != logical:
            text += f", {usable} usable by qtui"
        out.append(("Cores", text))
    if m.get("memory_total"):
        out.append(("Memory", f"{float(m['memory_total']) / GiB:.1f} GiB"))
    os_name = m.get("os") or " ".join(
        str(x) for x in (m.get("system"), m.get("release")) if x
    )
    if os_name:
        out.append(("OS", str(os_name)))
    py = versions.get("python") or m.get("python_version")
    if py:
        out.append(("Python", str(py)))
    pkgs = [
        f"{name} {versions[name]}"
        for name in SHOWN_PACKAGES
        if versions.get(name)
    ]
    if pkgs:
        out.append(("Packages", ", ".join(pkgs)))
    qv = summary.qtui_version or versions.get("qtui")
    if qv:
        out.append(("qtui", str(qv)))
    own = own_cpu(summary)
    if own:
        out.append(("qtui's own CPU", own))
    if summary.datetime:
        out.append(("Date (UTC)", summary.datetime))
    return out


