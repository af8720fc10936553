"""Which combination should I use, and what does it cost?

Names, for one workload on one machine, the fastest (train time), the
cheapest (core-seconds: what the run costs on a shared node) and the leanest
(peak RSS) combination, each with its evidence and uncertainty, from the
summary's ``results[]`` entries.

Workload groups (``qtui.core.workload_groups``).  Only runs of the same
workload with the same parameters are compared: a script's run against a
forum run, or a 2-qubit point against a 12-qubit one, says nothing.  When the
results hold more than one group (a sweep's points, a ``qtui exec`` script
beside built-in runs, two scripts), the picks are made per group and listed
under ``groups``, each with its name (``group``) and what sets it apart within
its workload (``parameters``); the top-level picks are then empty.
``describe`` names each: "At qubits=4: …" for a sweep point, "For script
train.py --epochs 2: …" or "For forum workload: …" otherwise.  One group: the
top-level picks, no name.

The words are the verdicts'.  Each pick is the conclusion of
``qtui.analysis.conclusion.judge`` (``qtui.analysis.stats.differ``, the one
rule, after ``qtui.analysis.stability``) on the lowest combination against
the next, the same conclusion ``qtui compare`` and the sweep verdicts reach
on the same samples, written by ``conclusion.text``:

* ``faster``: a winner, with its ratio to the next and the confidence;
* ``tie``: no winner: the combinations tied within the noise are named;
* ``unstable``: "no winner: unstable (contended / outliers / …)" with the
  remedy.  A contended or unstable combination is never declared a winner;
* ``too few``: "too few runs to tell (n=2)" while either side has fewer than
  3 runs.  That holds for one run on each side too: a single-run gap, even a
  large one, is not a verdict (the stability checks need 3 runs, and single
  runs on a loaded node have differed 4.7×), so a plain ``qtui run`` says so
  and asks for ``--repeat 3``.  The results table still shows every time.

The runner-up is named only when its own conclusion against the one after it
is ``faster`` (a 0.09 % gap names no runner-up).  Peak memory (leanest) is
judged by ``stats.differ_memory``: nearly deterministic, not read by the
stability checks, so single runs count and its floor (max(4 MiB, 2 %))
decides.

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

from dataclasses import dataclass, field
from typing import Any

from qtui.analysis import conclusion, stability
from qtui.analysis.conclusion import FASTER, TIE, Conclusion
from qtui.analysis.stability import contended
from qtui.core import node_types, units
from qtui.core.parameters import where
from qtui.core.summary_schema import NodeTypePicks, Pick, PickGroup, Recommendation, Result
from qtui.core.workload_groups import WorkloadGroups


@dataclass
class _Item:
    label: str
    value: float
    sd: float | None
    values: list[float]
    contended: bool = False
    problems: list[str] = field(default_factory=list)

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
            contended(r), stability.problems(r),
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
                stability.problems(r),
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


def verdict(a: _Item, b: _Item, *, memory: bool = False) -> Conclusion:
    """The conclusion on two combinations: the one rule, after the stability checks."""
    return conclusion.judge(a.values, b.values, a.problems, b.problems, memory=memory,
                            names=(a.label, b.label))


#: The direction words per criterion (lower, higher).
_WORDS = {
    "fastest": ("faster", "slower"),
    "cheapest": ("cheaper", "dearer"),
    "leanest": ("leaner", "heavier"),
}


def _figure(item: _Item, fmt: Any, memory: bool) -> str:
    """``2.100 s ± 0.050 s, n=3``: the figure a pick rests on."""
    if not memory and item.n >= 2 and item.sd is not None:
        value = units.mean_sd(item.value, item.sd, None if fmt is units.seconds else fmt)
    else:
        value = fmt(item.value)
    return f"{value}, n={item.n}"


def _pick(criterion: str, items: list[_Item], fmt: Any, memory: bool = False) -> Pick | None:
    if not items:
        return None
    ranked = sorted(items, key=lambda i: i.value)
    best = ranked[0]
    fig = {i.label: _figure(i, fmt, memory) for i in ranked}
    if len(ranked) == 1:
        return Pick(criterion=criterion, winner=best.label, value=best.value,
                    evidence=f"{best.label} ({fig[best.label]}); the only combination measured.")
    nxt = ranked[1]
    c = verdict(best, nxt, memory=memory)
    lower, higher = _WORDS[criterion]
    ties = [i.label for i in ranked[1:] if verdict(best, i, memory=memory).word == TIE]
    runner = None
    if c.word == FASTER:
        than = f"than {nxt.label} ({fig[nxt.label]})"
        evidence = (f"{best.label} ({fig[best.label]}), "
                    f"{conclusion.text(c, lower=lower, higher=higher, than=than)}")
        runner, tail = _runner_up(ranked, fig, memory, lower, higher)
        evidence += tail
    elif c.word == TIE:
        named = [f"{label} ({fig[label]})" for label in [best.label, *ties]]
        both = ", ".join(named[:-1]) + f" and {named[-1]}"
        evidence = f"no winner: {both}: {conclusion.text(c)}"
    else:  # unstable, too few runs: no winner is named, the pair is
        words = conclusion.text(c).removeprefix("no winner: ")
        evidence = (f"{best.label} ({fig[best.label]}) against {nxt.label}"
                    f" ({fig[nxt.label]}): no winner: {words}")
    compared = [best, nxt]
    return Pick(
        contended=[i.label for i in compared if i.contended and not memory],
        unstable=[i.label for i in compared if i.problems and not i.contended and not memory],
        criterion=criterion,
        winner=best.label if c.word == FASTER else "",
        verdict=c.word,
        confidence=c.confidence,
        value=best.value,
        uncertainty=None if memory else (best.sd if best.n >= 2 else None),
        tied_with=ties if c.word == TIE else [],
        runner_up=runner,
        margin=c.ratio,
        method=c.method,
        evidence=evidence.rstrip(".") + ".",
    )


def _runner_up(
    ranked: list[_Item], fig: dict[str, str], memory: bool, lower: str, higher: str
) -> tuple[str | None, str]:
    """The runner-up (``ranked[1]``) and its words: named only when it, too, is told
    apart from the one after it."""
    if len(ranked) < 3:
        return ranked[1].label, ""
    second, third = ranked[1], ranked[2]
    c = verdict(second, third, memory=memory)
    if c.word == FASTER:
        than = f"than {third.label} ({fig[third.label]})"
        return second.label, (f"; runner-up {second.label},"
                              f" {conclusion.text(c, lower=lower, higher=higher, than=than)}")
    return None, (f"; no runner-up: {second.label} against {third.label}:"
                  f" {conclusion.text(c)}")


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

    With more than one workload group (a sweep's points, a script beside
    built-in runs), the picks are made within each group and listed under
    ``groups``; the top-level picks are then ``None``.  When the results span
    node types, all of that is done per node type, under ``node_types`` (see
    the module's docstring).
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
    """The picks of results measured on one node type: per workload group when there
    is more than one (as ``Recommendation`` fields)."""
    groups = WorkloadGroups(results).split(results)
    if len(groups) < 2:
        return {**_picks(results), "groups": []}
    return {
        "groups": [PickGroup(group=g.name, parameters=g.parameters, **_picks(rs))
                   for g, rs in groups],
    }


_TITLES = {
    "fastest": "Fastest",
    "cheapest": "Cheapest (core-seconds)",
    "leanest": "Leanest (peak memory)",
}


def _pick_lines(
    picks: Recommendation | PickGroup | NodeTypePicks, prefix: str = ""
) -> list[tuple[str, str]]:
    out = []
    for key, title in _TITLES.items():
        pick = getattr(picks, key)
        if pick is not None and pick.evidence:
            out.append((f"{prefix}{title}: {pick.evidence}", pick.verdict))
    return out


def describe(rec: Recommendation | None) -> list[str]:
    """One line per pick (per group in a sweep, per node type on mixed nodes), for the
    console, Markdown, HTML and the TUI."""
    return [line for line, _ in described(rec)]


def described(rec: Recommendation | None) -> list[tuple[str, str]]:
    """``describe``'s lines, each with its pick's verdict (the TUI marks ties by it)."""
    if rec is None:
        return []
    lines = _describe(rec, "")
    for item in rec.node_types:
        lines += _describe(item, f"On {item.node_type or '?'}")
    return lines


def per_node_type(rec: Recommendation | None) -> bool:
    """Is this recommendation made per node type (results on mixed nodes)?"""
    return rec is not None and bool(rec.node_types)


def named_groups(rec: Recommendation | None) -> bool:
    """Are the picks made per workload (a script, a workload beside a script), not
    only per sweep point?"""
    if rec is None:
        return False
    groups = [*rec.groups, *(g for t in rec.node_types for g in t.groups)]
    return any(_group_words(g)[0] == "for" for g in groups)


def _group_words(group: PickGroup) -> tuple[str, str]:
    """("at", "qubits=4") for a sweep point, ("for", "script train.py") otherwise (an
    older summary's group has no name: its parameters are a sweep point)."""
    at = where(group.parameters)
    if not group.group or group.group == at:
        return "at", at
    return "for", group.group


def _describe(rec: Recommendation | NodeTypePicks, where_run: str) -> list[tuple[str, str]]:
    lines = _pick_lines(rec, f"{where_run}: " if where_run else "")
    for group in rec.groups:
        word, name = _group_words(group)
        prefix = f"{where_run}, {word} {name}: " if where_run else f"{word.capitalize()} {name}: "
        lines += _pick_lines(group, prefix)
    return lines
