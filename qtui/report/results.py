"""The results model: one row per combination, every figure computed once.

``build(summary)`` turns a typed summary (``qtui.core.summary_schema.Summary``:
``qtui.analysis.summary_builder.document`` or a loaded file) into ``Results``: the columns, and per combination a
``Row`` of ``Cell``s holding the raw value and its text (``qtui.core.units``), with
the best value of each ranked column marked.  ``qtui run``, ``qtui sweep``,
``qtui report``, every exporter, the TUI's results table and recommendation
panel, the history screen and ``qtui watch`` render this and nothing else, so
a figure reads the same everywhere (``tests/test_one_truth.py``).

Decisions:

* **Groups** (``qtui.core.workload_groups``): rows are compared only with the
  rows of their workload group (the same workload and parameters; a script and
  its arguments), and come group by group; ``Results.groups`` gives each
  group's name and rows, a view's header where there is more than one.
* **Best values** (``★`` in the TUI, bold in Markdown) are marked, within a
  group, on every row whose text equals the best text: equal figures are
  treated alike.  A column is ranked only when at least two combinations of
  the group have a value in it (or there is only one combination in all).
* **Relative** is hyperfine's: mean over the fastest mean of the group, ± the
  propagated σ when both have one.
* **Cores**: above ``BURN_CORES`` cores in use a combination is fast by
  burning cores; its cell carries the ``!`` mark.
* **GPU** columns (peak GPU memory of the run, or of the device when NVML
  cannot attribute it; mean utilisation) appear only when a result has them.
* **Other load**: the cores other processes kept busy while the runs trained;
  ``⚠`` marks a combination with a contended run (its times are unreliable):
  its Other load cell and its name (``Row.marked_label``); how many runs were
  contended is said once, in the unstable results.
* **Node** (the node type a combination's finished runs were measured on,
  ``qtui.core.node_types``: ``AMD EPYC 7763 ×128``; ``A + B`` when its repeats
  ran on different types) appears only when some run ran on a
  cluster (a result with ``nodes``).
* **Device truth** (``qtui.engine.device_truth``): *Ran on* (the devices that
  executed the combination's circuits and the diff method PennyLane used),
  the per-step counts named as ``qml.Tracker`` names them
  (``qtui.core.device_counts``: *Calls/step (batches)*, *Circuits/step
  (simulations)*, *States/step (executions)*: parameter-shift's cost), *Device time/step* (seconds inside
  device calls per step) appear only when a result has them.  A combination
  whose runs were started as another one (``--allow-foreign-device``) says so
  in a note: ``asked lightning.qubit+adjoint``.
* **Loss** is named for what it is (``qtui.analysis.fold.LOSS_KINDS``): the mean
  loss of the last epoch, or over the measured steps of a step-limited run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from qtui.analysis import stability
from qtui.core import device_counts, node_types, units
from qtui.core.cpu_fit import LEGEND as OVERSUBSCRIBED_LEGEND
from qtui.core.cpu_fit import notes as thread_notes
from qtui.core.summary_schema import Quantum, Result, Summary
from qtui.core.workload_groups import WorkloadGroups

#: Above this many cores in use a combination is fast by burning cores.
BURN_CORES = 1.5
BURN_MARK = "!"
BURN_NOTE = f"{BURN_MARK} more than {BURN_CORES:g} cores in use: fast by burning cores"
#: A combination some of whose runs trained while other processes kept the node
#: busy (``contended`` in ``run_finished``; threshold in qtui.engine.sampler).
CONTENDED_MARK = "⚠"
CONTENDED_NOTE = (
    f"{CONTENDED_MARK} contended: other processes kept the node busy while it trained "
    "(Other load, in cores); its times are unreliable: rerun on a quiet node"
)
#: A combination some of whose runs had a thread pool larger than the CPUs free (cpu_fit).
OVERSUBSCRIBED_MARK = "»"
#: Every mark a cell can carry, with the legend that explains it.
MARK_LEGENDS: dict[str, str] = {
    BURN_MARK: BURN_NOTE, CONTENDED_MARK: CONTENDED_NOTE,
    OVERSUBSCRIBED_MARK: f"{OVERSUBSCRIBED_MARK} {OVERSUBSCRIBED_LEGEND}",
}


@dataclass(frozen=True)
class Cell:
    """One figure: its raw value (for sorting and ranking) and its text."""

    raw: Any
    text: str
    best: bool = False
    mark: str = ""

    @property
    def shown(self) -> str:
        """The text with its mark, as tables print it."""
        return f"{self.text} {self.mark}" if self.mark else self.text


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    short: str  # header in narrow tables
    better: str = ""  # "low", "high" or "" (not ranked)
    align: str = "r"


@dataclass
class Row:
    """One combination: its label, its cells, and notes shown under the label."""

    label: str
    result: Result
    cells: dict[str, Cell]
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # every run of the combination finished
    problems: list[str] = field(default_factory=list)  # qtui.analysis.stability: why not to trust it
    group: str = ""  # its workload group's name (qtui.core.workload_groups)

    def text(self, key: str) -> str:
        return self.cells[key].shown

    @property
    def marked_label(self) -> str:
        """The name with ``⚠`` beside it when a run was contended: the mark is said on
        the name once, its legend under the table (not a note under every part)."""
        return f"{self.label} {CONTENDED_MARK}" if contended(self.result) else self.label


@dataclass
class Results:
    columns: tuple[Column, ...]
    rows: list[Row]
    loss_kind: str

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def table(self, keys: tuple[str, ...] | None = None) -> tuple[list[str], list[list[str]]]:
        """Headers and cell texts (with marks) for plain-text renderers."""
        cols = [c for c in self.columns if keys is None or c.key in keys]
        return [c.title for c in cols], [[r.text(c.key) for c in cols] for r in self.rows]

    @property
    def groups(self) -> list[tuple[str, list[Row]]]:
        """Each workload group's name and rows, in the rows' order (one entry when all
        rows are comparable: a view shows a header per group only when there are more)."""
        out: dict[str, list[Row]] = {}
        for row in self.rows:
            out.setdefault(row.group, []).append(row)
        return list(out.items())

    def marks(self) -> list[str]:
        """The marks some cell carries, in ``MARK_LEGENDS`` order (each needs its legend)."""
        used = {c.mark for r in self.rows for c in r.cells.values() if c.mark}
        return [m for m in MARK_LEGENDS if m in used]


def _n(x: Any) -> float | None:
    return units.number(x)


def relative_text(result: Result, fastest: Result | None) -> tuple[Any, str]:
    """hyperfine's "Relative": mean / fastest mean, ± propagated σ where both have one."""
    mean, best = _n(result.mean), _n(fastest.mean if fastest else None)
    if mean is None or not best or fastest is None:
        return None, units.MISSING
    ratio = mean / best
    sd, sd_best = _n(result.stddev), _n(fastest.stddev)
    if result is not fastest and sd is not None and sd_best is not None and mean:
        err = ratio * math.sqrt((sd / mean) ** 2 + (sd_best / best) ** 2)
        return ratio, f"{units.ratio(ratio)} ± {units.ratio(err)}"
    return ratio, units.ratio(ratio)


