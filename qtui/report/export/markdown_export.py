"""Markdown: the report's narrative (``qtui.report.narrative``), ready to paste.

Laid out like hyperfine's Markdown export ("Relative" against the fastest),
with qtui's resource columns beside it: every section of the narrative, as
``####`` headings, GitHub tables (best values in bold, a cell's second line
after ``<br>``), lists and the command line in a code block.  This module
supplies only the syntax: what a forum post or a GitHub issue needs for
someone else to judge the numbers is decided once, in the narrative.
"""

from __future__ import annotations

from typing import Any

from qtui.core.safe_text import visible
from qtui.core.summary_schema import Summary
from qtui.report import narrative as nv
from qtui.report.export.base import Exporter


def _esc(text: Any) -> str:
    """A table cell: pipes escaped, newlines folded."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(headers: list[str], rows: list[list[str]], align: list[str]) -> list[str]:
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(_esc(h) for h in headers) + " |"]
    lines.append("|" + "|".join(marks.get(a, "---") for a in align) + "|")
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _code(text: Any) -> str:
    s = str(text).replace("`", "'")
    return f"`{s}`"


def _cell(cell: nv.Cell) -> str:
    text = _esc(cell.text)
    text = f"**{text}**" if cell.best else text
    return f"{text}<br>{_esc(cell.note)}" if cell.note else text


def _table(block: nv.Table) -> list[str]:
    headers = [c.title for c in block.columns]
    rows = [[_cell(c) for c in row] for row in block.rows]
    lines = table(headers, rows, [c.align for c in block.columns])
    return ([f"**{block.title}**", ""] if block.title else []) + lines


def _items(block: nv.Items) -> list[str]:
    head = [f"**{block.title}**", ""] if block.title else []
    return head + [f"- {_code(i.code) if i.code else ''}{i.text}" for i in block.items]


def _block(block: nv.Block) -> list[str]:
    if isinstance(block, nv.Table):
        return _table(block)
    if isinstance(block, nv.Items):
        return _items(block)
    if isinstance(block, nv.Legend):
        return [block.text]
    if isinstance(block, nv.Fields):
        return [f"- {k}: {v}" for k, v in block.pairs]
    if isinstance(block, nv.CommandLine):
        return ["```sh", block.text, "```"]
    if block.tone == "warn":
        return [f"> **{block.text}**"]
    return [f"_{block.text}_" if block.tone == "note" else block.text]


def render_markdown(summary: Summary) -> str:
    doc = nv.build(summary)
    out = [f"### {doc.title}", ""]
    for section in doc.sections:
        out += [f"#### {section.title}", ""]
        for block in section.blocks:
            out += _block(block) + [""]
    # text from a run (errors, warnings, names) with its control characters escaped
    return visible("\n".join(out).rstrip() + "\n")


class MarkdownExporter(Exporter):
    name = "md"
    extension = "md"
    description = "results table and environment, ready to paste into a forum post or issue"

    def render(self, summary: Summary) -> str:
        return render_markdown(summary)
