"""The results model: one row per combination, every figure computed once.

``build(summary)`` turns a summary document (``qtui.analysis.summary_builder.document`` or
a loaded JSON file) into ``Results``: the columns, and per combination a
``Row`` of ``Cell``s holding the raw value and its text (``qtui.core.units``), with
the best value of each ranked column marked.  ``qtui run``, ``qtui sweep``,
``qtui report``, every exporter, the TUI's results table and recommendation
panel, the history screen and ``qtui watch`` render this and nothing else, so
a figure reads the same everywhere (``tests/test_one_truth.py``).

Decisions:

* **Best values** (``★`` in the TUI, bold in Markdown) are marked on every row
  whose text equals the best text: equal figures are treated alike.  A column
  is ranked only when at least two combinations have a value in it (or there
  is only one combination).
* **Relative** is hyperfine's: mean over the fastest mean, ± the propagated
  σ when both have one.
* **Cores**: above ``BURN_CORES`` cores in use a combination is fast by
  burning cores; its cell carries the ``!`` mark.
* **GPU** columns (peak GPU memory of the run, or of the device when NVML
  cannot attribute it; mean utilisation) appear only when a result has them.
* **Other load**: the cores other processes kept busy while the runs trained;
  ``⚠`` marks a combination with a contended run (its times are unreliable).
* **Node** (the node type a combination's finished runs were measured on,
  ``qtui.core.node_types``: ``AMD EPYC 7763 ×128``; ``A + B`` when its repeats
  ran on different types) appears only when some run ran on a
  cluster (a result with ``nodes``).
* **Device truth** (``qtui.engine.device_truth``): *Ran on* (the devices that
  executed the combination's circuits and the diff method PennyLane used),
  *Executions/step* and *Circuits/step* (device calls and circuits per
  training step: parameter-shift's cost), *Device time/step* (seconds inside
  device calls per step) appear only when a result has them.  A combination
  whose runs were started as another one (``--allow-foreign-device``) says so
  in a note: ``asked lightning.qubit+adjoint``.
* **Loss** is named for what it is (``qtui.analysis.fold.LOSS_KINDS``): the mean
  loss of the last epoch, or over the measured steps of a step-limited run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qtui.analysis import stability
from qtui.core import node_types, units
from qtui.core.parameters import label, varying_parameters

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
    result: dict[str, Any]
    cells: dict[str, Cell]
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # every run of the combination finished
    problems: list[str] = field(default_factory=list)  # qtui.analysis.stability: why not to trust it

    def text(self, key: str) -> str:
        return self.cells[key].shown


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


def _n(x: Any) -> float | None:
    return units.number(x)


def _dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _res(r: dict[str, Any], name: str) -> Any:
    res = r.get("resources")
    return res.get(name) if isinstance(res, dict) else None


def relative_text(result: dict[str, Any], fastest: dict[str, Any] | None) -> tuple[Any, str]:
    """hyperfine's "Relative": mean / fastest mean, ± propagated σ where both have one."""
    mean, best = _n(result.get("mean")), _n((fastest or {}).get("mean"))
    if mean is None or not best:
        return None, units.MISSING
    ratio = mean / best
    sd, sd_best = _n(result.get("stddev")), _n((fastest or {}).get("stddev"))
    if result is not fastest and sd is not None and sd_best is not None and mean:
        err = ratio * math.sqrt((sd / mean) ** 2 + (sd_best / best) ** 2)
        return ratio, f"{units.ratio(ratio)} ± {units.ratio(err)}"
    return ratio, units.ratio(ratio)


def _runs(r: dict[str, Any]) -> tuple[Any, str]:
    runs = _dict(r.get("runs"))
    done, total = _n(runs.get("finished")) or 0, _n(runs.get("total")) or 0
    return done, f"{int(done)}/{int(total)}"


def _warnings(r: dict[str, Any]) -> tuple[Any, str]:
    runs = _dict(r.get("runs"))
    if not _n(runs.get("finished")):
        return None, units.MISSING
    n = _n(r.get("warning_count")) or 0
    return n, units.count(n)


def _contention(r: dict[str, Any]) -> Cell:
    v = _n(_res(r, "contention_cores"))
    return Cell(v, units.cores(v), mark=CONTENDED_MARK if stability.contended(r) else "")


def _cores(r: dict[str, Any]) -> Cell:
    v = _n(_res(r, "cores_in_use"))
    return Cell(v, units.cores(v), mark=BURN_MARK if v is not None and v > BURN_CORES else "")


LOSS_TITLES = {"last_epoch": "Loss (last epoch)", "measured_steps": "Loss (measured steps)"}
LOSS_SHORT = {"last_epoch": "Loss", "measured_steps": "Loss"}  # the note under the table says which

