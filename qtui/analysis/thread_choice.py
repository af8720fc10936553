"""How many threads each combination should get: the answer to a sweep over ``--threads``.

For every combination (at fixed values of the other swept parameters, the
lines ``qtui.analysis.crossovers`` draws) this names the thread count with
the best time per step and the one with the fewest core-seconds per step:
the forum's "how many cores does each burn", answered with "and how many
should it get".  Each pick is compared with the runner-up by the one
conclusion every verdict uses (``qtui.analysis.conclusion`` over
``stats.differ`` and the stability checks), in its words: better with the
ratio and confidence, tied within the noise, too few runs to tell (n=2), or
no winner: unstable.

Rendered next to the recommendation in every view, from
``Summary.thread_choice``.
"""

from __future__ import annotations

from collections.abc import Callable

from qtui.analysis import conclusion, stability
from qtui.analysis.crossovers import swept_axes
from qtui.core import units
from qtui.core.parameters import label, varying_parameters
from qtui.core.summary_schema import Result, ThreadChoice


def _threads(r: Result) -> int | None:
    n = r.parameters.get("threads")
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def _per_step_times(r: Result) -> list[float]:
    steps = r.steps or 1
    return [float(t) / steps for t in r.times if t is not None]


def _per_step_core_s(r: Result) -> list[float]:
    steps = r.steps or 1
    return [float(c) / steps for c in r.resources.core_s_values if c is not None]


def _counted(n: int) -> str:
    return f"{n} thread{'s' if n != 1 else ''}"


def _against(best: Result, runner: Result | None, values: Callable[[Result], list[float]]) -> str:
    """The pick against the runner-up, in the words of every verdict (``conclusion``)."""
    if runner is None:
        return "the only count measured"
    other = _counted(_threads(runner) or 0)
    c = conclusion.judge(
        values(best), values(runner), stability.problems(best), stability.problems(runner),
        names=(_counted(_threads(best) or 0), other),
    )
    return conclusion.text(c, lower="better", higher="worse", than=f"than {other}")


def _pick(
    results: list[Result], value: Callable[[Result], float | None],
    values: Callable[[Result], list[float]],
) -> tuple[Result | None, str]:
    ranked = sorted((r for r in results if value(r) is not None), key=lambda r: float(value(r) or 0.0))
    if not ranked:
        return None, ""
    return ranked[0], _against(ranked[0], ranked[1] if len(ranked) > 1 else None, values)


def choose(results: list[Result]) -> list[ThreadChoice]:
    """One choice per combination when the results sweep ``threads``; [] otherwise."""
    if "threads" not in swept_axes(results):
        return []
    varying = varying_parameters(results, exclude=("threads",))
    lines: dict[str, list[Result]] = {}
    for r in results:
        if _threads(r) is not None and r.time_per_step is not None:
            lines.setdefault(label(r, varying), []).append(r)
    out = []
    for name, rs in lines.items():
        if len({_threads(r) for r in rs}) < 2:
            continue
        fast, fast_note = _pick(rs, lambda r: r.time_per_step, _per_step_times)
        cheap, cheap_note = _pick(rs, lambda r: r.resources.core_s_per_step, _per_step_core_s)
        choice = ThreadChoice(
            combo=name,
            fastest=_threads(fast) if fast else None,
            time_per_step=fast.time_per_step if fast else None,
            fastest_note=fast_note,
            cheapest=_threads(cheap) if cheap else None,
            core_s_per_step=cheap.resources.core_s_per_step if cheap else None,
            cheapest_note=cheap_note,
        )
        choice.sentence = sentence(choice)
        out.append(choice)
    return out


def sentence(c: ThreadChoice) -> str:
    """``lightning.qubit+adjoint: best time with 1 thread (…); fewest core-seconds with …``."""
    parts = []
    if c.fastest is not None:
        parts.append(f"best time with {_counted(c.fastest)} ({units.seconds(c.time_per_step)}"
                     f" per step; {c.fastest_note})")
    if c.cheapest is not None:
        parts.append(f"fewest core-seconds with {_counted(c.cheapest)}"
                     f" ({units.core_seconds(c.core_s_per_step)} core-s per step; {c.cheapest_note})")
    return f"{c.combo}: " + "; ".join(parts)
