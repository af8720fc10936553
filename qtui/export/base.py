"""The exporter interface and the formatting every human-facing format shares.

One small exporter per format (hyperfine's shape): a name, a file extension and
``render(summary) -> str | bytes``.  Exporters render from the summary *dict*
(``SessionSummary.to_dict()`` or a loaded JSON file), never from live objects,
so ``qtui report`` re-renders a saved file exactly as the live session would.

The helpers here (units, the results table, the environment lines, error
descriptions) are shared by Markdown, HTML, the console tables of ``watch``
and ``compare``, so every view says the same thing the same way.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

from qtui.summary import varying_parameters  # noqa: F401 - re-exported for the exporters

MiB = 1024 * 1024
GiB = 1024 * MiB


class ExportError(Exception):
    """An export or a load failed; the message is one line that says why."""


class Exporter(ABC):
    """One output format."""

    #: Format name used on the command line (``--format``).
    name: str = ""
    #: File extension, without the dot.
    extension: str = ""
    #: Short description for ``--help``.
    description: str = ""

    @abstractmethod
    def render(self, summary: dict[str, Any]) -> str | bytes:
        """The whole file's contents for this summary."""


# --- numbers in human units ---------------------------------------------------


def _num(value: Any) -> float | None:
    """A finite float, or None for missing/NaN/non-numeric values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def time_unit(seconds: float | None) -> tuple[str, float]:
    """The unit a column of times should use, chosen from its smallest value."""
    if seconds is not None and seconds < 1.0:
        return "ms", 1000.0
    return "s", 1.0


def fmt_seconds(value: Any, unit: str | None = None) -> str:
    """``0.0523`` -> ``52.30 ms``; ``2.5`` -> ``2.500 s``; missing -> ``—``."""
    v = _num(value)
    if v is None:
        return "—"
    name, scale = (unit, 1000.0 if unit == "ms" else 1.0) if unit else time_unit(v)
    return f"{_sig(v * scale)} {name}"


def fmt_in(value: Any, scale: float) -> str:
    """A number already in a column's unit (no unit suffix)."""
    v = _num(value)
    return "—" if v is None else _sig(v * scale)


def _sig(x: float) -> str:
    """Four significant figures without scientific notation for everyday sizes."""
    ax = abs(x)
    if ax >= 1000:
        return f"{x:.0f}"
    if ax >= 100:
        return f"{x:.1f}"
    if ax >= 10:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_bytes(value: Any) -> str:
    """Bytes in MiB (GiB above 10 GiB); missing or zero -> ``—``."""
    v = _num(value)
    if not v:
        return "—"
    if v >= 10 * GiB:
        return f"{v / GiB:.1f} GiB"
    return f"{v / MiB:.1f} MiB"


def fmt_float(value: Any, digits: int = 4) -> str:
    v = _num(value)
    return "—" if v is None else f"{v:.{digits}f}"


def fmt_percent(value: Any) -> str:
    """Accuracy is stored as a fraction (0.88) and shown as ``88.0 %``."""
    v = _num(value)
    return "—" if v is None else f"{100 * v:.1f} %"


def fmt_cores(value: Any) -> str:
    v = _num(value)
    return "—" if v is None else f"{v:.2f}"


# --- summary fields -----------------------------------------------------------


def combo_label(parameters: dict[str, Any]) -> str:
    return f"{parameters.get('device')}+{parameters.get('diff_method')}"


def result_label(result: dict[str, Any], varying: list[str]) -> str:
    """``default.qubit+backprop`` plus the swept parameters, e.g. ``qubits=4``."""
    params = result.get("parameters") or {}
    label = str(result.get("command") or combo_label(params))
    extra = [f"{k}={params.get(k)}" for k in varying]
    return label + (f" ({', '.join(extra)})" if extra else "")


def relative(result: dict[str, Any], fastest: dict[str, Any] | None) -> str:
    """hyperfine's "Relative": mean / fastest mean, ± propagated σ where known."""
    mean, best = _num(result.get("mean")), _num((fastest or {}).get("mean"))
    if mean is None or not best:
        return "—"
    ratio = mean / best
    sd, sd_best = _num(result.get("stddev")), _num((fastest or {}).get("stddev"))
    if sd is not None and sd_best is not None and mean:
        err = ratio * math.sqrt((sd / mean) ** 2 + (sd_best / best) ** 2)
        if result is not fastest:
            return f"{ratio:.2f} ± {err:.2f}"
    return f"{ratio:.2f}"


