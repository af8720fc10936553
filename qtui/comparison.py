"""Comparing two summaries per combination, with σ-aware verdicts.

Combinations are matched on their full ``parameters{}`` (device, diff
method and every workload parameter); those present in only one summary are
listed.  For each match: mean training time A → B, the change and a verdict;
peak memory A → B with its own verdict; the core-seconds change.  Used by
``qtui compare`` and by the TUI's history screen (past session vs current).

How a verdict is decided (α = 0.05, two-sided):

* **both sides have ≥ 2 finished repeats:** Welch's t-test on the repeats'
  training times (unequal variances, Welch–Satterthwaite degrees of freedom).
  p < 0.05 → *faster*/*slower*, otherwise *no significant change*.
* **one side has ≥ 2 repeats, the other 1:** the single time is compared with
  the 95 % prediction interval of the repeated side
  (mean ± t₀.₉₇₅,ₙ₋₁ · s · √(1 + 1/n)); outside it → *faster*/*slower*.
* **one repeat each:** no σ exists, so only a change larger than
  ``--threshold`` (default 10 % of A's time) counts; anything smaller is
  *no significant change*.  10 % is a judgement call: on a shared node
  repeated single timings of the same run commonly differ by several percent;
  use ``--repeat 3`` for a real test.

Peak memory is nearly deterministic: the same rules apply to the repeats'
peak RSS values, with a floor of 2 % or 4 MiB below which a change is never
called significant (matching ``qtui.recommend``).
"""

from __future__ import annotations

import json
import math
import statistics
from typing import Any

from qtui.export.base import result_label, varying_parameters

ALPHA = 0.05
DEFAULT_THRESHOLD = 0.10
MEMORY_FLOOR_FRACTION = 0.02
MEMORY_FLOOR_BYTES = 4 * 1024 * 1024
NOT_MEASURED = "not measured on both sides"


# --- Student's t distribution without scipy ------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Numerical Recipes)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| ≥ |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return _betai(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (p > 0.5) of Student's t, by bisection on the CDF."""
    target = 2.0 * (1.0 - p)  # two-sided tail mass
    lo, hi = 0.0, 1e6
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_two_sided_p(mid, df) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def welch(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Welch's t statistic, degrees of freedom and two-sided p-value."""
    na, nb = len(a), len(b)
    va, vb = statistics.variance(a) / na, statistics.variance(b) / nb
    diff = statistics.fmean(b) - statistics.fmean(a)
    se = math.sqrt(va + vb)
    if se == 0.0:
        return (math.copysign(math.inf, diff) if diff else 0.0), float(na + nb - 2), (
            0.0 if diff else 1.0
        )
    t = diff / se
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return t, df, t_two_sided_p(t, df)


# --- verdicts -----------------------------------------------------------------


def verdict(
    a: list[float], b: list[float], threshold: float, floor: float = 0.0
) -> tuple[int, str]:
    """(-1 lower in B, +1 higher in B, 0 no significant change) and the method used."""
    if not a or not b:
        return 0, NOT_MEASURED
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    diff = mb - ma
    if diff == 0:
        return 0, "identical"
    if abs(diff) <= floor:
        return 0, "below the noise floor"
    sign = 1 if diff > 0 else -1
    if len(a) >= 2 and len(b) >= 2:
        _, df, p = welch(a, b)
        return (sign if p < ALPHA else 0), f"Welch t-test, p = {p:.3g}"
    if len(a) >= 2 or len(b) >= 2:
        many, one = (a, b[0]) if len(a) >= 2 else (b, a[0])
        n, m, s = len(many), statistics.fmean(many), statistics.stdev(many)
        half = t_quantile(1 - ALPHA / 2, n - 1) * s * math.sqrt(1 + 1 / n)
        outside = abs(one - m) > half
        return (sign if outside else 0), f"95 % prediction interval of the {n} repeats"
    rel = abs(diff) / ma if ma else math.inf
    return (sign if rel > threshold else 0), f"single runs, threshold {threshold:.0%}"


def _word(sign: int, how: str, lower: str, higher: str) -> str:
    if how == NOT_MEASURED:
        return "not measured"
    return {-1: lower, 1: higher, 0: "no significant change"}[sign]


def _times(r: dict[str, Any]) -> list[float]:
    return [float(x) for x in r.get("times") or [] if x is not None]


def _rss(r: dict[str, Any]) -> list[float]:
    res = r.get("resources") or {}
    return [float(x) for x in res.get("peak_rss_values") or [] if x]


def compare(a: dict[str, Any], b: dict[str, Any], threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """The comparison as plain data (``--json`` prints it)."""

    def key(r: dict[str, Any]) -> str:
        return json.dumps(r.get("parameters") or {}, sort_keys=True, default=str)

    ra = {key(r): r for r in a.get("results") or []}
    rb = {key(r): r for r in b.get("results") or []}
    varying = varying_parameters(list(ra.values()) + list(rb.values()))
    rows = []
    for k, x in ra.items():
        y = rb.get(k)
        if y is None:
            continue
        ta, tb = _times(x), _times(y)
        speed, how = verdict(ta, tb, threshold)
        ma, mb = (statistics.fmean(ta) if ta else None), (statistics.fmean(tb) if tb else None)
        mem_a, mem_b = _rss(x), _rss(y)
        floor = max(MEMORY_FLOOR_BYTES, MEMORY_FLOOR_FRACTION * min(mem_a + mem_b, default=0))
        mem, mem_how = verdict(mem_a, mem_b, threshold, floor=floor)
        ca = (x.get("resources") or {}).get("core_s")
        cb = (y.get("resources") or {}).get("core_s")
        rows.append(
            {
                "combination": result_label(x, varying),
                "parameters": x.get("parameters"),
                "a": {"mean": ma, "stddev": x.get("stddev"), "n": len(ta),
                      "peak_rss_bytes": max(mem_a) if mem_a else None, "core_s": ca},
                "b": {"mean": mb, "stddev": y.get("stddev"), "n": len(tb),
                      "peak_rss_bytes": max(mem_b) if mem_b else None, "core_s": cb},
                "time_change": (mb / ma - 1) if ma and mb is not None else None,
                "speed": _word(speed, how, "faster", "slower"),
                "speed_method": how,
                "memory_change": (max(mem_b) / max(mem_a) - 1) if mem_a and mem_b else None,
                "memory": _word(mem, mem_how, "less memory", "more memory"),
                "memory_method": mem_how,
                "core_s_change": (cb / ca - 1) if ca and cb is not None else None,
            }
        )
    return {
        "a": {"session_id": a.get("session_id"), "datetime": a.get("datetime")},
        "b": {"session_id": b.get("session_id"), "datetime": b.get("datetime")},
        "threshold": threshold,
        "alpha": ALPHA,
        "combinations": rows,
        "only_in_a": [result_label(r, varying) for k, r in ra.items() if k not in rb],
        "only_in_b": [result_label(r, varying) for k, r in rb.items() if k not in ra],
    }
