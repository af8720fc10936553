"""The report as one document: the sections every narrative format renders.

In hyperfine's manner (its ``MarkupExporter`` writes the table once; each format
supplies the syntax), ``build(summary)`` turns a typed summary into a
``Document``: an ordered list of ``Section``s of typed blocks (paragraphs,
tables of cells with their marks, legends, item lists, fields, the command
line).  The console (``qtui.report.console_report``), Markdown and HTML
(``qtui.report.export``) render this and add only their syntax, so a section,
a note, a mark's legend or a warning cannot be in one format and missing from
another (``tests/test_narrative.py``).  Every figure is a ``qtui.report.results``
cell, so it reads the same in each format.

The sections, in order (a section with nothing to say is left out): results,
unstable results, where the time goes, device truth, runs, refused
combinations, warnings, recommendation, sweep, notes, environment, command line.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qtui.analysis.fold import LOSS_KINDS
from qtui.analysis.outcomes import failed_runs
from qtui.analysis.recommend import describe, named_groups, per_node_type
from qtui.core import device_counts, node_types, phase_names, units
from qtui.core.cpu_fit import EXPLAIN as THREADS_EXPLAIN
from qtui.core.cpu_fit import sentence as cpu_sentence
from qtui.core.summary_schema import Run, Summary, SweepAxis
from qtui.core.sweep import AXES
from qtui.core.workload_groups import WorkloadGroups
from qtui.report import results as results_model
from qtui.report.environment import environment_lines, workload_lines
from qtui.report.phase_table import PHASES_NOTE, phases_table, who_spent
from qtui.report.results import QUANTUM_COLUMNS, Results, Row

# --- the blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column: ``short`` is its header where room is scarce; columns that
    share a ``group`` stay together when a narrow console splits the table.  A
    ``name`` column (a combination, a run) is never cut nor folded: a narrow
    console repeats it, and the columns before it, in every part of a split table
    and wraps the other columns instead (issue 23, item 6)."""

    key: str
    title: str
    short: str = ""
    align: str = "r"
    group: str = ""
    name: bool = False


@dataclass(frozen=True)
class Cell:
    """A table cell: its text (with its mark), whether it is the column's best,
    a quieter second line, and a tone (``warn``) for a cell that needs a look."""

    text: str
    best: bool = False
    note: str = ""
    tone: str = ""


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    title: str = ""


@dataclass(frozen=True)
class Paragraph:
    """Running text; ``tone`` is ``note`` (quiet) or ``warn``."""

    text: str
    tone: str = ""


@dataclass(frozen=True)
class Legend:
    """What a table's columns and marks mean: one sentence per entry."""

    entries: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(e if e.endswith(".") else f"{e}." for e in self.entries)


@dataclass(frozen=True)
class Item:
    """A list item: ``code`` (a combination, a run) shown as code, then ``text``."""

    text: str
    code: str = ""


@dataclass(frozen=True)
class Items:
    items: tuple[Item, ...]
    title: str = ""