#: key -> (column, (raw, text) of a result)
_CELLS: dict[str, Callable[[dict[str, Any]], tuple[Any, str]]] = {
    "runs": _runs,
    "mean": lambda r: (_n(r.get("mean")), units.mean_sd(r.get("mean"), r.get("stddev"))),
    "median": lambda r: (
        _n(r.get("median")),
        units.seconds(r.get("median")) if _n(r.get("mad")) is None
        else f"{units.seconds(r.get('median'))} ± {units.seconds(r.get('mad'), like=r.get('median'))}",
    ),
    "min": lambda r: (_n(r.get("min")), units.seconds(r.get("min"))),
    "max": lambda r: (_n(r.get("max")), units.seconds(r.get("max"))),
    "peak_rss": lambda r: (
        _n(_res(r, "peak_rss_bytes")) or None,
        units.memory(_res(r, "peak_rss_bytes")),
    ),
    "core_s": lambda r: (_n(_res(r, "core_s")), units.core_seconds(_res(r, "core_s"))),
    "threads": lambda r: (_n(_res(r, "peak_threads")), units.count(_res(r, "peak_threads"))),
    "accuracy": lambda r: (_n(r.get("accuracy")), units.percent(r.get("accuracy"))),
    "loss": lambda r: (_n(r.get("final_loss")), units.loss(r.get("final_loss"))),
    "warnings": _warnings,
    "gpu_mem": lambda r: (
        _n(_res(r, "gpu_mem_peak_bytes")) or None,
        units.memory(_res(r, "gpu_mem_peak_bytes")),
    ),
    "gpu_util": lambda r: (
        _n(_res(r, "gpu_util_mean")),
        units.percent(None if _n(_res(r, "gpu_util_mean")) is None
                      else float(_res(r, "gpu_util_mean")) / 100),
    ),
}

#: Shown only when some result has GPU figures (NVML saw a GPU).
GPU_COLUMNS = (
    Column("gpu_mem", "GPU mem", "GPU mem", "low"),
    Column("gpu_util", "GPU util", "GPU %"),
)


#: Shown only when some result has device truth (``quantum``).
QUANTUM_COLUMNS = (
    Column("ran_on", "Ran on", "Ran on", align="l"),
    Column("executions", "Executions/step", "Exec/step", "low"),
    Column("circuits", "Circuits/step", "Circ/step", "low"),
    Column("device_time", "Device time/step", "Dev/step", "low"),
)


def quantum(r: dict[str, Any]) -> dict[str, Any]:
    """A result's (or a run's) ``quantum`` block, {} when it has none."""
    q = r.get("quantum")
    return q if isinstance(q, dict) else {}


def ran_on(q: dict[str, Any]) -> str:
    """``default.qubit (2 wires) · backprop``: the devices and diff methods that ran."""
    devices = [
        units.device_use(d.get("name"), d.get("wires"), d.get("shots"))
        for d in q.get("devices") or [] if isinstance(d, dict) and d.get("name")
    ]
    methods = [str(m) for m in q.get("diff_methods") or [] if isinstance(m, str)]
    if not devices:
        return "no circuit" if q else units.MISSING
    return ", ".join(devices) + (f" · {', '.join(methods)}" if methods else "")


def asked_note(q: dict[str, Any]) -> str:
    """``asked lightning.qubit+adjoint``: a result recorded under what ran, not what was asked."""
    asked = q.get("asked")
    if isinstance(asked, str):
        asked = [asked] if asked else []
    names = [str(a) for a in asked or [] if a]
    return f"asked {', '.join(names)}" if names else ""


def _quantum_cells(r: dict[str, Any]) -> dict[str, Cell]:
    q = quantum(r)
    per_step = q.get("execute_s_per_step")
    return {
        "ran_on": Cell(ran_on(q) if q else None, ran_on(q)),
        "executions": Cell(_n(q.get("executions_per_step")), units.per_step(q.get("executions_per_step"))),
        "circuits": Cell(_n(q.get("circuits_per_step")), units.per_step(q.get("circuits_per_step"))),
        "device_time": Cell(_n(per_step), units.seconds(per_step)),
    }


def metric_names(results: list[dict[str, Any]]) -> list[str]:
    """The workload's named metrics over these results, first seen first (``accuracy``
    has its own column)."""
    names: list[str] = []
    for r in results:
        metrics = r.get("metrics")
        for name in metrics if isinstance(metrics, dict) else {}:
            if name != "accuracy" and name not in names:
                names.append(str(name))
    return names


