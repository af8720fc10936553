"""A sweep's cost models and what they predict, for the summary (issue 25).

Along the ``qubits`` axis each combination gets a model of its time per step,
core-seconds per step and peak memory (``qtui.analysis.cost_model``); the
summary keeps them (``sweep.qubits.models``).  Asked for sizes (``qtui sweep
--predict 16,18,20``), it predicts each figure with its 90 % interval
(``sweep.qubits.predictions``), where two combinations are predicted to swap
places, and which one is predicted fastest at each size; every one of these
is *predicted*, and says so in every view (``sweep.qubits.predicted``).

A predicted pick follows the measured verdicts' confidence: one combination
is predicted faster than the next when at least 95 % of the paired bootstrap
refits put it below; otherwise the sentence says they overlap.

Peak memory is never predicted below the fitted base plus one state (16 · 2ⁿ
bytes): the simulator holds at least that, even where a fit on small sizes,
whose memory term the base hides, would say less.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from qtui.analysis import cost_model
from qtui.analysis.cost_model import AMPLITUDE_BYTES, Circuit, Model
from qtui.core import units
from qtui.core.config import DEFAULT_WORKLOAD
from qtui.core.summary_schema import FigureModel, Prediction, Summary, SweepPoint

AXIS = "qubits"
#: The share of paired refits that makes a predicted pick (as the 95 % of the verdicts).
CONFIDENT = 0.95
FIGURES = ("time_per_step", "core_s_per_step", "peak_rss")


def _figure(points: list[SweepPoint], figure: str) -> tuple[list[float], list[float], list[list[float]]]:
    """The sizes, each one's value and its repeats.  A time with repeats is their median:
    a repeat slowed by another process's load does not move it."""
    xs, ys, reps = [], [], []
    for pt in points:
        value = getattr(pt, figure)
        if isinstance(pt.x, int) and value:
            repeats = [float(v) for v in pt.values if v] if figure == "time_per_step" else []
            xs.append(float(pt.x))
            ys.append(statistics.median(repeats) if repeats else float(value))
            reps.append(repeats)
    return xs, ys, reps


def models(lines: dict[str, list[SweepPoint]]) -> dict[str, dict[str, Model]]:
    """Per line, per figure, its model (a ``Model`` with ``reason`` when it has none)."""
    return {
        label: {f: cost_model.build(f, *_figure(points, f),
                                    circuit=circuit(points) if f == "peak_rss" else None)
                for f in FIGURES}
        for label, points in lines.items()
    }


def circuit(points: Sequence[SweepPoint]) -> Circuit:
    """What a line's points say of its circuit (``circuit_of``), when they agree."""
    methods = {pt.diff_method for pt in points}
    batches = {pt.batch_size for pt in points}
    layers = {pt.layers for pt in points}
    workloads = {pt.workload for pt in points}
    return circuit_of(
        methods.pop() if len(methods) == 1 else "",
        batches.pop() if len(batches) == 1 else None,
        layers.pop() if len(layers) == 1 else None,
        workloads.pop() if len(workloads) == 1 else "",
    )


def circuit_of(diff_method: str, batch_size: int | None, layers: int | None, workload: str) -> Circuit:
    """The diff method, and the batch and layers where the workload is the built-in one,
    whose circuit the memory band knows (``cost_model.Circuit``)."""
    if workload != DEFAULT_WORKLOAD or batch_size is None or layers is None:
        return Circuit(diff_method)
    return Circuit(diff_method, batch_size, layers)


def records(fitted: dict[str, dict[str, Model]]) -> dict[str, list[FigureModel]]:
    """The models as the summary keeps them."""
    out: dict[str, list[FigureModel]] = {}
    for label, by_figure in fitted.items():
        rows = []
        for figure, m in by_figure.items():
            f = m.fit
            rows.append(FigureModel(
                figure=figure, overhead=f.a if f else None, work=f.b if f else None,
                growth=f.growth if f else None, noise=m.noise, noise_from=m.noise_from,
                fitted_from=int(m.fitted[0]) if m.sizes else None,
                fitted_to=int(m.fitted[1]) if m.sizes else None, sizes=m.sizes, reason=m.reason,
            ))
        out[label] = rows
    return out