def _runs(r: Result) -> tuple[Any, str]:
    return r.runs.finished, f"{r.runs.finished}/{r.runs.total}"


def _warnings(r: Result) -> tuple[Any, str]:
    if not r.runs.finished:
        return None, units.MISSING
    return r.warning_count, units.count(r.warning_count)


def contended(r: Result) -> bool:
    """Did some finished run of ``r`` train on a busy node (``qtui.analysis.stability``)?"""
    return stability.contended(r)


def _contention(r: Result) -> Cell:
    v = _n(r.resources.contention_cores)
    return Cell(v, units.cores(v), mark=CONTENDED_MARK if contended(r) else "")


def _cores(r: Result) -> Cell:
    v = _n(r.resources.cores_in_use)
    return Cell(v, units.cores(v), mark=BURN_MARK if v is not None and v > BURN_CORES else "")


def _median(r: Result) -> tuple[Any, str]:
    if _n(r.mad) is None:
        return _n(r.median), units.seconds(r.median)
    return _n(r.median), f"{units.seconds(r.median)} ± {units.seconds(r.mad, like=r.median)}"


def _gpu_util(r: Result) -> tuple[Any, str]:
    v = _n(r.resources.gpu_util_mean)
    return v, units.percent(None if v is None else v / 100)


LOSS_TITLES = {"last_epoch": "Loss (last epoch)", "measured_steps": "Loss (measured steps)"}
LOSS_SHORT = {"last_epoch": "Loss", "measured_steps": "Loss"}  # the note under the table says which

#: key -> (column, (raw, text) of a result)
_CELLS: dict[str, Callable[[Result], tuple[Any, str]]] = {
    "runs": _runs,
    "mean": lambda r: (_n(r.mean), units.mean_sd(r.mean, r.stddev)),
    "median": _median,
    "min": lambda r: (_n(r.min), units.seconds(r.min)),
    "max": lambda r: (_n(r.max), units.seconds(r.max)),
    "peak_rss": lambda r: (
        _n(r.resources.peak_rss_bytes) or None, units.memory(r.resources.peak_rss_bytes)
    ),
    "core_s": lambda r: (_n(r.resources.core_s), units.core_seconds(r.resources.core_s)),
    "threads": lambda r: (_n(r.resources.peak_threads), units.count(r.resources.peak_threads)),
    "accuracy": lambda r: (_n(r.accuracy), units.percent(r.accuracy)),
    "loss": lambda r: (_n(r.final_loss), units.loss(r.final_loss)),
    "warnings": _warnings,
    "gpu_mem": lambda r: (
        _n(r.resources.gpu_mem_peak_bytes) or None, units.memory(r.resources.gpu_mem_peak_bytes)
    ),
    "gpu_util": _gpu_util,
}