def metric_columns(results: list[dict[str, Any]]) -> tuple[Column, ...]:
    """One column per named metric, ranked by its direction."""
    cols = []
    for name in metric_names(results):
        higher = next(
            (bool(m.get("higher_is_better", True)) for r in results
             if isinstance(r.get("metrics"), dict)
             for n, m in r["metrics"].items() if n == name and isinstance(m, dict)),
            True,
        )
        cols.append(Column(f"metric:{name}", name, name, "high" if higher else "low"))
    return tuple(cols)


def _metric_cell(r: dict[str, Any], name: str) -> Cell:
    metrics = r.get("metrics")
    m = metrics.get(name) if isinstance(metrics, dict) else None
    value = m.get("value") if isinstance(m, dict) else None
    return Cell(_n(value), units.metric(value))


#: Shown only when some run ran on a cluster (a result lists its ``nodes``).
NODE_COLUMN = Column("node", "Node", "Node", align="l")


def on_cluster(results: list[dict[str, Any]]) -> bool:
    """Did any of these results' runs run on a cluster node?"""
    return any(isinstance(r.get("nodes"), list) and r["nodes"] for r in results)


def _node(r: dict[str, Any]) -> Cell:
    types = node_types.of_entry(r)
    return Cell(node_types.text(types) or None, node_types.text(types) or units.MISSING)


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


def _notes(r: dict[str, Any]) -> list[str]:
    params = _dict(r.get("parameters"))
    notes = []
    resolved = r.get("resolved_diff_method")
    if resolved and resolved != params.get("diff_method"):
        notes.append(f"→ {resolved}")
    if r.get("split_batch"):
        notes.append("split batch")
    if asked_note(quantum(r)):
        notes.append(asked_note(quantum(r)))
    if stability.contended(r):
        notes.append(f"{CONTENDED_MARK} contended ({int(_n(r.get('contended_runs')) or 0)} run(s))")
    return notes


def fastest(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    timed = [r for r in results if _n(r.get("mean")) is not None]
    return min(timed, key=lambda r: float(r["mean"])) if timed else None


def from_results(results: list[dict[str, Any]]) -> Results:
    """The model of a list of ``results[]`` entries (the TUI builds from ``combos()``)."""
    results = [r for r in results if isinstance(r, dict)]
    kinds = {str(r.get("loss_kind") or "last_epoch") for r in results}
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    cols = columns(kind)
    metric_cols = metric_columns(results)
    if metric_cols:
        # Named metrics replace the accuracy column unless some result has an accuracy.
        at = [c.key for c in cols].index("accuracy")
        keep_acc = any(_n(r.get("accuracy")) is not None for r in results)
        cols = cols[: at + keep_acc] + metric_cols + cols[at + 1 :]
    if any(_res(r, "gpu_mem_peak_bytes") is not None or _res(r, "gpu_util_mean") is not None
           for r in results):
        cols = cols + GPU_COLUMNS
    if any(quantum(r) for r in results):
        cols = cols + QUANTUM_COLUMNS
    if on_cluster(results):
        cols = cols + (NODE_COLUMN,)
    varying = varying_parameters(results)
    best_result = fastest(results)
    rows = []
    for r in results:
        cells: dict[str, Cell] = {}
        name = str(r.get("label") or label(r, varying))
        cells["combo"] = Cell(name, name)
        for key, fn in _CELLS.items():
            raw, text = fn(r)
            cells[key] = Cell(raw, text)
        cells["relative"] = Cell(*relative_text(r, best_result))
        cells["cores"] = _cores(r)
        cells["contention"] = _contention(r)
        cells["node"] = _node(r)
        cells.update(_quantum_cells(r))
        for col in metric_cols:
            cells[col.key] = _metric_cell(r, col.key.removeprefix("metric:"))
        runs = _dict(r.get("runs"))
        rows.append(
            Row(
                label=name,
                result=r,
                cells=cells,
                notes=_notes(r),
                complete=runs.get("finished") == runs.get("total"),
                problems=stability.problems(r),
            )
        )
    _mark_best(cols, rows)
    return Results(cols, rows, kind)


def build(summary: dict[str, Any]) -> Results:
    """The model of a summary document."""
    results = summary.get("results")
    return from_results(results if isinstance(results, list) else [])


def _mark_best(cols: tuple[Column, ...], rows: list[Row]) -> None:
    for col in cols:
        if not col.better:
            continue
        valued = [r for r in rows if isinstance(r.cells[col.key].raw, (int, float))]
        if not valued or (len(valued) < 2 and len(rows) > 1):
            continue
        pick = min if col.better == "low" else max
        best = pick(valued, key=lambda r: r.cells[col.key].raw).cells[col.key].text
        for r in valued:
            c = r.cells[col.key]
            if c.text == best:
                r.cells[col.key] = Cell(c.raw, c.text, True, c.mark)
