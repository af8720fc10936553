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

from qtui.core import phase_names
from qtui.core.safe_text import json_text, visible
from qtui.core.summary_schema import Result, Summary
from qtui.core.sweep import AXES
from qtui.core.units import MiB, number
from qtui.core.workload_groups import WorkloadGroups
from qtui.report import narrative as nv
from qtui.report.export.base import Exporter, ExportError
from qtui.report.export.json_export import dumps


def _esc(text: str) -> str:
    """Text for the page: a run's control characters escaped (``\\x1b``), then HTML's."""
    return html.escape(visible(text))


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem}th{background:#f3f3f3}
td.r,th.r{text-align:right}code{background:#f3f3f3;padding:0 .2rem}
.note{color:#555;font-size:.85rem}.warn{color:#8a4b00}
pre{background:#f3f3f3;padding:.5rem;overflow-x:auto}
@media (prefers-color-scheme: dark){body{background:#161616;color:#ddd}
th{background:#262626}code{background:#262626}th,td{border-color:#444}.note{color:#aaa}}
"""


_DASHES = ("solid", "dash", "dot", "dashdot")
_MARKERS = ("circle", "x", "diamond", "triangle-up")


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as exc:  # pragma: no cover - plotly is a dependency
        raise ExportError("the HTML report needs plotly (pip install plotly)") from exc
    return go


def _loss_figure(go: Any, summary: Summary, groups: WorkloadGroups) -> Any:
    """One curve per run.  Runs with identical losses (the same seed on devices that
    agree) would draw on top of each other and show one curve (issue 10, item 21):
    each repeat of a curve is shifted a little along x, dashed, with its own marker,
    and its legend entry says which curve it coincides with."""
    loss = go.Figure()
    seen: dict[tuple[float | None, ...], tuple[str, int]] = {}  # curve -> (first run, so far)
    for run in summary.runs:
        losses = run.epoch_losses
        if not losses:
            continue
        name = groups.run_label(run.parameters, run.repeat_index)
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
    loss.update_layout(
        title="Mean training loss per epoch, per run", xaxis_title="epoch",
        yaxis_title="loss", xaxis={"dtick": 1},
    )
    return loss


def _bar(go: Any, labels: list[str], y: list[Any], title: str, unit: str, **bar: Any) -> Any:
    fig = go.Figure(go.Bar(x=labels, y=y, **bar))
    fig.update_layout(title=title, yaxis_title=unit)
    return fig


def _result_figures(go: Any, timed: list[Result], groups: WorkloadGroups) -> list[tuple[str, str, Any]]:
    """Time, core-seconds and peak memory per combination (the Results section's charts)."""
    labels = [r.label or groups.label(r) for r in timed]
    res = [r.resources for r in timed]
    return [
        ("results", "Time", _bar(
            go, labels, [r.mean for r in timed], "Training time per combination (mean ± σ)",
            "seconds", error_y={"type": "data", "array": [r.stddev or 0 for r in timed]},
            text=[f"n={len(r.times)}" for r in timed])),
        ("results", "Core-seconds", _bar(
            go, labels, [c.core_s for c in res],
            "Core-seconds per combination (CPU time spent training)", "core-seconds",
            error_y={"type": "data", "array": [c.core_s_stddev or 0 for c in res]},
            text=[f"{c.cores_in_use:.2f} cores" if c.cores_in_use is not None else "" for c in res])),
        ("results", "Peak memory", _bar(
            go, labels, [(c.peak_rss_bytes or 0) / MiB for c in res],
            "Peak memory (RSS) per combination", "MiB")),
    ]


def _phase_figure(go: Any, phased: list[Result], groups: WorkloadGroups) -> Any:
    fig = go.Figure()
    for phase in phase_names.shown(*(r.phases for r in phased)):
        fig.add_trace(go.Bar(
            name=phase.title,
            x=[r.label or groups.label(r) for r in phased],
            y=[(number(r.phases.get(phase.key)) or 0.0) / (r.steps or 1) * 1e3 for r in phased],
        ))
    fig.update_layout(
        barmode="stack", title="Where the time goes: milliseconds per training step, by phase",
        yaxis_title="ms per step",
    )
    return fig


def _figures(summary: Summary) -> list[tuple[str, str, Any]]:
    """(narrative section, chart name, plotly figure) for every chart the data allows."""
    go = _plotly()
    groups = WorkloadGroups(summary.results)  # names made within a workload group's family
    figs: list[tuple[str, str, Any]] = []
    if any(run.epoch_losses for run in summary.runs):
        figs.append(("results", "Loss curves", _loss_figure(go, summary, groups)))
    timed = [r for r in summary.results if r.mean is not None]
    if timed:
        figs += _result_figures(go, timed, groups)
    phased = [r for r in timed if r.phases and r.steps]
    if phased:
        figs.append(("phases", "Milliseconds per step, by phase", _phase_figure(go, phased, groups)))
    return figs + _sweep_figures(go, summary)


def _sweep_figures(go: Any, summary: Summary) -> list[tuple[str, str, Any]]:
    """Time and core-seconds per step against each swept axis, one line per combination."""
    figs: list[tuple[str, str, Any]] = []
    for axis, data in summary.sweep.items():
        words = AXES.get(axis, (axis, 0, axis))[2]
        for key, title, unit in (
            ("time_per_step", "Wall time per training step", "seconds per step"),
            ("core_s_per_step", "Core-seconds per training step", "core-seconds per step"),
        ):
            fig = go.Figure()
            for label, points in data.series.items():
                fig.add_trace(go.Scatter(
                    x=[pt.x for pt in points], y=[getattr(pt, key) for pt in points],
                    mode="lines+markers", name=label,
                ))
                _predicted_traces(go, fig, data, label, key)
            fig.update_layout(
                title=f"{title} against {words}", xaxis_title=words, yaxis_title=unit,
                yaxis_type="log",
            )
            figs.append(("sweep", f"{title} ({words})", fig))
    return figs


def _predicted_traces(go: Any, fig: Any, data: Any, label: str, key: str) -> None:
    """The predicted points of a line (``--predict``), dashed with their 90 % band:
    drawn apart from the measured line, and named "predicted"."""
    pred = [p for p in data.predictions if p.combo == label]
    value, low, high = {
        "time_per_step": ("time_per_step", "time_low", "time_high"),
        "core_s_per_step": ("core_s_per_step", "core_s_low", "core_s_high"),
    }[key]
    if not pred:
        return
    xs = [p.x for p in pred]
    fig.add_trace(go.Scatter(
        x=xs + xs[::-1], y=[getattr(p, high) for p in pred] + [getattr(p, low) for p in pred][::-1],
        fill="toself", opacity=0.2, line={"width": 0}, name=f"{label} (predicted, 90 %)",
        hoverinfo="skip",
    ))
    fig.add_trace(go.Scatter(
        x=xs, y=[getattr(p, value) for p in pred], mode="lines+markers",
        line={"dash": "dash"}, name=f"{label} (predicted)",
    ))


def _cell(tag: str, cell: nv.Cell, align: str) -> str:
    text = _esc(cell.text)
    text = f"<b>{text}</b>" if cell.best else text
    if cell.note:
        text += f'<br><span class="note">{_esc(cell.note)}</span>'
    classes = " ".join(c for c in ("r" if align == "r" else "", cell.tone) if c)
    return f'<{tag} class="{classes}">{text}</{tag}>'


def _table(block: nv.Table) -> str:
    head = "".join(
        f'<th class="{"r" if c.align == "r" else ""}">{_esc(c.title)}</th>'
        for c in block.columns
    )
    body = "".join(
        "<tr>" + "".join(
            _cell("td", cell, col.align) for cell, col in zip(row, block.columns, strict=True)
        ) + "</tr>"
        for row in block.rows
    )
    caption = f"<h3>{_esc(block.title)}</h3>" if block.title else ""
    return f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _items(block: nv.Items) -> str:
    esc = _esc
    head = f"<h3>{esc(block.title)}</h3>" if block.title else ""
    lis = "".join(
        f"<li>{f'<code>{esc(i.code)}</code>' if i.code else ''}{esc(i.text)}</li>"
        for i in block.items
    )
    return f"{head}<ul>{lis}</ul>"


def _block(block: nv.Block) -> str:
    esc = _esc
    if isinstance(block, nv.Table):
        return _table(block)
    if isinstance(block, nv.Items):
        return _items(block)
    if isinstance(block, nv.Legend):
        return f'<p class="note">{esc(block.text)}</p>'
    if isinstance(block, nv.Fields):
        return "<ul>" + "".join(f"<li><b>{esc(k)}:</b> {esc(v)}</li>" for k, v in block.pairs) + "</ul>"
    if isinstance(block, nv.CommandLine):
        return f"<pre><code>{esc(block.text)}</code></pre>"
    tone = f' class="{block.tone}"' if block.tone else ""
    return f"<p{tone}>{esc(block.text)}</p>"


def _head(title: str) -> list[str]:
    import plotly.offline

    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style>",
        # plotly.js, embedded: the report needs no network.
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{_esc(title)}</h1>",
    ]


def _chart(name: str, fig: Any) -> str:
    plot = json_text(fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True}))
    return f"<h3>{_esc(name)}</h3>{plot}"


def render_html(summary: Summary) -> str:
    """The narrative's sections, each followed by the charts that belong to it."""
    doc = nv.build(summary)
    charts: dict[str, list[str]] = {}
    for key, name, fig in _figures(summary):
        charts.setdefault(key, []).append(_chart(name, fig))
    parts = _head(doc.title)
    for section in doc.sections:
        parts.append(f'<h2 id="{section.key}">{_esc(section.title)}</h2>')
        parts += [_block(b) for b in section.blocks]
        parts += charts.pop(section.key, [])
    for rest in charts.values():  # a chart whose section has nothing else to say
        parts += rest
    data = dumps(summary, indent=None).replace("</", "<\\/")
    parts.append(f'<script type="application/json" id="qtui-summary">{data}</script>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


class HtmlExporter(Exporter):
    name = "html"
    extension = "html"
    description = "single-file report with plotly charts; plotly.js embedded, no network needed"

    def render(self, summary: Summary) -> str:
        return render_html(summary)