#: Shown only when some result has GPU figures (NVML saw a GPU).
GPU_COLUMNS = (
    Column("gpu_mem", "GPU mem", "GPU mem", "low"),
    Column("gpu_util", "GPU util", "GPU %"),
)


#: Shown only when some result has device truth (``quantum``).
QUANTUM_COLUMNS = (
    Column("ran_on", "Ran on", "Ran on", align="l"),
    *(Column(c.key, c.title, c.short, "low") for c in device_counts.COUNTS),
    Column("device_time", "Device time/step", "Dev/step", "low"),
)


def quantum(r: dict[str, Any]) -> dict[str, Any]:
    """A live run record's ``quantum`` block, {} when it has none (the TUI's run detail)."""
    q = r.get("quantum")
    return q if isinstance(q, dict) else {}


def _typed_quantum(q: Quantum | dict[str, Any] | None) -> Quantum | None:
    """A live record's ``quantum`` dict as the record it is in a summary."""
    if isinstance(q, dict):
        return msgspec.convert(q, Quantum) if q else None
    return q


def ran_on(q: Quantum | dict[str, Any] | None) -> str:
    """``default.qubit (2 wires) · backprop``: the devices and diff methods that ran."""
    tq = _typed_quantum(q)
    if tq is None:
        return units.MISSING
    devices = [units.device_use(d.name, d.wires, d.shots) for d in tq.devices if d.name]
    if not devices:
        return "no circuit"
    methods = ", ".join(tq.diff_methods)
    return ", ".join(devices) + (f" · {methods}" if methods else "")


def asked_note(q: Quantum | dict[str, Any] | None) -> str:
    """``asked lightning.qubit+adjoint``: a result recorded under what ran, not what was asked."""
    tq = _typed_quantum(q)
    asked = tq.asked if tq is not None else None
    names = [str(a) for a in ([asked] if isinstance(asked, str) else asked or []) if a]
    return f"asked {', '.join(names)}" if names else ""


def _quantum_cells(r: Result) -> dict[str, Cell]:
    q = r.quantum
    if q is None:
        return {c.key: Cell(None, units.MISSING) for c in QUANTUM_COLUMNS}
    return {
        "ran_on": Cell(ran_on(q), ran_on(q)),
        **{c.key: _count_cell(getattr(q, c.field)) for c in device_counts.COUNTS},
        "device_time": Cell(_n(q.execute_s_per_step), units.seconds(q.execute_s_per_step)),
    }


def _count_cell(per_step: float | None) -> Cell:
    return Cell(_n(per_step), units.per_step(per_step))


def metric_names(results: list[Result]) -> list[str]:
    """The workload's named metrics over these results, first seen first (``accuracy``
    has its own column)."""
    names: list[str] = []
    for r in results:
        for name in r.metrics:
            if name != "accuracy" and name not in names:
                names.append(str(name))
    return names


def metric_columns(results: list[Result]) -> tuple[Column, ...]:
    """One column per named metric, ranked by its direction."""
    cols = []
    for name in metric_names(results):
        higher = next((r.metrics[name].higher_is_better for r in results if name in r.metrics), True)
        cols.append(Column(f"metric:{name}", name, name, "high" if higher else "low"))
    return tuple(cols)


def _metric_cell(r: Result, name: str) -> Cell:
    m = r.metrics.get(name)
    value = m.value if m is not None else None
    return Cell(_n(value), units.metric(value))


#: Shown only when some run ran on a cluster (a result lists its ``nodes``).
NODE_COLUMN = Column("node", "Node", "Node", align="l")


def on_cluster(results: list[Result]) -> bool:
    """Did any of these results' runs run on a cluster node?"""
    return any(r.nodes for r in results)


def _node(r: Result) -> Cell:
    text = node_types.text(node_types.of_entry(r))
    return Cell(text or None, text or units.MISSING)


