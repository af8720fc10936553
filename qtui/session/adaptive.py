"""``--repeat auto``: repeat each combination until its mean is known well enough.

In the spirit of pyperf's calibration: the first pass runs every combination
once, then passes are repeated — interleaved, one run of each combination
still short of its target per pass, so slow drift on a shared node spreads
over all of them — until, for each combination, the 95 % confidence interval
of its mean training time is within ``target_ci`` of the mean (default 5 %),
or it has ``max_repeats`` runs, or the session has trained for ``max_time_s``.

Decisions: at least ``min_repeats`` (3) runs before the interval is trusted
(two runs give a t quantile of 12.7: any target is met by luck or never);
a combination whose run failed, crashed, timed out or was cancelled is not
repeated (the error would only repeat); the time budget counts from the
session's first run and stops new passes, never a run in progress.

The planner is given to the supervisor (``Supervisor(planner=...)``), which
shows it every event it delivers and asks ``more()`` when its list is done.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field, replace
from typing import Any

from qtui.analysis import stats
from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.core.parameters import combo_key, combo_parameters
from qtui.core.summary_schema import Result
from qtui.core.workload_groups import WorkloadGroups

DEFAULT_TARGET_CI = 0.05
DEFAULT_MAX_REPEATS = 10
MIN_REPEATS = 3


@dataclass
class RepeatPolicy:
    # read at construction, so the defaults are the module's values at that time
    target_ci: float = field(default_factory=lambda: DEFAULT_TARGET_CI)
    max_repeats: int = field(default_factory=lambda: DEFAULT_MAX_REPEATS)
    max_time_s: float | None = None
    min_repeats: int = MIN_REPEATS


def ci_fraction(times: list[float]) -> float | None:
    """Half-width of the 95 % interval of the mean, as a fraction of the mean."""
    if len(times) < 2:
        return None
    mean = statistics.fmean(times)
    if mean <= 0:
        return None
    n = len(times)
    half = stats.t_quantile(0.975, n - 1) * statistics.stdev(times) / math.sqrt(n)
    return half / mean


@dataclass
class _Combo:
    template: RunSpec
    times: list[float] = field(default_factory=list)
    runs: int = 0
    broken: bool = False


class AdaptiveRepeats:
    """Plans the passes of ``--repeat auto`` from the events of the runs so far."""

    def __init__(self, first_pass: list[RunSpec], policy: RepeatPolicy | None = None) -> None:
        self.policy = policy or RepeatPolicy()
        self.combos: dict[str, _Combo] = {}
        self._combo_of: dict[str, str] = {}
        for spec in first_pass:
            key = combo_key(combo_parameters(spec.to_dict()))
            self.combos.setdefault(key, _Combo(spec))
        self._t0: float | None = None

    def observe(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunQueued):
            self._combo_of[event.run_id] = combo_key(combo_parameters(event.spec))
            return
        if isinstance(event, ev.RunStarted) and self._t0 is None:
            self._t0 = time.monotonic()
        if event.type not in ev.TERMINAL_TYPES:
            return
        combo = self.combos.get(self._combo_of.get(getattr(event, "run_id", ""), ""))
        if combo is None:
            return
        combo.runs += 1
        if isinstance(event, ev.RunFinished) and math.isfinite(event.train_s):
            combo.times.append(float(event.train_s))
        else:
            combo.broken = True

    def done(self, combo: _Combo) -> bool:
        p = self.policy
        if combo.broken or combo.runs >= p.max_repeats:
            return True
        if len(combo.times) < p.min_repeats:
            return False
        ci = ci_fraction(combo.times)
        return ci is not None and ci <= p.target_ci

    def out_of_time(self) -> bool:
        limit = self.policy.max_time_s
        return limit is not None and self._t0 is not None and time.monotonic() - self._t0 >= limit

    def more(self) -> list[RunSpec]:
        """The next interleaved pass: one run of every combination short of its target."""
        if self.out_of_time():
            return []
        return [
            replace(c.template, run_id="", repeat_index=c.runs)
            for c in self.combos.values()
            if not self.done(c)
        ]

    def report(self) -> list[dict[str, Any]]:
        """Per combination: runs, the interval reached, and why repeating stopped.

        Each is named as every view names it: within its workload
        (``qtui.core.workload_groups``), so a ``qtui exec`` script beside forum runs
        gains none of their parameters, nor they its zeros."""
        results = [Result(parameters=combo_parameters(c.template.to_dict()))
                   for c in self.combos.values()]
        groups = WorkloadGroups(results)
        out = []
        for c, r in zip(self.combos.values(), results, strict=True):
            ci = ci_fraction(c.times)
            if c.broken:
                why = "a run did not finish"
            elif ci is not None and len(c.times) >= self.policy.min_repeats and ci <= self.policy.target_ci:
                why = "target reached"
            elif c.runs >= self.policy.max_repeats:
                why = "--max-repeats reached"
            else:
                why = "--max-time reached" if self.out_of_time() else "stopped"
            out.append({"combination": groups.label(r),
                        "runs": c.runs, "ci": ci, "why": why})
        return out
