"""Comparing two summaries per combination, with σ-aware verdicts.

Combinations are matched on their full ``parameters{}`` (device, diff
method and every workload parameter); those present in only one summary are
listed.  For each match: mean training time A → B, the change and a verdict;
peak memory A → B with its own verdict; the core-seconds change.  Used by
``qtui compare`` and by the TUI's history screen (past session vs current).

The time verdict is ``qtui.analysis.conclusion.judge`` of B against A — the
conclusion the recommendation and the sweep verdicts reach on the same
samples, in the same words: ``faster``/``slower`` (Welch's t-test, with the
ratio and confidence), ``tie``, ``unstable`` (a side contended, with
outliers, a slow tail or a wide spread: the row is *unreliable*) or
``too few`` (fewer than 3 runs on a side).  Peak memory is judged by
``stats.differ_memory``: repeats or not, with its floor (max(4 MiB, 2 %)), a
95 % prediction interval when one side has one run, and ``--threshold``
(default 10 %) between single runs.

``loss_overlay`` gives the loss curves of two or more sessions to draw in one
chart (the history screen's comparison, ``qtui compare --html``): one curve per
session and combination, its runs' mean training loss per epoch, named by the
session's letter and the combination's label.  Both views draw these curves
and nothing else, so the chart in the terminal and the page agree.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from typing import Any

import msgspec

from qtui.analysis import conclusion, stability, stats
from qtui.core import units
from qtui.core.summary_schema import Result, Summary
from qtui.core.workload_groups import WorkloadGroups

ALPHA = stats.ALPHA
DEFAULT_THRESHOLD = stats.SINGLE_RUN_THRESHOLD


def rule_text(threshold: float = DEFAULT_THRESHOLD) -> str:
    """The verdict rules in one line, for the CLI's and the history screen's footers."""
    return (
        f"time: α = {ALPHA}, Welch t-test with {stats.MIN_RUNS}+ runs on each side, else too"
        " few runs to tell; a contended or unstable side is no verdict; memory: also a 95 %"
        f" prediction interval, else a {threshold:.0%} threshold, never under 4 MiB or 2 %"
    )


def _word(v: stats.Verdict, lower: str, higher: str) -> str:
    if not v.measured:
        return "not measured"
    return {-1: lower, 1: higher, 0: "no significant change"}[v.direction]


def _floats(values: Any) -> list[float]:
    out = [units.number(x) for x in values] if isinstance(values, list) else []
    return [x for x in out if x is not None]


def _times(r: Result) -> list[float]:
    return _floats(r.times)


def _rss(r: Result) -> list[float]:
    return [x for x in _floats(r.resources.peak_rss_values) if x]


class SessionRef(msgspec.Struct):
    """Which session a side of the comparison is."""

    session_id: str | None = None
    datetime: str | None = None


class Side(msgspec.Struct):
    """One combination in one of the two sessions."""

    mean: float | None = None
    stddev: float | None = None
    n: int = 0
    peak_rss_bytes: float | None = None
    core_s: float | None = None


class Row(msgspec.Struct):
    """One combination present in both sessions, A → B, with the verdicts."""

    combination: str
    contended: dict[str, bool]
    unstable: dict[str, list[str]]
    reliable: bool
    parameters: dict[str, Any]
    a: Side
    b: Side
    time_change: float | None
    speed: str
    speed_method: str
    memory_change: float | None
    memory: str
    memory_method: str
    core_s_change: float | None
    #: ``conclusion.text`` of the time verdict: the words every view prints.
    speed_text: str = ""
    speed_confidence: float | None = None


class Comparison(msgspec.Struct):
    """What ``qtui compare`` prints (``--json``: ``to_builtins()``) and the TUI shows."""

    a: SessionRef
    b: SessionRef
    threshold: float
    alpha: float
    combinations: list[Row]
    only_in_a: list[str]
    only_in_b: list[str]

    def to_builtins(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self, enc_hook=str)
        return out


def _row(x: Result, y: Result, name: str, threshold: float) -> Row:
    """Combination ``x`` of A against the same combination ``y`` of B."""
    ta, tb = _times(x), _times(y)
    shaky = {"a": stability.problems(x), "b": stability.problems(y)}
    speed = conclusion.judge(tb, ta, shaky["b"], shaky["a"], names=("B", "A"))
    ma, mb = (statistics.fmean(ta) if ta else None), (statistics.fmean(tb) if tb else None)
    mem_a, mem_b = _rss(x), _rss(y)
    mem = stats.differ(mem_a, mem_b, threshold=threshold, floor=stats.memory_floor(mem_a, mem_b),
                       min_runs=1)
    ca, cb = x.resources.core_s, y.resources.core_s
    return Row(
        combination=name,
        contended={"a": stability.contended(x), "b": stability.contended(y)},
        unstable=shaky,
        reliable=not (shaky["a"] or shaky["b"]),
        parameters=x.parameters,
        a=Side(ma, x.stddev, len(ta), max(mem_a) if mem_a else None, ca),
        b=Side(mb, y.stddev, len(tb), max(mem_b) if mem_b else None, cb),
        time_change=(mb / ma - 1) if ma and mb is not None else None,
        speed=speed.word,
        speed_method=speed.method,
        speed_text=conclusion.text(speed),
        speed_confidence=speed.confidence,
        memory_change=(max(mem_b) / max(mem_a) - 1) if mem_a and mem_b else None,
        memory=_word(mem, "less memory", "more memory"),
        memory_method=mem.method,
        core_s_change=(cb / ca - 1) if ca and cb is not None else None,
    )


def same_session(a: Summary, b: Summary) -> str | None:
    """``A and B are the same session (ID)`` when they are (one file twice, or two exports
    of one session: its runs on both sides, every change nil), else None; the history
    screen refuses such a comparison, ``qtui compare`` says so."""
    if a.session_id and a.session_id == b.session_id:
        return f"A and B are the same session ({a.session_id})"
    return None


def compare(a: Summary, b: Summary, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """Every combination of ``a`` matched in ``b`` (on its full parameters), and those
    found in only one."""

    def key(r: Result) -> str:
        return json.dumps(r.parameters, sort_keys=True, default=str)

    ra = {key(r): r for r in a.results}
    rb = {key(r): r for r in b.results}
    groups = WorkloadGroups([*ra.values(), *rb.values()])  # labels made within a workload
    return Comparison(
        a=SessionRef(a.session_id, a.datetime),
        b=SessionRef(b.session_id, b.datetime),
        threshold=threshold,
        alpha=ALPHA,
        combinations=[
            _row(x, rb[k], groups.label(x), threshold) for k, x in ra.items() if k in rb
        ],
        only_in_a=[groups.label(r) for k, r in ra.items() if k not in rb],
        only_in_b=[groups.label(r) for k, r in rb.items() if k not in ra],
    )


def side_time(side: Side) -> str:
    """``2.512 s ± 0.120 s (n=3)`` for one side of a comparison row."""
    if units.number(side.mean) is None:
        return units.MISSING
    return f"{units.mean_sd(side.mean, side.stddev)} (n={side.n})"


def row_texts(row: Row) -> dict[str, str]:
    """Every figure of a comparison row as text: the CLI and the TUI show these."""
    a, b = row.a, row.b
    return {
        "time_a": side_time(a),
        "time_b": side_time(b),
        "time_change": units.change(row.time_change),
        "speed": row.speed_text or row.speed,
        "memory_a": units.memory(a.peak_rss_bytes),
        "memory_b": units.memory(b.peak_rss_bytes),
        "memory_change": units.change(row.memory_change),
        "core_s_change": units.change(row.core_s_change),
    }


# --- loss curves of several sessions, in one chart -----------------------------------


#: What the chart's curves are: its caption in every view (one line at 80 columns).
OVERLAY_CAPTION = "Training loss per epoch: each combination's mean over its runs"


class OverlaySession(msgspec.Struct):
    """One session of the chart: its letter, what the user knows it by, its id."""

    letter: str
    title: str
    session_id: str | None = None


class LossCurve(msgspec.Struct):
    """One line of the chart: a combination of one session."""

    #: The session's letter and its place in ``LossOverlay.sessions`` (its line style).
    letter: str
    session: int
    combination: str
    #: ``A default.qubit+backprop (2 runs)``: the legend's words in every view.
    name: str
    #: Mean training loss per epoch over the runs that reached that epoch (None: no run
    #: recorded a finite loss there).
    losses: list[float | None]
    runs: int


class LossOverlay(msgspec.Struct):
    """What the comparison's loss chart draws."""

    sessions: list[OverlaySession]
    curves: list[LossCurve]

    def to_builtins(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out


def letter(i: int) -> str:
    """A, B, ... Z, then S27, S28: a session's name in the chart."""
    return chr(ord("A") + i) if i < 26 else f"S{i + 1}"


def _epoch_means(runs: list[list[Any]]) -> tuple[list[float | None], int]:
    """Per epoch, the mean of the runs' finite losses; and how many runs have any."""
    read = [[units.number(x) for x in r] for r in runs if r]
    read = [r for r in read if any(x is not None for x in r)]
    out: list[float | None] = []
    for epoch in range(max((len(r) for r in read), default=0)):
        seen = [x for r in read if epoch < len(r) and (x := r[epoch]) is not None]
        out.append(math.fsum(seen) / len(seen) if seen else None)
    return out, len(read)


def loss_overlay(sides: Sequence[tuple[str, Summary]]) -> LossOverlay:
    """The curves of ``sides`` (title, summary), in their order: A, B, C...  A
    combination is named as its session's own views name it (labels made within the
    session: what differs between sessions, an lr or a workload, is the verdict
    table's and the session's business, not every legend entry's), and gets a curve
    when a run of it recorded epoch losses."""
    sessions: list[OverlaySession] = []
    curves: list[LossCurve] = []
    for i, (title, summary) in enumerate(sides):
        sessions.append(OverlaySession(letter(i), title, summary.session_id))
        groups = WorkloadGroups(summary.results)
        for result in summary.results:
            losses, runs = _epoch_means(list(result.epoch_losses))
            if not runs:
                continue
            combination = groups.label(result)
            name = f"{letter(i)} {combination}" + (f" ({runs} runs)" if runs > 1 else "")
            curves.append(LossCurve(letter(i), i, combination, name, losses, runs))
    return LossOverlay(sessions, curves)