def predict(lines: dict[str, list[SweepPoint]], targets: Sequence[int]) -> tuple[list[Prediction], list[str]]:
    """Each line's figures at ``targets`` with intervals, and the predicted crossovers
    and picks in words (empty without a model)."""
    fitted = models(lines)
    out: list[Prediction] = []
    for label, by_figure in fitted.items():
        t, c, m = by_figure["time_per_step"], by_figure["core_s_per_step"], by_figure["peak_rss"]
        if t.fit is None:
            continue
        for n in targets:
            tv = t.predict(n)
            cv = c.predict(n)
            mv = memory_at(m, n)
            out.append(Prediction(
                combo=label, x=n,
                time_per_step=tv[0] if tv else None, time_low=tv[1] if tv else None,
                time_high=tv[2] if tv else None,
                core_s_per_step=cv[0] if cv else None, core_s_low=cv[1] if cv else None,
                core_s_high=cv[2] if cv else None,
                peak_rss=mv[0] if mv else None, rss_low=mv[1] if mv else None,
                rss_high=mv[2] if mv else None,
                beyond=not (t.fitted[0] <= n <= t.fitted[1]),
            ))
    words = _crossings(fitted, targets) + _picks(fitted, targets)
    return out, words


def memory_at(m: Model, n: int) -> tuple[float, float, float] | None:
    """(value, low, high) of the peak memory at ``n``: within the measured sizes the
    fit and its noise; beyond them the states the method keeps, scaled from the largest
    size (``cost_model.memory_band``); never below the base plus one state."""
    if m.fit is None:
        return None
    got = cost_model.memory_band(m, n) or m.predict(n)
    if got is None:
        return None
    floor = m.fit.a + AMPLITUDE_BYTES * 2.0**n
    return max(got[0], floor), max(got[1], floor), max(got[2], floor)


def _crossings(fitted: dict[str, dict[str, Model]], targets: Sequence[int]) -> list[str]:
    times = {label: f["time_per_step"] for label, f in fitted.items() if f["time_per_step"].fit}
    labels = list(times)
    out = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            lo = min(times[a].fitted[0], times[b].fitted[0])
            hi = max([times[a].fitted[1], times[b].fitted[1], *targets])
            for first, second in ((a, b), (b, a)):
                got = cost_model.crossing(times[first], times[second], lo, hi)
                if got is None:
                    continue
                at, low, high = got
                span = (f"between {low:.0f} and {high:.0f} qubits (90 % interval)"
                        if high > low else f"at about {at:.0f} qubits (no interval)")
                out.append(f"predicted: {first} becomes faster than {second} {span}")
    return out


def _picks(fitted: dict[str, dict[str, Model]], targets: Sequence[int]) -> list[str]:
    times = {label: f["time_per_step"] for label, f in fitted.items() if f["time_per_step"].fit}
    out = []
    for n in targets:
        ranked = sorted(times, key=lambda label: times[label].fit.at(n))  # type: ignore[union-attr]
        if not ranked:
            continue
        best = ranked[0]
        head = f"predicted at {n} qubits: "
        if len(ranked) == 1:
            out.append(f"{head}{best} {_time(times[best], n)}; the only combination modelled")
            continue
        nxt = ranked[1]
        p = cost_model.faster_probability(times[best], times[nxt], n)
        if p is not None and p >= CONFIDENT:
            out.append(f"{head}fastest {best} {_time(times[best], n)}, faster than {nxt} "
                       f"{_time(times[nxt], n)} in {p:.0%} of the refits")
        elif p is None:  # no noise measured to draw refits from: no verdict either
            out.append(f"{head}no predicted winner: {best} {_time(times[best], n)} and {nxt} "
                       f"{_time(times[nxt], n)}, without intervals to tell them apart")
        else:
            out.append(f"{head}no predicted winner: {best} {_time(times[best], n)} and {nxt} "
                       f"{_time(times[nxt], n)} overlap ({best} below in {p:.0%} of the refits)")
    return out


def _time(m: Model, n: int) -> str:
    got = m.predict(n)
    if got is None:
        return ""
    value, low, high = got
    if high > low:
        return f"({units.seconds(value)} per step, {units.seconds(low)}–{units.seconds(high)})"
    return f"({units.seconds(value)} per step, no interval)"


def with_predictions(summary: Summary, targets: Sequence[int] | None) -> Summary:
    """The summary with ``sweep.qubits`` predictions at ``targets`` (unchanged without)."""
    axis = summary.sweep.get(AXIS)
    if not targets or axis is None:
        return summary
    axis.predictions, axis.predicted = predict(axis.series, targets)
    return summary