@dataclass(frozen=True)
class Fields:
    """Name: value pairs (the environment)."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CommandLine:
    """The command that made the session, quoted so that it can be pasted."""

    text: str


Block = Paragraph | Table | Legend | Items | Fields | CommandLine


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


# --- the sections ------------------------------------------------------------------------

#: key -> heading, in the order every format renders them.
TITLES: dict[str, str] = {
    "results": "Results",
    "unstable": "Unstable results",
    "phases": "Where the time goes",
    "devices": "What the devices executed",
    "runs": "Runs",
    "threads": "Threads and CPUs",
    "refused": "Refused by PennyLane (not run)",
    "warnings": "Warnings",
    "recommendation": "Recommendation",
    "thread_choice": "Threads per combination",
    "sweep": "Sweep",
    "notes": "Notes",
    "environment": "Environment",
    "command": "Command line",
}
#: The sections about the results themselves (``print_report`` on the console) ...
RESULT_SECTIONS = (
    "results", "unstable", "phases", "devices", "runs", "threads", "refused", "warnings",
)
#: ... and the analysis and provenance after them (``print_analysis``).
ANALYSIS_SECTIONS = ("recommendation", "thread_choice", "sweep", "notes", "environment", "command")

#: Results columns by the group they stay in when a narrow console splits the table.
_GROUPS = {
    "training time": ("runs", "mean", "median", "relative"),
    "range and resources": ("min", "max", "peak_rss", "cores", "contention", "gpu_mem", "gpu_util"),
    "where they were measured": ("node",),
}
STILL_ACTIVE = ("queued", "running")
INTERRUPTED = "Interrupted: the session was stopped before every run finished."
NONE_FINISHED = "No combination finished."


def _group(key: str) -> str:
    return next((g for g, keys in _GROUPS.items() if key in keys), "cost and outcome")


def _model_tables(model: Results, keys: list[str], main: bool = True) -> list[Table]:
    """Rows of the results model, the combination first: one table per workload group,
    titled with its name, when there is more than one (``Results.groups``).  The main
    results table groups its columns and says under each combination what to know
    about it."""
    cols = [model.column(k) for k in keys]
    columns = (Column("combo", "Combination", "Combination", "l", name=True),) + tuple(
        Column(c.key, c.title, c.short, c.align, _group(c.key) if main else "") for c in cols
    )
    groups = model.groups
    return [
        Table(columns, tuple(
            (_label_cell(row) if main else Cell(row.label), *_cells(row, keys)) for row in rows
        ), name if len(groups) > 1 else "")
        for name, rows in groups
    ]


def _label_cell(row: Row) -> Cell:
    notes = list(row.notes)
    if not row.complete:
        notes.append(f"{row.text('runs')} finished")
    return Cell(row.marked_label, note=", ".join(notes), tone="" if row.complete else "warn")


def _cells(row: Row, keys: list[str]) -> list[Cell]:
    out = []
    for key in keys:
        c = row.cells[key]
        warn = key == "warnings" and bool(c.raw)
        out.append(Cell(c.shown, best=c.best, tone="warn" if warn else ""))
    return out


def _results(summary: Summary, model: Results) -> list[Block]:
    blocks: list[Block] = [Paragraph(INTERRUPTED, "warn")] if summary.interrupted else []
    if not model.rows:
        return [*blocks, Paragraph(NONE_FINISHED)]
    keys = [c.key for c in model.columns if c.key != "combo" and c not in QUANTUM_COLUMNS]
    grouped = len(model.groups) > 1
    legend = [
        "Time is the training loop only (imports and model construction excluded)",
        "Cores in use = CPU seconds / wall seconds",
        "Core-s = CPU seconds spent training (what a run costs on a shared node)",
        f"Relative = mean / fastest mean{GROUPED_RELATIVE if grouped else ''}",
        f"Best values in bold{GROUPED_BEST if grouped else ''}",
    ]
    if model.loss_kind in LOSS_KINDS:
        legend.append(f"Loss = {LOSS_KINDS[model.loss_kind]}")
    legend += [results_model.MARK_LEGENDS[m] for m in model.marks()]
    return [*blocks, *_model_tables(model, keys), Legend(tuple(legend))]


#: The legend's words where the results come in workload groups (qtui.core.workload_groups).
GROUPED_RELATIVE = (
    " of the same group (one table per group: the same workload and parameters; a script"
    " and its arguments)"
)
GROUPED_BEST = ", within a group (a combination alone in its group is compared with nothing)"


def _unstable(model: Results) -> list[Block]:
    items = tuple(Item(f": {p}", r.label) for r in model.rows for p in r.problems)
    return [Items(items)] if items else []


def _phases(summary: Summary) -> list[Block]:
    headers, rows, align = phases_table(summary)
    if not rows:
        return []
    columns = tuple(Column(h.lower(), h, h, a, name=i == 0)
                    for i, (h, a) in enumerate(zip(headers, align, strict=True)))
    table = Table(columns, tuple(tuple(Cell(t) for t in row) for row in rows))
    legacy = phase_names.is_legacy(phase_names.shown(*(r.phases for r in summary.results if r.phases)))
    note = phase_names.LEGACY_NOTE if legacy else PHASES_NOTE
    return [table, *(Paragraph(line) for line in who_spent(summary)), Paragraph(note, "note")]


def _devices(model: Results) -> list[Block]:
    if not any(c in QUANTUM_COLUMNS for c in model.columns):
        return []
    tables = _model_tables(model, [c.key for c in QUANTUM_COLUMNS], main=False)
    return [*tables, Legend((
        "Ran on = the devices that executed the circuits, and the diff method PennyLane used",
        *device_counts.legend(),
        "Device time/step = seconds inside device calls per training step",
        # a run without a training step: its per-step figures are "—", and why
        *dict.fromkeys(f"— per step: {q.per_step_note}" for q in (r.result.quantum for r in model.rows)
                       if q is not None and q.per_step_note),
    ))]


def _run_row(run: Run, groups: WorkloadGroups, cluster: bool) -> tuple[Cell, ...]:
    res = run.result
    cells = [
        Cell(run.run_id),
        Cell(groups.run_label(run.parameters, run.repeat_index)),
        Cell(run.state, tone="" if run.state == "finished" else "warn"),
        Cell(units.seconds(res.train_s if res else None)),
        Cell(units.core_seconds(res.core_s if res else None)),
        Cell(units.memory(res.peak_rss if res else None)),
    ]
    if cluster:
        cells.append(Cell(run.node or units.MISSING))
    return tuple(cells)


def _runs(summary: Summary) -> list[Block]:
    if not summary.runs:
        return []
    cluster = any(node_types.is_cluster_run(r) for r in summary.runs)
    columns = (
        Column("run", "Run", align="l"), Column("combo", "Combination", align="l", name=True),
        Column("state", "State", align="l"), Column("time", "Training time"),
        Column("core_s", "Core-s"), Column("peak_rss", "Peak RSS"),
    ) + ((Column("node", "Node", align="l"),) if cluster else ())
    groups = WorkloadGroups(summary.runs)
    blocks: list[Block] = [
        Table(columns, tuple(_run_row(r, groups, cluster) for r in summary.runs))
    ]
    failed = failed_runs(summary)
    stopped = tuple(
        Item(f" repeat {f['repeat']} ({f['run_id']}): {f['why']}", str(f["label"]))
        for f in failed if f["state"] not in STILL_ACTIVE
    )
    active = tuple(
        Item(f" repeat {f['repeat']} ({f['run_id']})" + (" (queued)" if f["state"] == "queued" else ""),
             str(f["label"]))
        for f in failed if f["state"] in STILL_ACTIVE
    )
    if stopped:
        blocks.append(Items(stopped, "Did not finish"))
    if active:
        # said once for the list, not "running — running" per run (issue 10, item 19)
        blocks.append(Items(active, "Still running at export time"))
    return blocks


def _threads(summary: Summary) -> list[Block]:
    """Runs whose pools did not fit the CPUs free at their start, and what auto chose."""
    groups = WorkloadGroups(summary.runs)
    items = tuple(
        Item(f": {cpu_sentence(r.cpus)}", groups.run_label(r.parameters, r.repeat_index))
        for r in summary.runs
        if r.cpus is not None and (r.cpus.oversubscribed or r.cpus.threads_auto is not None)
    )
    return [Paragraph(THREADS_EXPLAIN, "note"), Items(items)] if items else []


def _thread_choice(summary: Summary) -> list[Block]:
    return [Items(tuple(Item(c.sentence) for c in summary.thread_choice))] if summary.thread_choice else []


def _refused(summary: Summary) -> list[Block]:
    items = tuple(
        Item(f": {r.reason.strip()}", f"{r.device}+{r.diff_method}") for r in summary.refused
    )
    return [Items(items)] if items else []


def _first_line(message: str | None) -> str:
    """A warning's first line, whole (cutting it left ``(Triggered internally at /__w/pyt``)."""
    lines = (message or "").strip().splitlines()
    return lines[0] if lines else ""