def columns(loss_kind: str = "last_epoch") -> tuple[Column, ...]:
    return (
        Column("combo", "Combination", "Combination", align="l"),
        Column("runs", "Runs", "Runs"),
        Column("mean", "Mean ± σ", "Mean ± σ", "low"),
        Column("median", "Median ± MAD", "Median ± MAD", "low"),
        Column("min", "Min", "Min", "low"),
        Column("max", "Max", "Max", "low"),
        Column("relative", "Relative", "Rel.", "low"),
        Column("peak_rss", "Peak RSS", "Peak RSS", "low"),
        Column("cores", "Cores in use", "Cores"),
        Column("contention", "Other load", "Others"),
        Column("core_s", "Core-s", "Core-s", "low"),
        Column("threads", "Threads", "Thr.", "low"),
        Column("accuracy", "Accuracy", "Acc.", "high"),
        Column("loss", LOSS_TITLES.get(loss_kind, "Loss"), LOSS_SHORT.get(loss_kind, "Loss"), "low"),
        Column("warnings", "Warnings", "Warn."),
    )


def _notes(r: Result) -> list[str]:
    notes = []
    if r.resolved_diff_method and r.resolved_diff_method != r.parameters.get("diff_method"):
        notes.append(f"→ {r.resolved_diff_method}")
    if r.split_batch:
        notes.append("split batch")
    if asked_note(r.quantum):
        notes.append(asked_note(r.quantum))
    notes += thread_notes(r.oversubscribed_runs, r.threads_advice, r.threads_auto)
    return notes


def fastest(results: list[Result]) -> Result | None:
    timed = [r for r in results if _n(r.mean) is not None]
    return min(timed, key=lambda r: float(r.mean or 0.0)) if timed else None


def _columns_for(results: list[Result], kind: str) -> tuple[Column, ...]:
    cols = columns(kind)
    metric_cols = metric_columns(results)
    if metric_cols:
        # Named metrics replace the accuracy column unless some result has an accuracy.
        at = [c.key for c in cols].index("accuracy")
        keep_acc = any(_n(r.accuracy) is not None for r in results)
        cols = cols[: at + keep_acc] + metric_cols + cols[at + 1 :]
    res = [r.resources for r in results]
    if any(x.gpu_mem_peak_bytes is not None or x.gpu_util_mean is not None for x in res):
        cols = cols + GPU_COLUMNS
    if any(r.quantum is not None for r in results):
        cols = cols + QUANTUM_COLUMNS
    if on_cluster(results):
        cols = cols + (NODE_COLUMN,)
    return cols


def _row(r: Result, name: str, best_result: Result | None, metric_keys: list[str], group: str) -> Row:
    cells: dict[str, Cell] = {"combo": Cell(name, name)}
    for key, fn in _CELLS.items():
        cells[key] = Cell(*fn(r))
    cells["relative"] = Cell(*relative_text(r, best_result))
    cells["cores"] = _cores(r)
    cells["contention"] = _contention(r)
    if r.oversubscribed_runs:
        cells["threads"] = Cell(cells["threads"].raw, cells["threads"].text, mark=OVERSUBSCRIBED_MARK)
    cells["node"] = _node(r)
    cells.update(_quantum_cells(r))
    for key in metric_keys:
        cells[key] = _metric_cell(r, key.removeprefix("metric:"))
    return Row(
        label=name,
        result=r,
        cells=cells,
        notes=_notes(r),
        complete=r.runs.finished == r.runs.total,
        problems=stability.problems(r),
        group=group,
    )


def from_results(entries: Iterable[Result]) -> Results:
    """The model of a list of results (the TUI builds it from ``combos()``)."""
    results = list(entries)
    kinds = {r.loss_kind or "last_epoch" for r in results}
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    cols = _columns_for(results, kind)
    metric_keys = [c.key for c in cols if c.key.startswith("metric:")]
    kept_apart = WorkloadGroups(results)
    rows: list[Row] = []
    for group, members in kept_apart.split(results):
        best_result = fastest(members)
        shown = [_row(r, r.label or kept_apart.label(r), best_result, metric_keys, group.name)
                 for r in members]
        _mark_best(cols, shown, alone=len(results) == 1)
        rows += shown
    return Results(cols, rows, kind)


def build(summary: Summary) -> Results:
    """The model of a summary document."""
    return from_results(summary.results)


def _mark_best(cols: tuple[Column, ...], rows: list[Row], alone: bool) -> None:
    """The best value of each ranked column among ``rows`` (one group); ``alone``: the
    only combination there is, best at everything it has."""
    for col in cols:
        if not col.better:
            continue
        valued = [r for r in rows if isinstance(r.cells[col.key].raw, (int, float))]
        if not valued or (len(valued) < 2 and not alone):
            continue
        pick = min if col.better == "low" else max
        best = pick(valued, key=lambda r: r.cells[col.key].raw).cells[col.key].text
        for r in valued:
            c = r.cells[col.key]
            if c.text == best:
                r.cells[col.key] = Cell(c.raw, c.text, True, c.mark)
