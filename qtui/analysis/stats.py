"""The one rule that decides whether two measurements differ.

``differ(a, b)`` answers "do these two samples differ, in which direction, and
how sure are we?".  ``qtui compare``, the recommendation (ties) and the sweep
crossovers all ask it, so their words can never disagree about the same two
sets of numbers.

The rule (α = 0.05, two-sided):

* **fewer than ``MIN_RUNS`` (3) runs on a side:** *too few runs to tell*, the
  verdict says so with the smaller n ("too few runs to tell (n=2)").  Below
  three runs ``qtui.analysis.stability`` cannot see outliers, a slow tail or a
  spread, so "an unstable result never wins" could not be kept; Welch's test
  with 1–2 degrees of freedom calls a 6× gap a tie; and single runs have no σ
  at all (on a loaded node identical single runs have differed 4.7×).  This
  holds for n=1 on both sides too: a single-run gap, however large, is not a
  verdict.  Timings (time, core-seconds) use it; peak memory passes
  ``min_runs=1`` (below).
* **both sides have ≥ 2 repeats:** Welch's t-test (unequal variances,
  Welch–Satterthwaite degrees of freedom).  p < α → they differ.
* **one side has ≥ 2 repeats, the other 1:** the single value is compared with
  the 95 % prediction interval of the repeated side,
  ``mean ± t(0.975, n-1) · s · √(1 + 1/n)``; outside it → they differ.
* **one value each:** no σ exists.  Only a relative difference larger than
  ``SINGLE_RUN_THRESHOLD`` (10 % of the smaller value) counts.  10 % is a
  judgement, not a confidence level: on a shared node repeated single timings
  of the same run commonly differ by several percent.  The words say "single
  runs" and ask for ``--repeat 3``.

The last two rules are reached only with ``min_runs`` below 3, which peak
memory uses: it is nearly deterministic and not what the stability checks
read, so a ``floor`` (absolute) below which a difference is never called real
decides instead: ``memory_floor`` gives max(4 MiB, 2 % of the smaller value).

Student's t distribution is computed here (the regularised incomplete beta
function, Numerical Recipes' continued fraction) rather than with scipy:
``import scipy.special`` costs ~0.3 s, and the UI process, which calls this on
every finished run, must not stall.  ``tests/test_stats.py`` checks it against
scipy.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05
CONFIDENCE = 1 - ALPHA
SINGLE_RUN_THRESHOLD = 0.10
#: Fewer runs than this on a side: too few to tell (timings).
MIN_RUNS = 3
MEMORY_FLOOR_FRACTION = 0.02
MEMORY_FLOOR_BYTES = 4 * 1024 * 1024

#: ``Verdict.method`` values that mean "nothing could be compared".
NOT_MEASURED = "not measured on both sides"


@dataclass(frozen=True)
class Verdict:
    """The answer to "do ``a`` and ``b`` differ?".

    ``direction`` is +1 when b is higher than a, -1 when lower, 0 when no
    difference is shown.  ``method`` says which rule decided, in words.
    ``p_value`` is set for the t-test; ``confident`` is False whenever the
    rule could not give a confidence level (too few runs, single runs,
    nothing measured).  ``too_few`` is set when a side had fewer than
    ``min_runs`` runs (``n`` the smaller count).
    """

    direction: int
    method: str
    p_value: float | None = None
    confident: bool = True
    too_few: bool = False
    n: int = 0

    @property
    def differs(self) -> bool:
        return self.direction != 0

    @property
    def measured(self) -> bool:
        return self.method != NOT_MEASURED


# --- Student's t ----------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Numerical Recipes 6.4)."""
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


def welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Welch's t statistic (b - a), degrees of freedom and two-sided p-value."""
    na, nb = len(a), len(b)
    va, vb = statistics.variance(a) / na, statistics.variance(b) / nb
    diff = statistics.fmean(b) - statistics.fmean(a)
    se = math.sqrt(va + vb)
    if se == 0.0:
        t = math.copysign(math.inf, diff) if diff else 0.0
        return t, float(na + nb - 2), (0.0 if diff else 1.0)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    t = diff / se
    return t, df, t_two_sided_p(t, df)


# --- the rule -------------------------------------------------------------------


def _clean(values: Sequence[float] | None) -> list[float]:
    out = []
    for v in values or []:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def too_few_text(n: int) -> str:
    """The words of the too-few verdict: ``too few runs to tell (n=2)``."""
    return f"too few runs to tell (n={n})"


def differ(
    a: Sequence[float] | None,
    b: Sequence[float] | None,
    *,
    threshold: float = SINGLE_RUN_THRESHOLD,
    floor: float = 0.0,
    min_runs: int = MIN_RUNS,
) -> Verdict:
    """Do samples ``a`` and ``b`` differ?  See the module docstring for the rule."""
    xa, xb = _clean(a), _clean(b)
    if not xa or not xb:
        return Verdict(0, NOT_MEASURED, confident=False)
    n = min(len(xa), len(xb))
    if n < min_runs:
        return Verdict(0, too_few_text(n), confident=False, too_few=True, n=n)
    ma, mb = statistics.fmean(xa), statistics.fmean(xb)
    diff = mb - ma
    if diff == 0:
        return Verdict(0, "identical", confident=len(xa) >= 2 and len(xb) >= 2, n=n)
    sign = 1 if diff > 0 else -1
    if abs(diff) <= floor:
        return Verdict(0, "below the noise floor", n=n)
    if len(xa) >= 2 and len(xb) >= 2:
        _, _, p = welch(xa, xb)
        return Verdict(sign if p < ALPHA else 0, f"Welch t-test, p = {p:.3g}", p_value=p, n=n)
    if len(xa) >= 2 or len(xb) >= 2:
        many, one = (xa, xb[0]) if len(xa) >= 2 else (xb, xa[0])
        k, m, s = len(many), statistics.fmean(many), statistics.stdev(many)
        half = t_quantile(1 - ALPHA / 2, k - 1) * s * math.sqrt(1 + 1 / k)
        outside = abs(one - m) > half
        return Verdict(sign if outside else 0, f"95 % prediction interval of {k} repeats", n=n)
    smaller = min(abs(ma), abs(mb))
    rel = abs(diff) / smaller if smaller else math.inf
    return Verdict(
        sign if rel > threshold else 0,
        f"single runs, {threshold:.0%} threshold",
        confident=False,
        n=n,
    )


def memory_floor(a: Sequence[float] | None, b: Sequence[float] | None) -> float:
    """Below this many bytes a peak-memory difference is never called real."""
    values = _clean(a) + _clean(b)
    return max(MEMORY_FLOOR_BYTES, MEMORY_FLOOR_FRACTION * min(values, default=0.0))


def differ_memory(a: Sequence[float] | None, b: Sequence[float] | None) -> Verdict:
    """``differ`` for peak memory (bytes), with the memory floor."""
    return differ(a, b, floor=memory_floor(a, b), min_runs=1)
