"""A comparison as one self-contained HTML page (``qtui compare A B --html FILE``).

The loss curves of every session in one plotly chart, drawn from
``qtui.analysis.comparison.loss_overlay`` (the curves the app's comparison screen
draws): a colour per curve, a line style per session (solid A, dashed B, dotted
C...), each named by its session's letter and its combination.  With two sessions,
the verdict table under it, in ``qtui compare``'s words (``row_texts``).  plotly.js
is embedded as in the session report, so the page opens with no network, and the
data is embedded too (``<script type="application/json" id="qtui-comparison">``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from qtui.analysis.comparison import OVERLAY_CAPTION, Comparison, LossOverlay, row_texts, rule_text
from qtui.report.export.html_export import _DASHES, _chart, _esc, _head, _plotly

_COLUMNS = ("Combination", "Time A", "Time B", "Change", "Speed", "Peak RSS A → B", "Memory change",
            "Memory", "Core-s change")


def _loss_figure(overlay: LossOverlay) -> Any:
    go = _plotly()
    fig = go.Figure()
    for curve in overlay.curves:
        fig.add_trace(go.Scatter(
            x=list(range(1, len(curve.losses) + 1)), y=curve.losses, mode="lines+markers",
            name=curve.name, legendgroup=curve.letter,
            line={"dash": _DASHES[curve.session % len(_DASHES)]},
        ))
    fig.update_layout(title=OVERLAY_CAPTION, xaxis_title="epoch", yaxis_title="loss",
                      xaxis={"dtick": 1})
    return fig


def _table(result: Comparison) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in _COLUMNS)
    rows = []
    for row in result.combinations:
        t = row_texts(row)
        cells = (row.combination, t["time_a"], t["time_b"], t["time_change"], t["speed"],
                 f"{t['memory_a']} → {t['memory_b']}", t["memory_change"], row.memory,
                 t["core_s_change"])
        rows.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_comparison_html(overlay: LossOverlay, result: Comparison | None) -> str:
    """The page: which session is which, the chart, and (two sessions) the verdicts."""
    parts = _head("qtui comparison")
    parts.append("<ul>" + "".join(
        f"<li><b>{_esc(s.letter)}</b> = {_esc(s.title)}"
        + (f" <span class=\"note\">(session {_esc(s.session_id)})</span>" if s.session_id else "")
        + "</li>"
        for s in overlay.sessions
    ) + "</ul>")
    parts.append('<h2 id="loss">Loss curves</h2>')
    if overlay.curves:
        parts.append(_chart("Loss per epoch", _loss_figure(overlay)))
    else:
        parts.append("<p>No run of these sessions recorded a loss per epoch.</p>")
    if result is not None:
        parts.append('<h2 id="verdicts">A → B, per combination</h2>')
        if result.combinations:
            parts.append(_table(result))
        else:
            parts.append("<p>No combination with the same parameters in both sessions.</p>")
        for label, items in (("Only in A", result.only_in_a), ("Only in B", result.only_in_b)):
            if items:
                parts.append(f"<p>{_esc(label)}: {_esc(', '.join(items))}</p>")
        parts.append(f'<p class="note">{_esc(rule_text(result.threshold))}</p>')
    data = {"overlay": overlay.to_builtins(),
            "comparison": result.to_builtins() if result is not None else None}
    text = msgspec.json.encode(data).decode().replace("</", "<\\/")  # NaN as null
    parts.append(f'<script type="application/json" id="qtui-comparison">{text}</script>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_comparison_html(
    path: str | os.PathLike[str], overlay: LossOverlay, result: Comparison | None, force: bool = False
) -> Path:
    """Write the page to ``path`` in one step, as every export is written (an existing
    file only with ``force``; ``ExportError`` says why not)."""
    from qtui.report.export import _atomic_write

    target = Path(path).expanduser()
    _atomic_write(target, render_comparison_html(overlay, result).encode("utf-8"), force)
    return target
