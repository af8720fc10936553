"""Which combination should I use, and what does it cost?

Names, for one workload on one machine, the fastest (train time), the
cheapest (core-seconds: what the run costs on a shared node) and the leanest
(peak RSS) combination, each with its evidence and uncertainty, from the
summary's ``results[]`` entries.

Ties.  Another combination is *tied* with the winner when
``qtui.analysis.stats.differ`` (the one rule, shared with ``qtui compare`` and the
sweep crossovers) finds no difference between their repeats: Welch's t-test
at α = 0.05 with repeats on both sides, the 95 % prediction interval with
repeats on one side, a 10 % threshold between single runs (then the text
says the uncertainty is unknown and suggests ``--repeat 3``).  Peak memory
uses the same rule with its floor (max(4 MiB, 2 %)).

A time or core-seconds pick that involves a contended combination (some run
trained while other processes kept the node busy) says so and is marked
unreliable; peak memory does not depend on the neighbours.

Node types.  A timing says how fast a combination is *on the machine it ran
on*; comparing a run on one CPU model with a run on another compares the
machines.  When the results were measured on more than one node type
(``qtui.core.node_types``, a cluster with mixed nodes), the picks are made per node
type and listed under ``node_types`` (each with its own ``groups`` in a
sweep); the top-level picks and groups are then empty, and ``describe`` says
"On <node type>: …".  A result whose repeats ran on several node types is
compared only with results measured on the same mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qtui.analysis import stability, stats
from qtui.analysis.stability import contended
from qtui.core import node_types, units
from qtui.core.parameters import varying_parameters, where
from qtui.core.summary_schema import NodeTypePicks, Pick, PickGroup, Recommendation, Result


@dataclass
class _Item:
    label: str
    value: float
    sd: float | None
    values: list[float]
    contended: bool = False
    unstable: bool = False

    @property
    def n(self) -> int:
        return len(self.values)


def _label(entry: Result) -> str:
    return entry.label or entry.combo or "?"


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values or [] if units.number(v) is not None]


def _time_items(results: list[Result]) -> list[_Item]:
    return [
        _Item(
            _label(r), float(r.mean), units.number(r.stddev), _floats(r.times),
            contended(r), stability.unstable(r),
        )
        for r in results
        if r.mean is not None and units.number(r.mean) is not None
    ]


def _core_items(results: list[Result]) -> list[_Item]:
    out = []
    for r in results:
        res = r.resources
        if res.core_s is None or units.number(res.core_s) is None:
            continue
        out.append(
            _Item(
                _label(r),
                float(res.core_s),
                units.number(res.core_s_stddev),
                _floats(res.core_s_values) or [float(res.core_s)],
                contended(r),
            )
        )
    return out


def _memory_items(results: list[Result]) -> list[_Item]:
    out = []
    for r in results:
        peak = r.resources.peak_rss_bytes
        if peak is None or not units.number(peak):
            continue
        out.append(_Item(_label(r), float(peak), None, _floats(r.resources.peak_rss_values) or [float(peak)]))
    return out


def verdict(a: _Item, b: _Item, *, memory: bool = False) -> stats.Verdict:
    """The one rule, applied to two combinations' repeats."""
    if memory:
        return stats.differ_memory(a.values, b.values)
    return stats.differ(a.values, b.values)


def _pick(criterion: str, items: list[_Item], fmt: Any, memory: bool = False) -> Pick | None:
    if not items:
        return None
    ranked = sorted(items, key=lambda i: i.value)
    best = ranked[0]
    ties = [i.label for i in ranked[1:] if not verdict(best, i, memory=memory).differs]
    runner = ranked[1] if len(ranked) > 1 else None
    margin = runner.value / best.value if runner and best.value > 0 else None
    unc = None if memory else (best.sd if best.n >= 2 else None)
    compared = ranked[: 2 + len(ties)]
    busy = [i.label for i in compared if i.contended and not memory]
    shaky = [i.label for i in compared if i.unstable and not i.contended and not memory]
    return Pick(
        contended=busy,
        unstable=shaky,
        criterion=criterion,
        winner=best.label,
        value=best.value,
        uncertainty=unc,
        tied_with=ties,
        runner_up=runner.label if runner else None,
        margin=margin,
        method=verdict(best, runner, memory=memory).method if runner else "",
        evidence=_evidence(best, runner, ties, fmt, memory) + _contended_text(busy, shaky),
    )


