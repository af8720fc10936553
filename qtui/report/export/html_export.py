"""HTML: one self-contained file with charts, viewable with no network.

Charts are plotly figures (a well-kept library whose figures zoom, hover and
export to PNG in the browser).  plotly.js is embedded once in the page, not
fetched from a CDN, so the report opens on an air-gapped laptop; that makes
the file about 5 MB.  The summary JSON is embedded too
(``<script type="application/json" id="qtui-summary">``) so the report carries
its own data.  plotly is imported only when an HTML report is rendered.
"""

from __future__ import annotations

import html
from typing import Any

from qtui.analysis.fold import LOSS_KINDS
from qtui.analysis.outcomes import failed_runs
from qtui.analysis.recommend import describe
from qtui.core.parameters import label as result_label
from qtui.core.parameters import run_label, varying_parameters
from qtui.core.units import MiB, number
from qtui.report import results as results_model
from qtui.report.environment import common_parameters, environment_lines
from qtui.report.export.base import Exporter, ExportError
from qtui.report.export.json_export import dumps
from qtui.report.phase_table import PHASES, PHASES_NOTE, phases_table
from qtui.report.results import CONTENDED_NOTE

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem}th{background:#f3f3f3}
td.r,th.r{text-align:right}code{background:#f3f3f3;padding:0 .2rem}
.note{color:#555;font-size:.85rem}.warn{color:#8a4b00}
@media (prefers-color-scheme: dark){body{background:#161616;color:#ddd}
th{background:#262626}code{background:#262626}th,td{border-color:#444}.note{color:#aaa}}
"""


_DASHES = ("solid", "dash", "dot", "dashdot")
_MARKERS = ("circle", "x", "diamond", "triangle-up")


def _figures(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    try:
        import plotly.graph_objects as go
    except ImportError as exc:  # pragma: no cover - plotly is a dependency
        raise ExportError(
            "the HTML report needs plotly (pip install plotly)"
        ) from exc

    results = [r for r in summary.get("results") or [] if isinstance(r, dict)]
    varying = varying_parameters(results)
    figs: list[tuple[str, Any]] = []

    loss = go.Figure()
    # Runs with identical losses (the same seed on devices that agree) would draw
    # on top of each other and show one curve (issue 10, item 21): each repeat of a
    # curve is shifted a little along x, dashed, with its own marker, and its
    # legend entry says which curve it coincides with.
    seen: dict[tuple[float | None, ...], tuple[str, int]] = {}  # curve -> (first run, so far)
    for run in summary.get("runs") or []:
        losses = run.get("epoch_losses") or []
        if not losses:
            continue
        name = run_label(run.get("parameters") or {}, run.get("repeat_index"), varying)
        curve = tuple(None if (x := number(v)) is None else round(x, 9) for v in losses)
        same, dup = seen.get(curve, (name, 0))
        seen[curve] = (same, dup + 1)
        loss.add_trace(
            go.Scatter(
                x=[i + 1 + 0.08 * dup if dup else i + 1 for i in range(len(losses))],
                y=losses,
                mode="lines+markers",
                name=f"{name} (same curve as {same})" if dup else name,
                line={"dash": _DASHES[dup % len(_DASHES)]},
                marker={"symbol": _MARKERS[dup % len(_MARKERS)], "size": 7 + 2 * (dup > 0)},
            )
        )
    if loss.data:
        loss.update_layout(
            title="Mean training loss per epoch, per run",
            xaxis_title="epoch",
            yaxis_title="loss",
            xaxis={"dtick": 1},
        )
        figs.append(("Loss curves", loss))

    timed = [r for r in results if r.get("mean") is not None]
    if timed:
        labels = [result_label(r, varying) for r in timed]
        time_fig = go.Figure(
            go.Bar(
                x=labels,
                y=[r["mean"] for r in timed],
                error_y={"type": "data", "array": [r.get("stddev") or 0 for r in timed]},
                text=[f"n={len(r.get('times') or [])}" for r in timed],
            )
        )
        time_fig.update_layout(
            title="Training time per combination (mean ± σ)", yaxis_title="seconds"
        )
        figs.append(("Time", time_fig))

        core = [(r.get("resources") or {}) for r in timed]
        core_fig = go.Figure(
            go.Bar(
                x=labels,
                y=[c.get("core_s") for c in core],
                error_y={"type": "data", "array": [c.get("core_s_stddev") or 0 for c in core]},
                text=[
                    f"{c['cores_in_use']:.2f} cores" if c.get("cores_in_use") is not None else ""
                    for c in core
                ],
            )
        )
        core_fig.update_layout(
            title="Core-seconds per combination (CPU time spent training)",
            yaxis_title="core-seconds",
        )
        figs.append(("Core-seconds", core_fig))

        mem_fig = go.Figure(
            go.Bar(
                x=labels,
                y=[(c.get("peak_rss_bytes") or 0) / MiB for c in core],
            )
        )
        mem_fig.update_layout(title="Peak memory (RSS) per combination", yaxis_title="MiB")
        figs.append(("Peak memory", mem_fig))

    phased = [r for r in timed if r.get("phases") and r.get("steps")]
    if phased:
        phase_fig = go.Figure()
        for key, title in PHASES:
            phase_fig.add_trace(
                go.Bar(
                    name=title,
                    x=[result_label(r, varying) for r in phased],
                    y=[float(r["phases"].get(key) or 0.0) / r["steps"] * 1e3 for r in phased],
                )
            )
        phase_fig.update_layout(
            barmode="stack",
            title="Where the time goes: milliseconds per training step, by phase",
            yaxis_title="ms per step",
        )
        figs.append(("Where the time goes", phase_fig))
    figs += _sweep_figures(go, summary)
    return figs


def _sweep_figures(go: Any, summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """Time and core-seconds per step against each swept axis, one line per combination."""
    from qtui.core.sweep import AXES

    figs: list[tuple[str, Any]] = []
    for axis, data in (summary.get("sweep") or {}).items():
        if not isinstance(data, dict):
            continue
        words = AXES.get(axis, (axis, 0, axis))[2]
        for key, title, unit in (
            ("time_per_step", "Wall time per training step", "seconds per step"),
            ("core_s_per_step", "Core-seconds per training step", "core-seconds per step"),
        ):
            fig = go.Figure()
            for label, points in (data.get("series") or {}).items():
                fig.add_trace(
                    go.Scatter(
                        x=[pt["x"] for pt in points],
                        y=[pt.get(key) for pt in points],
                        mode="lines+markers",
                        name=label,
                    )
                )
            fig.update_layout(
                title=f"{title} against {words}",
                xaxis_title=words,
                yaxis_title=unit,
                yaxis_type="log",
            )
            figs.append((f"{title} ({words})", fig))
    return figs


def _table(headers: list[str], rows: list[list[str]], align: list[str]) -> str:
    head = "".join(
        f'<th class="{"r" if a == "r" else ""}">{html.escape(h)}</th>'
        for h, a in zip(headers, align, strict=False)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"r" if a == "r" else ""}">{html.escape(str(c))}</td>'
            for c, a in zip(row, align, strict=False)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(summary: dict[str, Any]) -> str:
    import plotly.offline

    esc = html.escape
    title = "qtui benchmark" + (
        f" — session {summary['session_id']}" if summary.get("session_id") else ""
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style>",
        # plotly.js, embedded: the report needs no network.
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if summary.get("interrupted"):
        parts.append('<p class="warn"><b>Interrupted:</b> not every run finished.</p>')
    model = results_model.build(summary)
    headers, rows = model.table()
    parts.append("<h2>Results</h2>")
    align = [c.align for c in model.columns]
    parts.append(_table(headers, rows, align) if rows else "<p>No combination finished.</p>")
    loss_note = f" Loss = {LOSS_KINDS[model.loss_kind]}." if model.loss_kind in LOSS_KINDS else ""
    if any(r.cells["contention"].mark for r in model.rows):
        loss_note += f" {CONTENDED_NOTE}."
    parts.append(
        '<p class="note">Time is the training loop only. Cores in use = CPU seconds / wall '
        "seconds; core-s = CPU seconds spent training; relative = mean / fastest mean."
        f"{esc(loss_note)}</p>"
    )
    shaky = [(r.label, p) for r in model.rows for p in r.problems]
    if shaky:
        parts.append("<h3>Unstable results</h3><ul>" + "".join(
            f"<li><code>{esc(label)}</code>: {esc(p)}</li>" for label, p in shaky) + "</ul>")
    rec = describe(summary.get("recommendation") or {})
    if rec:
        parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in rec) + "</ul>")
    for axis in (summary.get("sweep") or {}).values():
        if isinstance(axis, dict) and axis.get("crossovers"):
            parts.append(
                "<ul>" + "".join(f"<li>{esc(c)}</li>" for c in axis["crossovers"]) + "</ul>"
            )

    for name, fig in _figures(summary):
        parts.append(f"<h2>{esc(name)}</h2>")
        if name == "Where the time goes":
            p_headers, p_rows, p_align = phases_table(summary)
            if p_rows:
                parts.append(_table(p_headers, p_rows, p_align))
            parts.append(f'<p class="note">{esc(PHASES_NOTE)}</p>')
        parts.append(
            fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})
        )

    env = environment_lines(summary)
    if env:
        parts.append("<h2>Environment</h2><ul>")
        parts += [f"<li><b>{esc(k)}:</b> {esc(v)}</li>" for k, v in env]
        parts.append("</ul>")
    params = common_parameters(summary)
    if params:
        text = ", ".join(f"{k}={v}" for k, v in params.items())
        parts.append(f"<p><b>Workload:</b> <code>{esc(text)}</code></p>")
    refused = [r for r in summary.get("refused") or [] if isinstance(r, dict)]
    if refused:
        parts.append("<h2>Refused combinations</h2><ul>")
        parts += [
            f"<li><code>{esc(str(r.get('device')))}+{esc(str(r.get('diff_method')))}</code>: "
            f"{esc(str(r.get('reason', '')))}</li>"
            for r in refused
        ]
        parts.append("</ul>")
    failed = failed_runs(summary)
    stopped = [f for f in failed if f["state"] not in ("queued", "running")]
    if stopped:
        parts.append("<h2>Runs that did not finish</h2><ul>")
        parts += [
            f"<li><code>{esc(f['label'])}</code> repeat {f['repeat']} ({esc(str(f['run_id']))}): "
            f"{esc(f['why'])}</li>"
            for f in stopped
        ]
        parts.append("</ul>")
    active = [f for f in failed if f["state"] in ("queued", "running")]
    if active:
        parts.append("<h2>Still running at export time</h2><ul>")
        parts += [
            f"<li><code>{esc(f['label'])}</code> repeat {f['repeat']} ({esc(str(f['run_id']))})"
            + (" (queued)" if f["state"] == "queued" else "") + "</li>"
            for f in active
        ]
        parts.append("</ul>")
    warns = [
        (r.get("command", "?"), w)
        for r in summary.get("results") or []
        for w in r.get("warnings") or []
    ]
    if warns:
        parts.append("<h2>Warnings</h2><ul>")
        parts += [
            f"<li><code>{esc(str(c))}</code>: {w.get('count', 0)}× "
            f"{esc(str(w.get('category', '')))}: {esc(str(w.get('message', '')))} "
            f"<span class=\"note\">({esc(str(w.get('filename', '')))}:{w.get('lineno', '')})"
            "</span></li>"
            for c, w in warns
        ]
        parts.append("</ul>")
    data = dumps(summary, indent=None).replace("</", "<\\/")
    parts.append(f'<script type="application/json" id="qtui-summary">{data}</script>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


class HtmlExporter(Exporter):
    name = "html"
    extension = "html"
    description = "single-file report with plotly charts; plotly.js embedded, no network needed"

    def render(self, summary: dict[str, Any]) -> str:
        return render_html(summary)
