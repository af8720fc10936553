"""The conclusion on two samples, in the words every view prints.

``judge(a, b)`` asks ``qtui.analysis.stats.differ`` (the one rule) whether
``a`` is lower than ``b`` after ``qtui.analysis.stability`` has had its say,
and ``text`` writes the answer.  The recommendation, ``qtui compare`` and the
sweep verdicts all call these two, so the same samples get the same word:

* ``unstable``: a side is contended or has outliers, a slow tail or a wide
  spread: "no winner: unstable (contended); <remedy>".  It comes first:
  contention shows even in a single run, and its remedy is not more repeats;
* ``too few``: a side has fewer than ``stats.MIN_RUNS`` runs:
  "too few runs to tell (n=2); rerun with --repeat 3 or more";
* ``faster`` / ``slower``: the rule tells them apart: the ratio of the means
  and the confidence ("1.52× faster, 99.9 % confidence (Welch t-test, …)");
* ``tie``: the rule finds no difference with enough runs: "tied within the
  noise (Welch t-test, p = 0.41)";
* ``not measured``: a side has no figure.

Peak memory is judged by ``stats.differ_memory`` and has no unstable side
(it does not depend on the neighbours); its words say "less"/"more".
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from qtui.analysis import stats
from qtui.core import units

FASTER, SLOWER, TIE, UNSTABLE, TOO_FEW, NOT_MEASURED = (
    "faster", "slower", "tie", "unstable", "too few", "not measured")
#: The remedy for too few runs.
MORE_RUNS = f"rerun with --repeat {stats.MIN_RUNS} or more (or --repeat auto)"


@dataclass(frozen=True)
class Conclusion:
    """Is ``a`` lower than ``b``?  ``word`` is one of the module's words.

    ``ratio`` is mean(b) / mean(a) (above 1 when a is lower); ``confidence`` is
    1 − p for Welch's test, 0.95 for the prediction interval, None otherwise;
    ``problems`` are the stability sentences that made it ``unstable``, each
    with the name of its side.
    """

    word: str
    ratio: float | None
    confidence: float | None
    method: str
    n: int
    problems: tuple[tuple[str, str], ...] = ()


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def judge(
    a: Sequence[float],
    b: Sequence[float],
    problems_a: Sequence[str] = (),
    problems_b: Sequence[str] = (),
    *,
    memory: bool = False,
    names: tuple[str, str] = ("", ""),
) -> Conclusion:
    """The conclusion on samples ``a`` and ``b`` (``faster``: a is lower); ``names``
    name the sides in the unstable words."""
    v = stats.differ_memory(a, b) if memory else stats.differ(a, b)
    ma, mb = _mean(list(a)), _mean(list(b))
    ratio = mb / ma if ma and mb is not None else None
    if not v.measured:
        return Conclusion(NOT_MEASURED, ratio, None, v.method, v.n)
    problems = tuple((names[0], p) for p in problems_a) + tuple((names[1], p) for p in problems_b)
    if problems and not memory:
        return Conclusion(UNSTABLE, ratio, None, v.method, v.n, problems)
    if v.too_few:
        return Conclusion(TOO_FEW, ratio, None, v.method, v.n)
    if v.p_value is not None:
        confidence: float | None = 1 - v.p_value
    else:
        confidence = stats.CONFIDENCE if v.confident and v.direction else None
    word = {1: FASTER, -1: SLOWER, 0: TIE}[v.direction]
    return Conclusion(word, ratio, confidence, v.method, v.n)


def _tag(problem: str) -> str:
    """``contended`` / ``outliers`` / ``slow tail`` / ``spread`` from a stability sentence."""
    if problem.startswith("contended"):
        return "contended"
    if "outlier" in problem:
        return "outliers"
    if problem.startswith("the slowest"):
        return "slow tail"
    if problem.startswith("σ"):
        return "spread"
    return problem.split(":", 1)[0].split(";", 1)[0].strip()


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def unstable_text(problems: Sequence[tuple[str, str]]) -> str:
    """``no winner: unstable (B contended / spread); <remedies>``."""
    sides: dict[str, list[str]] = {}
    for name, p in problems:
        sides.setdefault(name, []).append(_tag(p))
    tags = ", ".join(
        (f"{name} " if name else "") + " / ".join(_unique(t)) for name, t in sides.items())
    remedies = "; ".join(_unique([p.rsplit("; ", 1)[-1] for _, p in problems if "; " in p]))
    return f"no winner: unstable ({tags})" + (f"; {remedies}" if remedies else "")


def confidence_text(c: Conclusion) -> str:
    """``99.9 % confidence (Welch t-test, p = 0.001)``, or why there is none."""
    if c.confidence is None:
        return f"confidence unknown ({c.method})"
    level = "> 99.9 %" if c.confidence > 0.999 else units.percent(c.confidence)
    return f"{level} confidence ({c.method})"


def text(c: Conclusion, *, lower: str = FASTER, higher: str = SLOWER, than: str = "") -> str:
    """The words for a conclusion: the only wording the views use.

    ``lower``/``higher`` name the direction ("faster"/"slower", "cheaper"/…),
    ``than`` what it is compared with ("than Y (3.2 s, n=3)"); the ratio is
    written as a factor above 1.
    """
    if c.word == UNSTABLE:
        return unstable_text(c.problems)
    if c.word == TOO_FEW:
        return f"{stats.too_few_text(c.n)}; {MORE_RUNS}"
    if c.word == TIE:
        return f"tied within the noise ({c.method})"
    if c.word == NOT_MEASURED:
        return NOT_MEASURED
    factor = c.ratio if c.word == FASTER else (1 / c.ratio if c.ratio else None)
    by = f"{units.times(factor)} " if factor else ""
    than = f" {than}" if than else ""
    return f"{by}{lower if c.word == FASTER else higher}{than}, {confidence_text(c)}"