def _evidence(best: _Item, runner: _Item | None, ties: list[str], fmt: Any, memory: bool) -> str:
    text = f"{best.label}: {fmt(best.value)}"
    if not memory:
        if best.n >= 2 and best.sd is not None:
            spread = units.mean_sd(best.value, best.sd, None if fmt is units.seconds else fmt)
            text = f"{best.label}: {spread} over {best.n} runs"
        else:
            text += " (1 run: uncertainty unknown; use --repeat 3 or more)"
    if runner is None:
        return text + "; the only combination measured."
    if ties:
        return text + f"; tied within the noise with {', '.join(ties)}."
    ratio = runner.value / best.value if best.value else float("inf")
    return text + f"; next is {runner.label} at {fmt(runner.value)} ({units.times(ratio)})."


def _contended_text(busy: list[str], shaky: list[str]) -> str:
    text = ""
    if busy:
        text += (
            f" Unreliable: {', '.join(busy)} ran contended (other processes kept the node busy);"
            " rerun on a quiet node."
        )
    if shaky:
        text += f" Unreliable: {', '.join(shaky)} unstable (see the unstable results)."
    return text


def _core_s(value: Any) -> str:
    return f"{units.core_seconds(value)} core-s"


def _picks(results: list[Result]) -> dict[str, Pick | None]:
    return {
        "fastest": _pick("fastest", _time_items(results), units.seconds),
        "cheapest": _pick("cheapest", _core_items(results), _core_s),
        "leanest": _pick("leanest", _memory_items(results), units.memory, memory=True),
    }


def recommend(results: list[Result]) -> Recommendation:
    """The three picks for a summary's ``results[]`` (finished runs only).

    When workload parameters vary (a sweep), comparing a 2-qubit run with a
    12-qubit one says nothing, so the picks are made within each group of
    equal parameters and listed under ``groups``; the top-level picks are then
    ``None``.  When the results span node types, all of that is done per node
    type, under ``node_types`` (see the module's docstring).
    """
    if len(node_types.spanned(results)) > 1:
        by_type: dict[str, list[Result]] = {}
        for r in results:
            measured = node_types.text(node_types.of_entry(r))
            if measured:  # nothing measured: nothing to compare
                by_type.setdefault(measured, []).append(r)
        return Recommendation(node_types=[
            NodeTypePicks(node_type=t, **_recommend(rs)) for t, rs in by_type.items()
        ])
    return Recommendation(**_recommend(results))


def _recommend(results: list[Result]) -> dict[str, Any]:
    """The picks of results measured on one node type: per parameter group in a sweep
    (as ``Recommendation`` fields)."""
    varying = varying_parameters(results)
    if not varying:
        return {**_picks(results), "groups": []}
    groups: dict[str, list[Result]] = {}
    labels: dict[str, dict[str, Any]] = {}
    for r in results:
        params = {k: r.parameters.get(k) for k in varying}
        key = repr(sorted(params.items()))
        groups.setdefault(key, []).append(r)
        labels[key] = params
    return {
        "groups": [PickGroup(parameters=labels[k], **_picks(rs)) for k, rs in groups.items()],
    }


_TITLES = {
    "fastest": "Fastest",
    "cheapest": "Cheapest (core-seconds)",
    "leanest": "Leanest (peak memory)",
}


def _pick_lines(picks: Recommendation | PickGroup | NodeTypePicks, prefix: str = "") -> list[str]:
    out = []
    for key, title in _TITLES.items():
        pick = getattr(picks, key)
        if pick is not None and pick.evidence:
            out.append(f"{prefix}{title}: {pick.evidence}")
    return out


def describe(rec: Recommendation | None) -> list[str]:
    """One line per pick (per group in a sweep, per node type on mixed nodes), for the
    console, Markdown, HTML and the TUI."""
    if rec is None:
        return []
    lines = _describe(rec, "")
    for item in rec.node_types:
        lines += _describe(item, f"On {item.node_type or '?'}")
    return lines


def per_node_type(rec: Recommendation | None) -> bool:
    """Is this recommendation made per node type (results on mixed nodes)?"""
    return rec is not None and bool(rec.node_types)


def _describe(rec: Recommendation | NodeTypePicks, where_run: str) -> list[str]:
    lines = _pick_lines(rec, f"{where_run}: " if where_run else "")
    for group in rec.groups:
        at = where(group.parameters)
        prefix = f"{where_run}, at {at}: " if where_run else f"At {at}: "
        lines += _pick_lines(group, prefix)
    return lines
