"""Sweep analysis: how time per step changes along an axis, and where lines cross.

Reads a summary's ``results[]``: one series per combination (and per value of
the other swept axes), and names in words where one line overtakes another.
Whether two points differ is decided by ``qtui.stats.differ`` on the repeats'
per-step times, the same rule as ``qtui compare`` and the recommendation; a
point within the noise is named as such, never folded into "every".
"""

from __future__ import annotations

import itertools
from typing import Any

from qtui import stats
from qtui.parameters import label, varying_parameters
from qtui.sweep import AXES, at


def series(results: list[dict[str, Any]], axis: str) -> dict[str, list[dict[str, Any]]]:
    """Points per line: ``{label: [{x, time_per_step, values, ...}]}``.

    A line is one combination at fixed values of every other swept parameter;
    its label names those values when they vary.  ``values`` holds the
    per-step time of each repeat (what the statistical rule compares).
    """
    field = AXES[axis][0]
    varying = varying_parameters(results, exclude=(field,))
    lines: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if r.get("time_per_step") is None:
            continue
        p = r.get("parameters", {})
        steps = r.get("steps") or 1
        res = r.get("resources") or {}
        lines.setdefault(label(r, varying), []).append(
            {
                "x": p.get(field),
                "time_per_step": float(r["time_per_step"]),
                "time_per_step_sd": (r["stddev"] / steps) if r.get("stddev") else None,
                "values": [float(t) / steps for t in r.get("times") or []],
                "n": len(r.get("times", [])),
                "core_s_per_step": res.get("core_s_per_step"),
                "cores_in_use": res.get("cores_in_use"),
                "peak_rss": res.get("peak_rss_bytes"),
            }
        )
    for points in lines.values():
        points.sort(key=lambda pt: pt["x"])
    return lines


def swept_axes(results: list[dict[str, Any]]) -> list[str]:
    """The axes whose value differs between results."""
    fields = set(varying_parameters(results))
    return [name for name, (f, _, _) in AXES.items() if f in fields]


def point_verdict(a: dict[str, Any], b: dict[str, Any]) -> stats.Verdict:
    """Is line a's point faster (-1) or slower (+1) than line b's at the same x?"""
    va = a.get("values") or [a["time_per_step"]]
    vb = b.get("values") or [b["time_per_step"]]
    v = stats.differ(vb, va)  # direction: +1 when a is higher than b, i.e. slower
    return v


def _word(sign: int) -> str:
    return "faster" if sign < 0 else "slower"


def _xs(axis: str, xs: list[Any]) -> str:
    return at(axis, ", ".join(str(x) for x in xs))


def crossovers(lines: dict[str, list[dict[str, Any]]], axis: str) -> list[str]:
    """Name, in words, where one line overtakes another along the axis."""
    unit = AXES[axis][2]
    out: list[str] = []
    for (la, pa), (lb, pb) in itertools.combinations(lines.items(), 2):
        bx = {pt["x"]: pt for pt in pb}
        common = [(pt, bx[pt["x"]]) for pt in pa if pt["x"] in bx]
        if len(common) < 2:
            continue
        verdicts = [(a["x"], point_verdict(a, b)) for a, b in common]
        signs = [(x, v.direction) for x, v in verdicts]
        tied_xs = [x for x, s in signs if s == 0]
        decided = [(x, s) for x, s in signs if s != 0]
        caveat = ""
        if any(not v.confident for _, v in verdicts):
            caveat = (
                f" (single runs: a difference under {stats.SINGLE_RUN_THRESHOLD:.0%} counts as"
                " noise; use --repeat 3 for a test)"
            )
        if not decided:
            out.append(
                f"{la} and {lb} are within the noise of each other at every {unit} measured"
                f"{caveat}."
            )
            continue
        ties = f"; within the noise at {_xs(axis, tied_xs)}" if tied_xs else ""
        changes = [
            (decided[i], decided[i + 1])
            for i in range(len(decided) - 1)
            if decided[i][1] != decided[i + 1][1]
        ]
        if not changes:
            word = _word(decided[0][1])
            if tied_xs:
                where = _xs(axis, [x for x, _ in decided])
                out.append(f"{la} is {word} than {lb} at {where}{ties}{caveat}.")
            else:
                xs = [x for x, _ in signs]
                out.append(
                    f"{la} is {word} than {lb} at every {unit} measured ({xs[0]}–{xs[-1]})"
                    f"{caveat}."
                )
            continue
        (x0, _), (x1, s1) = changes[0]
        parts = [
            f"{la} is {_word(decided[0][1])} than {lb} up to {at(axis, x0)}",
            f"from {at(axis, x1)} it is {_word(s1)}",
        ]
        for (_, _), (xn, sn) in changes[1:]:
            parts.append(f"and from {at(axis, xn)} {_word(sn)} again")
        out.append("; ".join(parts) + ties + caveat + ".")
    return out


def analyse(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Series and crossovers for every swept axis (empty when nothing was swept)."""
    out: dict[str, Any] = {}
    for axis in swept_axes(results):
        lines = series(results, axis)
        out[axis] = {"series": lines, "crossovers": crossovers(lines, axis)}
    return out
