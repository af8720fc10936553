"""Sweep analysis: how time per step changes along an axis, and where lines cross.

Reads a summary's ``results[]``: one series per combination (and per value of
the other swept axes).  Every pair of lines is judged at every point they
share: a *verdict* — ``faster``, ``slower``, ``tie``, ``unstable`` or
``too few`` — the conclusion of ``qtui.analysis.conclusion.judge`` on the
repeats' per-step times (``qtui.analysis.stats.differ`` after the stability
checks: the same conclusion ``qtui compare`` and the recommendation reach),
``unstable`` when either point is (``qtui.analysis.stability``: contended,
outliers, a slow tail, a wide spread), ``too few`` under 3 runs a side.  The
verdicts are stored per axis (``sweep.<axis>.verdicts[]``: ``a``, ``b``,
``axis``, ``point``, ``verdict``, ``ratio``, ``confidence``, ``method``), and
the crossover sentences are written from them only: "at every … measured"
only when every point says so, ties, unstable and too-few points named.

Node types (``qtui.core.node_types``: CPU model and logical cores).  A crossover
across different machines is not a crossover.  Each verdict lists the node
types its two points were measured on (``node_types``); when they are more
than one, the verdict is ``heterogeneous``, whatever the times say (it wins
over ``unstable``).  And when a pair's points were not all measured on one
node type (a line's points span node types), the pair's sentence says so in
words, "measured on different node types (A, B): not a crossover", and the
usual sentence follows per node type (``On A: …``) for each type with two or
more points.  A local sweep has one node type, so nothing changes for it.
"""

from __future__ import annotations

import itertools
from typing import Any

from qtui.analysis import conclusion, predictions, stability, stats
from qtui.analysis.conclusion import FASTER, MORE_RUNS, SLOWER, TIE, TOO_FEW, UNSTABLE, Conclusion
from qtui.analysis.stability import contended
from qtui.core import node_types
from qtui.core.parameters import label, varying_parameters
from qtui.core.summary_schema import Result, SweepAxis, SweepPoint, Verdict
from qtui.core.sweep import AXES, at


def series(results: list[Result], axis: str) -> dict[str, list[SweepPoint]]:
    """Points per line: ``{label: [SweepPoint(x, time_per_step, values, ...)]}``.

    A line is one combination at fixed values of every other swept parameter;
    its label names those values when they vary.  ``values`` holds the
    per-step time of each repeat (what the statistical rule compares).
    """
    field = AXES[axis][0]
    varying = varying_parameters(results, exclude=(field,))
    lines: dict[str, list[SweepPoint]] = {}
    for r in results:
        if r.time_per_step is None:
            continue
        steps = r.steps or 1
        res = r.resources
        lines.setdefault(label(r, varying), []).append(
            SweepPoint(
                x=r.parameters.get(field),
                time_per_step=float(r.time_per_step),
                time_per_step_sd=(r.stddev / steps) if r.stddev else None,
                values=[float(t) / steps for t in r.times if t is not None],
                n=len(r.times),
                core_s_per_step=res.core_s_per_step,
                cores_in_use=res.cores_in_use,
                peak_rss=res.peak_rss_bytes,
                contended=contended(r),
                unstable=stability.unstable(r),
                node_types=node_types.of_entry(r),
                diff_method=r.resolved_diff_method or str(r.parameters.get("diff_method") or ""),
                batch_size=_int(r.parameters.get("batch_size")),
                layers=_int(r.parameters.get("layers")),
                workload=str(r.parameters.get("workload") or ""),
            )
        )
    for points in lines.values():
        # mixed types sort apart (threads 0 and "auto" in one session): no TypeError
        points.sort(key=lambda pt: (str(type(pt.x)), pt.x))  # type: ignore[arg-type,return-value]
    return lines


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def swept_axes(results: list[Result]) -> list[str]:
    """The axes whose value differs between results."""
    fields = set(varying_parameters(results))
    return [name for name, (f, _, _) in AXES.items() if f in fields]


def _problems(pt: SweepPoint) -> list[str]:
    """The point's stability problem, as the conclusion reads it."""
    return ["contended"] if pt.contended else ["unstable"] if pt.unstable else []


def point_verdict(a: SweepPoint, b: SweepPoint) -> Conclusion:
    """Is line a's point faster or slower than line b's at the same x?"""
    va = _floats(a.values) or [float(a.time_per_step or 0.0)]
    vb = _floats(b.values) or [float(b.time_per_step or 0.0)]
    return conclusion.judge(va, vb, _problems(a), _problems(b))

#: The verdict of a point whose two sides were measured on different node types.
HETEROGENEOUS = "heterogeneous"