def _warnings(model: Results) -> list[Block]:
    items = tuple(
        Item(
            f": {w.count}× {w.category or 'Warning'}: {_first_line(w.message)}"
            f" ({units.source_location(w.filename, w.lineno)})",
            row.label,
        )
        for row in model.rows
        for w in row.result.warnings
    )
    if not items:
        return []
    return [Paragraph("Every distinct warning, counted per occurrence.", "note"), Items(items)]


def _recommendation(summary: Summary) -> list[Block]:
    lines = describe(summary.recommendation)
    if not lines:
        return []
    workload = "each workload" if named_groups(summary.recommendation) else "this workload"
    where = (
        f"For {workload}, per node type (measured on different machines):"
        if per_node_type(summary.recommendation)
        else f"For {workload} on this machine:"
    )
    return [Paragraph(where), Items(tuple(Item(line) for line in lines))]


def _sweep_table(words: str, data: SweepAxis) -> Table:
    xs = sorted({pt.x for pts in data.series.values() for pt in pts}, key=lambda x: (str(type(x)), x))
    columns = (Column("combo", "Combination", align="l", name=True),) + tuple(
        Column(f"x:{x}", str(x)) for x in xs
    )
    rows = []
    for name, points in data.series.items():
        by_x = {pt.x: pt for pt in points}
        cells = [Cell(name)]
        for x in xs:
            pt = by_x.get(x)
            if pt is None:
                cells.append(Cell(units.MISSING))
                continue
            core = f"{units.seconds(pt.core_s_per_step)} core"
            if pt.cores_in_use is not None:
                core += f" ({units.cores(pt.cores_in_use)} cores)"
            cells.append(Cell(units.seconds(pt.time_per_step), note=core))
        rows.append(tuple(cells))
    return Table(columns, tuple(rows), f"Per training step against {words}")