def fastest_result(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    timed = [r for r in results if _num(r.get("mean")) is not None]
    return min(timed, key=lambda r: float(r["mean"])) if timed else None


def results_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, rows and column alignments ("l"/"r") of the results table.

    The time columns share one unit (ms when the fastest mean is under a
    second), stated in the header like hyperfine's ``Mean [ms]``.
    """
    results = [r for r in summary.get("results") or [] if isinstance(r, dict)]
    varying = varying_parameters(results)
    best = fastest_result(results)
    unit, scale = time_unit(_num((best or {}).get("mean")))
    headers = [
        "Combination",
        "Runs",
        f"Mean ± σ [{unit}]",
        f"Min [{unit}]",
        f"Max [{unit}]",
        "Relative",
        "Peak RSS",
        "Cores in use",
        "Core-s",
        "Threads",
        "Accuracy",
        "Final loss",
        "Warnings",
    ]
    align = ["l"] + ["r"] * (len(headers) - 1)
    rows = []
    for r in results:
        res = r.get("resources") or {}
        runs = r.get("runs") or {}
        mean = fmt_in(r.get("mean"), scale)
        sd = _num(r.get("stddev"))
        mean_sd = mean if sd is None or mean == "—" else f"{mean} ± {fmt_in(sd, scale)}"
        rows.append(
            [
                result_label(r, varying),
                f"{runs.get('finished', 0)}/{runs.get('total', 0)}",
                mean_sd,
                fmt_in(r.get("min"), scale),
                fmt_in(r.get("max"), scale),
                relative(r, best),
                fmt_bytes(res.get("peak_rss_bytes")),
                fmt_cores(res.get("cores_in_use")),
                fmt_in(res.get("core_s"), 1.0),
                str(res.get("peak_threads") or "—"),
                fmt_percent(r.get("accuracy")),
                fmt_float(r.get("final_loss")),
                str(r.get("warning_count") or 0),
            ]
        )
    return headers, rows, align


def common_parameters(summary: dict[str, Any]) -> dict[str, Any]:
    """Workload parameters shared by every result (shown once, not per row)."""
    results = [r for r in summary.get("results") or [] if isinstance(r, dict)]
    if not results:
        return {}
    varying = set(varying_parameters(results))
    first = results[0].get("parameters") or {}
    return {
        k: v for k, v in first.items() if k not in ("device", "diff_method") and k not in varying
    }


def environment_lines(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs: CPU, cores, memory, OS, Python, package versions.

    Reads ``qtui.machine.machine_info()`` keys, falling back to
    pytest-benchmark's names, so summaries from other writers still render.
    """
    m = summary.get("machine_info") or {}
    cpu: dict[str, Any] = m["cpu"] if isinstance(m.get("cpu"), dict) else {}
    versions = dict((m.get("versions") or {}) if isinstance(m.get("versions"), dict) else {})
    versions.update(summary.get("versions") or {})
    out: list[tuple[str, str]] = []
    host = m.get("hostname") or m.get("node")
    if host:
        out.append(("Host", str(host)))
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
        for name in (
            "torch",
            "pennylane",
            "pennylane-lightning",
            "pennylane-lightning-kokkos",
            "pennylane-lightning-gpu",
            "numpy",
        )
        if versions.get(name)
    ]
    if pkgs:
        out.append(("Packages", ", ".join(pkgs)))
    qv = summary.get("qtui_version") or versions.get("qtui")
    if qv:
        out.append(("qtui", str(qv)))
    if summary.get("datetime"):
        out.append(("Date (UTC)", str(summary["datetime"])))
    return out


def describe_error(error: dict[str, Any] | None) -> str:
    """One line for a failed, crashed, timed-out or cancelled run."""
    if not error:
        return ""
    state = error.get("state", "")
    if error.get("exc_type") or state == "failed":
        msg = str(error.get("message") or "").strip().splitlines()
        return f"{error.get('exc_type', 'Error')}: {msg[0] if msg else ''}".rstrip(": ")
    if state == "crashed" or "signal" in error or "exit_code" in error:
        if error.get("signal"):
            return f"crashed ({error['signal']})"
        return f"crashed (exit code {error.get('exit_code')})"
    if state == "timed_out" or "timeout_s" in error:
        return f"timed out after {error.get('timeout_s')} s"
    if state == "cancelled" or "reason" in error:
        return f"cancelled ({error.get('reason', 'cancelled')})"
    return state or "error"


def failed_runs(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs that did not finish, each with ``label`` and ``why``."""
    out = []
    for run in summary.get("runs") or []:
        if not isinstance(run, dict) or run.get("state") == "finished":
            continue
        params = run.get("parameters") or {}
        why = describe_error(run.get("error")) or str(run.get("state", "unknown"))
        out.append(
            {
                "run_id": run.get("run_id"),
                "label": combo_label(params),
                "repeat": int(run.get("repeat_index") or 0) + 1,
                "state": run.get("state"),
                "why": why,
            }
        )
    return out


def run_warning_total(run: dict[str, Any]) -> int:
    return sum(int(w.get("count", 0)) for w in run.get("warnings") or [] if isinstance(w, dict))


#: Training phases in the order they happen in a step, with their column titles.
PHASES: tuple[tuple[str, str], ...] = (
    ("data", "Data"),
    ("forward_classical", "Fwd classical"),
    ("forward_quantum", "Fwd quantum"),
    ("backward_quantum", "Bwd quantum"),
    ("backward_classical", "Bwd classical"),
    ("optimizer", "Optimiser"),
)

PHASES_NOTE = (
    "Per training step: milliseconds and share of the step. The classical layers are "
    "always trained by PyTorch's autograd (Bwd classical); Bwd quantum is the QNode's "
    "gradient. With adjoint, PennyLane computes the Jacobian during the forward pass, "
    "so its cost shows in Fwd quantum."
)


def phases_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str]]:
    """Where the time goes, per combination: ms per step and % of the step per phase."""
    results = [r for r in summary.get("results") or [] if isinstance(r, dict)]
    varying = varying_parameters(results)
    headers = ["Combination"] + [title for _, title in PHASES]
    rows = []
    for r in results:
        phases = r.get("phases") or {}
        steps = r.get("steps") or 0
        total = sum(float(phases.get(k) or 0.0) for k, _ in PHASES)
        if not phases or not steps or total <= 0:
            continue
        cells = [result_label(r, varying)]
        for key, _ in PHASES:
            sec = float(phases.get(key) or 0.0)
            cells.append(f"{sec / steps * 1e3:.2f} ms ({sec / total * 100:.0f} %)")
        rows.append(cells)
    return headers, rows, ["l"] + ["r"] * len(PHASES)
