"""The one statistical rule: checked against scipy, and shared by every verdict."""

from __future__ import annotations

import statistics

import pytest
from scipy import stats as sp

from qtui.analysis import stability, stats
from qtui.analysis.comparison import compare, row_texts
from qtui.analysis.crossovers import crossovers, series
from qtui.analysis.recommend import recommend
from qtui.core.summary_schema import Result, Summary


def test_student_t_matches_scipy() -> None:
    for df in (1, 2, 3, 4.7755, 10, 50):
        for t in (0.1, 1.0, 2.5, 7.0):
            assert stats.t_two_sided_p(t, df) == pytest.approx(2 * sp.t.sf(t, df), rel=1e-6)
        assert stats.t_quantile(0.975, df) == pytest.approx(sp.t.ppf(0.975, df), rel=1e-6)


def test_welch_matches_scipy() -> None:
    a, b = [1.0, 1.1, 0.95, 1.05], [1.2, 1.25, 1.18]
    t, _, p = stats.welch(a, b)
    ref = sp.ttest_ind(b, a, equal_var=False)
    assert t == pytest.approx(ref.statistic, rel=1e-9)
    assert p == pytest.approx(ref.pvalue, rel=1e-6)


def test_the_rule() -> None:
    # repeats on both sides: Welch
    v = stats.differ([1.0, 1.1, 0.95, 1.05], [1.2, 1.25, 1.18])
    assert v.direction == 1 and v.p_value is not None and v.p_value < 0.05 and v.confident
    assert stats.differ([1.0, 1.2], [1.05, 1.15]).direction == 0
    # single runs: the threshold decides, and says it is not a test
    v = stats.differ([1.0], [1.05])
    assert v.direction == 0 and v.method == "single runs, 10% threshold" and not v.confident
    assert stats.differ([1.0], [0.8]).direction == -1
    # one side repeated: prediction interval
    assert stats.differ([1.0, 1.01, 0.99], [1.5]).direction == 1
    assert stats.differ([1.0, 1.3, 0.7], [1.2]).direction == 0
    # memory floor
    mib = 2**20
    assert stats.differ_memory([400 * mib], [402 * mib]).direction == 0
    assert stats.differ_memory([400 * mib], [500 * mib]).direction == 1
    # nothing on one side
    assert not stats.differ([], [1.0]).measured
    # NaN and junk are ignored, not fatal
    assert stats.differ([1.0, float("nan"), "x"], [1.0]).method == "identical"  # type: ignore[list-item]


def _result(cmd: str, times: list[float], qubits: int | None = None) -> Result:
    device, method = cmd.split("+")
    params: dict[str, object] = {"device": device, "diff_method": method}
    if qubits is not None:
        params.update(qubits=qubits, steps=1)
    return Result(
        combo=cmd,
        label=cmd,
        parameters=params,
        mean=statistics.fmean(times),
        stddev=statistics.stdev(times) if len(times) > 1 else None,
        times=list(times),
        steps=1,
        time_per_step=statistics.fmean(times),
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The disagreement: 2σ called these apart, Welch does not.
        ([2.00, 2.30, 1.70], [2.60, 2.90, 2.40]),
        ([2.0, 2.1, 1.9], [3.0, 3.1, 2.9]),  # clearly different
        ([2.0, 2.6, 1.5], [2.1, 1.8, 2.5]),  # clearly the same
        ([1.0], [1.05]),  # single runs within the threshold
        ([1.0], [1.5]),  # single runs beyond it
    ],
)
def test_compare_recommendation_and_crossovers_agree(a: list[float], b: list[float]) -> None:
    """The same two samples, fed to all three: their words match stats.differ."""
    truth = stats.differ(a, b)
    # compare: A -> B
    row = compare(
        Summary(results=[_result("x+m", a)]), Summary(results=[_result("x+m", b)])
    ).combinations[0]
    assert row.speed == {1: "slower", -1: "faster", 0: "no significant change"}[truth.direction]
    assert row.speed_method == truth.method
    # recommendation: a tie exactly when the rule sees no difference
    rec = recommend([_result("a+m", a), _result("b+m", b)])
    assert rec.fastest is not None
    tied = bool(rec.fastest.tied_with)
    assert tied == (not truth.differs)
    # crossovers: two sweep points where both lines have these samples
    results = [_result("a+m", a, 2), _result("b+m", b, 2), _result("a+m", a, 4), _result("b+m", b, 4)]
    text = crossovers(series(results, "qubits"), "qubits")[0]
    if stability.unstable(_result("a+m", a)) or stability.unstable(_result("b+m", b)):
        # noisy repeats: every view says the answer cannot be trusted yet
        assert "unstable at 2, 4 qubits" in text
        assert row.reliable is False and "unreliable" in row_texts(row)["speed"]
        assert "Unreliable:" in rec.fastest.evidence
    elif truth.differs:
        word = "faster" if truth.direction > 0 else "slower"
        assert text.startswith(f"a+m is {word} than b+m at every qubit count measured")
    else:
        assert text.startswith("a+m and b+m are within the noise of each other")
