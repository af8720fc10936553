"""Markdown: the results table and the environment, ready to paste.

Laid out like hyperfine's Markdown export ("Relative" against the fastest),
with qtui's resource columns beside it, rendered from ``qtui.report.results`` (best
values in bold), then the recommendation, the environment lines, the workload
parameters, refused combinations, failed runs and warnings: everything a
forum post or a GitHub issue needs for someone else to judge the numbers.
"""

from __future__ import annotations

from typing import Any

from qtui.analysis.fold import LOSS_KINDS
from qtui.analysis.outcomes import failed_runs
from qtui.analysis.recommend import describe
from qtui.report import results as results_model
from qtui.report.environment import common_parameters, environment_lines
from qtui.report.export.base import Exporter
from qtui.report.phase_table import PHASES_NOTE, phases_table
from qtui.report.results import BURN_MARK, BURN_NOTE, CONTENDED_NOTE, Cell


def _esc(text: Any) -> str:
    """A table cell: pipes escaped, newlines folded."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(headers: list[str], rows: list[list[str]], align: list[str]) -> list[str]:
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(_esc(h) for h in headers) + " |"]
    lines.append("|" + "|".join(marks.get(a, "---") for a in align) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_esc(c) for c in row) + " |")
    return lines


def _code(text: Any) -> str:
    s = str(text).replace("`", "'")
    return f"`{s}`"


def _cell(cell: Cell) -> str:
    return f"**{cell.shown}**" if cell.best else cell.shown


#: Runs in these states had not ended when the summary was exported.
STILL_ACTIVE = ("queued", "running")


def render_markdown(summary: dict[str, Any]) -> str:
    out: list[str] = []
    title = "qtui benchmark"
    if summary.get("session_id"):
        title += f" — session {summary['session_id']}"
    out += [f"### {title}", ""]
    if summary.get("interrupted"):
        out += ["> **Interrupted:** the session was stopped before every run finished.", ""]

    model = results_model.build(summary)
    if model.rows:
        headers = [c.title for c in model.columns]
        rows = [[_cell(r.cells[c.key]) for c in model.columns] for r in model.rows]
        out += table(headers, rows, [c.align for c in model.columns]) + [""]
        note = (
            "Time is the training loop only (imports and model construction excluded); "
            "*Cores in use* = CPU seconds / wall seconds; *Core-s* = CPU seconds spent "
            "training (what a run costs on a shared node); *Relative* = mean / fastest mean; "
            "best values in bold."
        )
        if model.loss_kind in LOSS_KINDS:
            note += f" *Loss* = {LOSS_KINDS[model.loss_kind]}."
        if any(r.cells["cores"].mark == BURN_MARK for r in model.rows):
            note += f" {BURN_NOTE}."
        if any(r.cells["contention"].mark for r in model.rows):
            note += f" {CONTENDED_NOTE}."
        out += [note, ""]
    else:
        out += ["No combination finished.", ""]

    shaky = [(r.label, p) for r in model.rows for p in r.problems]
    if shaky:
        out += ["**Unstable results** (do not trust these times yet)", ""]
        out += [f"- {_code(label)}: {p}" for label, p in shaky] + [""]

    p_headers, p_rows, p_align = phases_table(summary)
    if p_rows:
        out += ["**Where the time goes**", ""] + table(p_headers, p_rows, p_align) + [""]
        out += [PHASES_NOTE, ""]

    rec_lines = describe(summary.get("recommendation") or {})
    if rec_lines:
        out += [f"- {line}" for line in rec_lines] + [""]

    sweep = summary.get("sweep") or {}
    crossovers = [
        text
        for axis in sweep.values()
        if isinstance(axis, dict)
        for text in axis.get("crossovers") or []
    ]
    if crossovers:
        out += ["**Crossovers**", ""] + [f"- {c}" for c in crossovers] + [""]

    env = environment_lines(summary)
    if env:
        out += ["**Environment**", ""] + [f"- {k}: {v}" for k, v in env] + [""]

    params = common_parameters(summary)
    if params:
        text = ", ".join(f"{k}={v}" for k, v in params.items())
        out += [f"**Workload:** {_code(text)}", ""]

    refused = [r for r in summary.get("refused") or [] if isinstance(r, dict)]
    if refused:
        out += ["**Refused combinations** (PennyLane's reason)", ""]
        out += [
            f"- {_code(str(r.get('device')) + '+' + str(r.get('diff_method')))}: "
            f"{str(r.get('reason', '')).strip()}"
            for r in refused
        ]
        out.append("")

    failed = failed_runs(summary)
    stopped = [f for f in failed if f["state"] not in STILL_ACTIVE]
    if stopped:
        out += ["**Runs that did not finish**", ""]
        out += [
            f"- {_code(f['label'])} repeat {f['repeat']} ({f['run_id']}): "
            f"{f['why']}"
            for f in stopped
        ]
        out.append("")
    active = [f for f in failed if f["state"] in STILL_ACTIVE]
    if active:
        # said once for the list, not "running — running" per run (issue 10, item 19)
        out += ["**Still running at export time**", ""]
        out += [
            f"- {_code(f['label'])} repeat {f['repeat']} ({f['run_id']})"
            + (" (queued)" if f["state"] == "queued" else "")
            for f in active
        ]
        out.append("")

    warn_lines = []
    for r in summary.get("results") or []:
        for w in (r.get("warnings") or [])[:5]:
            msg = str(w.get("message", "")).strip().splitlines()
            warn_lines.append(
                f"- {_code(r.get('command', '?'))}: {w.get('count', 0)}× "
                f"{w.get('category', 'Warning')}: {msg[0] if msg else ''} "
                f"({w.get('filename', '?')}:{w.get('lineno', '?')})"
            )
    if warn_lines:
        out += ["**Warnings** (counted per occurrence)", ""] + warn_lines + [""]

    for note in summary.get("notes") or []:
        out.append(f"> note: {note}")
    if summary.get("argv"):
        out += ["", f"<sub>Command: {_code(' '.join(map(str, summary['argv'])))}</sub>"]
    return "\n".join(out).rstrip() + "\n"


class MarkdownExporter(Exporter):
    name = "md"
    extension = "md"
    description = "results table and environment, ready to paste into a forum post or issue"

    def render(self, summary: dict[str, Any]) -> str:
        return render_markdown(summary)