def _verdicts(words: str, data: SweepAxis) -> Table:
    columns = (
        Column("a", "A", align="l", name=True), Column("b", "B", align="l", name=True),
        Column("point", words),
        Column("verdict", "A against B", align="l"), Column("ratio", "Time A / B"),
        Column("method", "Method", align="l"),
    )
    rows = tuple(
        (Cell(v.a), Cell(v.b), Cell(str(v.point)), Cell(v.verdict), Cell(units.ratio(v.ratio)),
         Cell(v.method or units.MISSING))
        for v in data.verdicts
    )
    return Table(columns, rows, f"Verdicts ({words})")


def _sweep(summary: Summary) -> list[Block]:
    blocks: list[Block] = []
    for axis, data in summary.sweep.items():
        words = AXES.get(axis, (axis, 0, axis))[2]
        blocks += [
            _sweep_table(words, data),
            Paragraph("Wall time per step, then core-seconds per step (cores in use).", "note"),
        ]
        if data.verdicts:
            blocks.append(_verdicts(words, data))
        if data.crossovers:
            blocks.append(Items(tuple(Item(c) for c in data.crossovers), f"Crossovers ({words})"))
        blocks += _models(data) + _predictions(data)
        if data.skipped:
            blocks.append(Items(tuple(Item(w) for w in data.skipped), "Skipped before running"))
    return blocks


_MODEL_FIGURES = {"time_per_step": ("time", units.seconds), "core_s_per_step": ("core-s", units.seconds),
                  "peak_rss": ("peak RSS", units.memory)}


def _models(data: SweepAxis) -> list[Block]:
    """The cost models (issue 25): per combination, each figure as overhead + work·growthⁿ."""
    items = []
    for combo, figures in data.models.items():
        parts = []
        for m in figures:
            name, fmt = _MODEL_FIGURES.get(m.figure, (m.figure, units.seconds))
            if m.growth is None:
                parts.append(f"{name}: no model ({m.reason})")
                continue
            noise = (f"±{m.noise:.0%} from the {m.noise_from}" if m.noise
                     else m.noise_from)
            if not m.work:
                parts.append(f"{name} = {fmt(m.overhead)}, flat ({noise})")
                continue
            parts.append(f"{name} = {fmt(m.overhead)} + {fmt(m.work)}·{m.growth:.2f}ⁿ ({noise})")
        span = next((f"fitted on {m.fitted_from}–{m.fitted_to} qubits" for m in figures if m.sizes), "")
        items.append(Item(f": {'; '.join(parts)}{'; ' + span if span else ''}", combo))
    if not items:
        return []
    return [Items(tuple(items), "Cost models (per step, n qubits)")]


