"""The one statistical rule: checked against scipy, and shared by every verdict."""

from __future__ import annotations

import pytest
from result_helpers import entry
from scipy import stats as sp

from qtui.analysis import conclusion, stability, stats
from qtui.analysis.comparison import compare, row_texts
from qtui.analysis.crossovers import analyse, crossovers, series
from qtui.analysis.recommend import recommend
from qtui.core.summary_schema import Summary


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
    assert stats.differ([1.0, 1.2, 1.1], [1.05, 1.15, 1.1]).direction == 0
    # fewer than 3 runs on a side: too few to tell, whatever the gap (single runs too)
    for a, b in (([1.0, 1.2], [1.05, 1.15, 1.1]), ([1.0], [10.0]), ([1.0, 1.01], [5.0, 5.01])):
        v = stats.differ(a, b)
        assert v.too_few and v.direction == 0 and not v.confident
        assert v.method == f"too few runs to tell (n={min(len(a), len(b))})"
    # below 3 runs when asked (peak memory): the threshold, then the prediction interval
    v = stats.differ([1.0], [1.05], min_runs=1)
    assert v.direction == 0 and v.method == "single runs, 10% threshold" and not v.confident
    assert stats.differ([1.0], [0.8], min_runs=1).direction == -1
    assert stats.differ([1.0, 1.01, 0.99], [1.5], min_runs=1).direction == 1
    assert stats.differ([1.0, 1.3, 0.7], [1.2], min_runs=1).direction == 0
    # memory floor, single runs allowed
    mib = 2**20
    assert stats.differ_memory([400 * mib], [402 * mib]).direction == 0
    assert stats.differ_memory([400 * mib], [500 * mib]).direction == 1
    # nothing on one side
    assert not stats.differ([], [1.0]).measured
    # NaN and junk are ignored, not fatal
    junk = [1.0, float("nan"), "x", 1.0, 1.0]
    assert stats.differ(junk, [1.0, 1.0, 1.0]).method == "identical"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The disagreement: 2σ called these apart, Welch does not.
        ([2.00, 2.10, 1.90], [2.10, 2.20, 2.00]),
        ([2.0, 2.1, 1.9], [3.0, 3.1, 2.9]),  # clearly different
        ([2.0, 2.6, 1.5], [2.1, 1.8, 2.5]),  # wide spread: unstable
        ([1.0], [1.05]),  # single runs: too few
        ([1.0], [1.5]),  # however far apart
    ],
)
def test_compare_recommendation_and_crossovers_agree(a: list[float], b: list[float]) -> None:
    """The same two samples, fed to all three: their words are the conclusion's."""
    truth = conclusion.judge(b, a, stability.problems(entry("x+m", b)),
                             stability.problems(entry("x+m", a)))
    # compare: A -> B (is B faster than A?)
    row = compare(
        Summary(results=[entry("x+m", a)]), Summary(results=[entry("x+m", b)])
    ).combinations[0]
    assert row.speed == truth.word
    assert row.speed_method == truth.method
    # the sweep: b's line against a's at two points
    results = [entry("b+m", b, qubits=2), entry("a+m", a, qubits=2), entry("b+m", b, qubits=4), entry("a+m", a, qubits=4)]
    verdicts = analyse(results)["qubits"].verdicts
    assert {v.verdict for v in verdicts} == {truth.word}
    text = crossovers(series(results, "qubits"), "qubits")[0]
    # the recommendation: the lower against the higher
    rec = recommend([entry("a+m", a), entry("b+m", b)])
    assert rec.fastest is not None
    if truth.word == "unstable":
        assert "unstable at 2, 4 qubits" in text
        assert row.reliable is False and "no winner: unstable" in row_texts(row)["speed"]
        assert rec.fastest.verdict == "unstable" and rec.fastest.winner == ""
    elif truth.word == "too few":
        assert "too few runs to tell (n=1)" in text and rec.fastest.verdict == "too few"
    elif truth.word == "tie":
        assert text.startswith("b+m and a+m are within the noise of each other")
        assert rec.fastest.verdict == "tie" and rec.fastest.tied_with
    else:
        assert text.startswith(f"b+m is {truth.word} than a+m at every qubit count measured")
        assert rec.fastest.verdict == "faster"
