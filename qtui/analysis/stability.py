"""Is a result stable enough to trust?  Warnings with the remedy, as pyperf and hyperfine give.

``problems(result)`` reads a summary's ``results[]`` entry and returns one
sentence per problem, each ending with what to do about it:

* **contended**: some runs trained while other processes kept the node busy
  (``contended_runs``, see ``qtui.engine.sampler.ContentionStats``);
* **outliers**: a repeat more than ``OUTLIER_MADS`` (5) median absolute
  deviations from the median (pyperf's robust test, with a floor of 1 % of
  the median so identical repeats do not make every wobble an outlier);
* **max far above the median**: the slowest repeat took more than
  ``MAX_OVER_MEDIAN`` (1.5×) the median (hyperfine warns on the same shape);
* **wide spread**: σ over ``WIDE_CV`` (10 %) of the mean.

Fewer than three repeats cannot show outliers or spread: then only contention
is judged.  A result with any problem is *unstable*; the sweep verdicts call a
point with an unstable side ``unstable`` instead of naming a winner.
"""

from __future__ import annotations

import statistics

from qtui.core import units
from qtui.core.summary_schema import Result

OUTLIER_MADS = 5.0
MAX_OVER_MEDIAN = 1.5
WIDE_CV = 0.10


def contended(result: Result) -> bool:
    """Did any finished run of this combination train on a contended node?"""
    return bool(result.contended_runs)

QUIET = "rerun on a quiet node (or an exclusive one)"
MORE = "rerun with --repeat auto (raise --max-repeats if it was), and --threads N to pin thread pools"


def problems(result: Result) -> list[str]:
    """One sentence per reason not to trust ``result``'s time, with the remedy."""
    out: list[str] = []
    n_busy = result.contended_runs
    if n_busy:
        busy = units.cores(result.resources.contention_cores)
        out.append(
            f"contended: {n_busy} run(s) trained while other processes kept {busy} cores busy"
            f" on average; {QUIET}"
        )
    times = [t for t in (units.number(x) for x in result.times) if t is not None]
    if len(times) < 3:
        return out
    median = statistics.median(times)
    mad = statistics.median(abs(t - median) for t in times)
    spread = max(mad, 0.01 * median)
    outliers = [t for t in times if abs(t - median) > OUTLIER_MADS * spread]
    if outliers:
        out.append(
            f"{len(outliers)} outlier(s) of {len(times)} repeats"
            f" ({', '.join(units.seconds(t) for t in outliers)} against a median of"
            f" {units.seconds(median)}); {MORE}"
        )
    slowest = max(times)
    if median > 0 and slowest > MAX_OVER_MEDIAN * median and not outliers:
        out.append(
            f"the slowest repeat took {units.times(slowest / median)} the median; {MORE}"
        )
    mean = statistics.fmean(times)
    cv = statistics.stdev(times) / mean if mean > 0 else 0.0
    if cv > WIDE_CV:
        out.append(f"σ is {cv:.0%} of the mean; {MORE}")
    return out


def unstable(result: Result) -> bool:
    return bool(problems(result))