def _predictions(data: SweepAxis) -> list[Block]:
    """Predicted figures at the sizes asked (``--predict``), every one marked predicted."""
    if not data.predictions:
        return []
    columns = (Column("combo", "Combination", align="l", name=True), Column("x", "Qubits"),
               Column("time", "Time/step (predicted)"), Column("core", "Core-s/step (predicted)"),
               Column("rss", "Peak RSS (predicted)"))

    def span(fmt: Any, value: Any, low: Any, high: Any) -> Cell:
        if value is None:
            return Cell(units.MISSING)
        return Cell(fmt(value), note=f"{fmt(low)}–{fmt(high)}" if high and low and high > low else "no interval")

    rows = tuple(
        (Cell(p.combo), Cell(f"{p.x}" + ("" if p.beyond else " (within)")),
         span(units.seconds, p.time_per_step, p.time_low, p.time_high),
         span(units.seconds, p.core_s_per_step, p.core_s_low, p.core_s_high),
         span(units.memory, p.peak_rss, p.rss_low, p.rss_high))
        for p in data.predictions
    )
    blocks: list[Block] = [
        Table(columns, rows, "Predicted beyond the measured sizes"),
        Paragraph(PREDICTED_NOTE, "note"),
    ]
    if data.predicted:
        blocks.append(Items(tuple(Item(w) for w in data.predicted), "Predicted crossovers and picks"))
    return blocks


PREDICTED_NOTE = (
    "Predicted, not measured: each figure from its cost model, with the 90 % interval "
    "under it. The model knows the qubits only; caches (lightning's time grows faster once "
    "the state leaves them), thread scaling and memory bandwidth are not in it."
)


def _notes(summary: Summary) -> list[Block]:
    return [Items(tuple(Item(n) for n in summary.notes))] if summary.notes else []


def _environment(summary: Summary) -> list[Block]:
    pairs = list(environment_lines(summary))
    pairs += [("Workload", line) for line in workload_lines(summary)]
    return [Fields(tuple(pairs))] if pairs else []


def command_line(argv: list[str]) -> str:
    """``qtui run --device 'a b'``: the words quoted as a POSIX shell needs them."""
    return shlex.join(argv)


def _command(summary: Summary) -> list[Block]:
    return [CommandLine(command_line(summary.argv))] if summary.argv else []


def title(summary: Summary) -> str:
    return "qtui benchmark" + (f" — session {summary.session_id}" if summary.session_id else "")


def build(summary: Summary) -> Document:
    """The report's sections, each built once, in the order every format shows them."""
    model = results_model.build(summary)
    makers: dict[str, Callable[[], list[Block]]] = {
        "results": lambda: _results(summary, model),
        "unstable": lambda: _unstable(model),
        "phases": lambda: _phases(summary),
        "devices": lambda: _devices(model),
        "runs": lambda: _runs(summary),
        "threads": lambda: _threads(summary),
        "thread_choice": lambda: _thread_choice(summary),
        "refused": lambda: _refused(summary),
        "warnings": lambda: _warnings(model),
        "recommendation": lambda: _recommendation(summary),
        "sweep": lambda: _sweep(summary),
        "notes": lambda: _notes(summary),
        "environment": lambda: _environment(summary),
        "command": lambda: _command(summary),
    }
    sections = []
    for key, heading in TITLES.items():
        blocks = makers[key]()
        if blocks:
            sections.append(Section(key, heading, tuple(blocks)))
    return Document(title(summary), tuple(sections))