def _floats(values: list[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def point_types(a: SweepPoint, b: SweepPoint) -> list[str]:
    """The node types two points were measured on, together."""
    return node_types.spanned([a, b])


def verdict_word(a: SweepPoint, b: SweepPoint, v: Conclusion) -> str:
    """The verdict's word: ``heterogeneous`` first, then the conclusion's."""
    if len(point_types(a, b)) > 1:
        return HETEROGENEOUS
    return v.word


def verdicts(lines: dict[str, list[SweepPoint]], axis: str) -> list[Verdict]:
    """One verdict per pair of lines per shared point: is line ``a`` faster than ``b``?"""
    out = []
    for (la, pa), (lb, pb) in itertools.combinations(lines.items(), 2):
        bx = {pt.x: pt for pt in pb}
        for a in pa:
            b = bx.get(a.x)
            if b is None:
                continue
            v = point_verdict(a, b)
            confidence = None if v.confidence is None else round(v.confidence, 4)
            ta, tb = a.time_per_step, b.time_per_step
            out.append(Verdict(
                a=la, b=lb, axis=axis, point=a.x, verdict=verdict_word(a, b, v),
                ratio=ta / tb if tb and ta is not None else None,
                confidence=confidence, method=v.method, node_types=point_types(a, b),
            ))
    return out


def _n(v: Verdict) -> int:
    """The smaller run count of a too-few verdict (its method says ``(n=2)``)."""
    digits = v.method.rpartition("n=")[2].rstrip(")")
    return int(digits) if digits.isdigit() else 1


def _xs(axis: str, xs: list[Any]) -> str:
    return at(axis, ", ".join(str(x) for x in xs))


def crossovers(lines: dict[str, list[SweepPoint]], axis: str) -> list[str]:
    """Name, in words, where one line overtakes another along the axis (from ``verdicts``)."""
    return sentences(verdicts(lines, axis), axis)


def sentences(judged: list[Verdict], axis: str) -> list[str]:
    """The crossover sentences of a list of verdicts (one or more pairs of lines)."""
    pairs: dict[tuple[str, str], list[Verdict]] = {}
    for v in judged:
        pairs.setdefault((v.a, v.b), []).append(v)
    out: list[str] = []
    for (la, lb), vs in pairs.items():
        types = node_types.spanned(vs)
        if len(types) <= 1:
            line = _pair_sentence(la, lb, vs, axis)
            out += [line] if line else []
            continue
        out.append(_heterogeneous_sentence(la, lb, vs, axis, types))
        for t in types:
            same = [v for v in vs if v.verdict != HETEROGENEOUS and node_types.of_entry(v) == [t]]
            line = _pair_sentence(la, lb, same, axis)
            out += [f"On {t}: {line}"] if line else []
    return out


def _heterogeneous_sentence(
    la: str, lb: str, vs: list[Verdict], axis: str, types: list[str]
) -> str:
    """``a and b were measured on different node types (A, B): not a crossover (…).``"""
    where = []
    for t in types:
        xs = [v.point for v in vs if v.verdict != HETEROGENEOUS
              and node_types.of_entry(v) == [t]]
        if xs:
            where.append(f"{t} at {_xs(axis, xs)}")
    mixed = [v.point for v in vs if v.verdict == HETEROGENEOUS]
    if mixed:
        where.append(f"the two sides on different node types at {_xs(axis, mixed)}")
    return (f"{la} and {lb} were measured on different node types ({', '.join(types)}):"
            f" not a crossover ({'; '.join(where)}).")


def _pair_sentence(la: str, lb: str, vs: list[Verdict], axis: str) -> str | None:
    """The sentence for one pair of lines measured on one node type (None under 2 points)."""
    unit = AXES[axis][2]
    if len(vs) < 2:
        return None
    xs = [v.point for v in vs]
    tied = [v.point for v in vs if v.verdict == TIE]
    unstable = [v.point for v in vs if v.verdict == UNSTABLE]
    few = [v for v in vs if v.verdict == TOO_FEW]
    decided = [(v.point, v.verdict) for v in vs if v.verdict in (FASTER, SLOWER)]
    rest = ""
    if tied and decided:
        rest += f"; within the noise at {_xs(axis, tied)}"
    if unstable:
        rest += (f"; unstable at {_xs(axis, unstable)} (contended or noisy repeats:"
                 " see the unstable results)")
    if few:
        n = min(_n(v) for v in few)
        where = (f"every {unit} measured" if len(few) == len(vs)
                 else _xs(axis, [v.point for v in few]))
        rest += f"; {stats.too_few_text(n)} at {where}: {MORE_RUNS}"
    if not decided:
        if tied:
            where = f"every {unit} measured" if len(tied) == len(vs) else _xs(axis, tied)
            return f"{la} and {lb} are within the noise of each other at {where}{rest}."
        return f"{la} and {lb} cannot be told apart{rest}."
    changes = [
        (decided[i], decided[i + 1])
        for i in range(len(decided) - 1)
        if decided[i][1] != decided[i + 1][1]
    ]
    if not changes:
        word = decided[0][1]
        if len(decided) == len(vs):
            return f"{la} is {word} than {lb} at every {unit} measured ({xs[0]}–{xs[-1]})."
        where = _xs(axis, [x for x, _ in decided])
        return f"{la} is {word} than {lb} at {where}{rest}."
    (x0, _), (x1, w1) = changes[0]
    parts = [f"{la} is {decided[0][1]} than {lb} up to {at(axis, x0)}",
             f"from {at(axis, x1)} it is {w1}"]
    for (_, _), (xn, wn) in changes[1:]:
        parts.append(f"and from {at(axis, xn)} {wn} again")
    return "; ".join(parts) + rest + "."


def analyse(results: list[Result]) -> dict[str, SweepAxis]:
    """Series and crossovers for every swept axis (empty when nothing was swept)."""
    out: dict[str, SweepAxis] = {}
    for axis in swept_axes(results):
        lines = series(results, axis)
        judged = verdicts(lines, axis)
        out[axis] = SweepAxis(series=lines, verdicts=judged, crossovers=sentences(judged, axis))
        if axis == predictions.AXIS:  # the cost models (issue 25): fits only, no refits here
            out[axis].models = predictions.records(predictions.models(lines))
    return out
