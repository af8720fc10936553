"""Which combination should I use, and what does it cost?

Names, for one workload on one machine, the fastest (train time), the
cheapest (core-seconds: what the run costs on a shared node) and the leanest
(peak RSS) combination, each with its evidence and uncertainty, from the
summary's ``results[]`` entries.

Ties.  Two combinations are *tied* on a figure when their difference is
within the noise:

* with at least two measured repeats on both sides, when
  ``|a - b| < 2 * sqrt(sa²/na + sb²/nb)`` (about a 95 % interval of the
  difference of the means, Welch-style);
* otherwise (one repeat, so no σ), when the difference is under
  ``SINGLE_RUN_NOISE`` (5 %) of the smaller value: one run cannot tell more, and
  the text says so and suggests ``--repeat 3``.

Peak RSS is nearly deterministic, so memory ties use a fixed floor instead:
under 2 % or 4 MiB, whichever is larger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SINGLE_RUN_NOISE = 0.05
MEMORY_NOISE_FRACTION = 0.02
MEMORY_NOISE_BYTES = 4 * 1024 * 1024


@dataclass
class Pick:
    """One recommendation: the winner, those tied with it, and why."""

    criterion: str  # "fastest" | "cheapest" | "leanest"
    winner: str
    value: float
    uncertainty: float | None
    tied_with: list[str] = field(default_factory=list)
    runner_up: str | None = None
    margin: float | None = None  # runner-up / winner
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "winner": self.winner,
            "value": self.value,
            "uncertainty": self.uncertainty,
            "tied_with": list(self.tied_with),
            "runner_up": self.runner_up,
            "margin": self.margin,
            "evidence": self.evidence,
        }


@dataclass
class _Item:
    label: str
    value: float
    sd: float | None
    n: int


def _label(entry: dict[str, Any]) -> str:
    return str(entry.get("label") or entry.get("command") or "?")


def _time_items(results: list[dict[str, Any]]) -> list[_Item]:
    return [
        _Item(_label(r), float(r["mean"]), r.get("stddev"), len(r.get("times", [])))
        for r in results
        if r.get("mean") is not None
    ]


def _core_items(results: list[dict[str, Any]]) -> list[_Item]:
    out = []
    for r in results:
        res = r.get("resources") or {}
        if res.get("core_s") is None:
            continue
        values = res.get("core_s_values") or []
        out.append(_Item(_label(r), float(res["core_s"]), res.get("core_s_stddev"), len(values)))
    return out


def _memory_items(results: list[dict[str, Any]]) -> list[_Item]:
    out = []
    for r in results:
        res = r.get("resources") or {}
        if not res.get("peak_rss_bytes"):
            continue
        out.append(_Item(_label(r), float(res["peak_rss_bytes"]), None, 1))
    return out


def tied(a: _Item, b: _Item, *, memory: bool = False) -> bool:
    """Is the difference between two measurements within the noise?"""
    diff = abs(a.value - b.value)
    if memory:
        floor = max(MEMORY_NOISE_BYTES, MEMORY_NOISE_FRACTION * min(a.value, b.value))
        return diff < floor
    if a.n >= 2 and b.n >= 2 and a.sd is not None and b.sd is not None:
        return diff < 2.0 * math.sqrt(a.sd**2 / a.n + b.sd**2 / b.n)
    return diff < SINGLE_RUN_NOISE * min(a.value, b.value)


def _pick(criterion: str, items: list[_Item], unit: str, memory: bool = False) -> Pick | None:
    if not items:
        return None
    ranked = sorted(items, key=lambda i: i.value)
    best = ranked[0]
    ties = [i.label for i in ranked[1:] if tied(best, i, memory=memory)]
    runner = ranked[1] if len(ranked) > 1 else None
    margin = runner.value / best.value if runner and best.value > 0 else None
    unc = None if memory else (best.sd if best.n >= 2 else None)
    return Pick(
        criterion=criterion,
        winner=best.label,
        value=best.value,
        uncertainty=unc,
        tied_with=ties,
        runner_up=runner.label if runner else None,
        margin=margin,
        evidence=_evidence(criterion, best, runner, ties, unit, memory),
    )


def _fmt(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 2**20:.1f} MiB"
    return f"{value:.3g} {unit}"


def _evidence(
    criterion: str, best: _Item, runner: _Item | None, ties: list[str], unit: str, memory: bool
) -> str:
    text = f"{best.label}: {_fmt(best.value, unit)}"
    if not memory:
        if best.n >= 2 and best.sd is not None:
            text += f" ± {_fmt(best.sd, unit)} over {best.n} runs"
        else:
            text += " (1 run: uncertainty unknown; use --repeat 3 or more)"
    if runner is None:
        return text + "; the only combination measured."
    ratio = runner.value / best.value if best.value else float("inf")
    if ties:
        return text + f"; tied within the noise with {', '.join(ties)}."
    return text + f"; next is {runner.label} at {_fmt(runner.value, unit)} ({ratio:.2f}×)."


def _picks(results: list[dict[str, Any]]) -> dict[str, Any]:
    picks = {
        "fastest": _pick("fastest", _time_items(results), "s"),
        "cheapest": _pick("cheapest", _core_items(results), "core-s"),
        "leanest": _pick("leanest", _memory_items(results), "bytes", memory=True),
    }
    return {k: (p.to_dict() if p else None) for k, p in picks.items()}


def recommend(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The three picks for a summary's ``results[]`` (finished runs only).

    When workload parameters vary (a sweep), comparing a 2-qubit run with a
    12-qubit one says nothing, so the picks are made within each group of
    equal parameters and listed under ``groups``; the top-level picks are then
    ``None``.
    """
    from qtui.summary import varying_parameters

    varying = varying_parameters(results)
    if not varying:
        return {**_picks(results), "groups": []}
    groups: dict[str, list[dict[str, Any]]] = {}
    labels: dict[str, dict[str, Any]] = {}
    for r in results:
        params = {k: (r.get("parameters") or {}).get(k) for k in varying}
        key = repr(sorted(params.items()))
        groups.setdefault(key, []).append(r)
        labels[key] = params
    return {
        "fastest": None,
        "cheapest": None,
        "leanest": None,
        "groups": [{"parameters": labels[k], **_picks(rs)} for k, rs in groups.items()],
    }


_TITLES = {
    "fastest": "Fastest",
    "cheapest": "Cheapest (core-seconds)",
    "leanest": "Leanest (peak memory)",
}


def describe(rec: dict[str, Any]) -> list[str]:
    """One line per pick (per group in a sweep), for the console, Markdown and the TUI."""
    lines = []
    for key, title in _TITLES.items():
        pick = rec.get(key)
        if pick:
            lines.append(f"{title}: {pick['evidence']}")
    for group in rec.get("groups") or []:
        where = ", ".join(f"{k}={v}" for k, v in group["parameters"].items())
        for key, title in _TITLES.items():
            pick = group.get(key)
            if pick:
                lines.append(f"At {where}: {title}: {pick['evidence']}")
    return lines
