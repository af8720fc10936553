"""The recommendation says only what the verdicts say (issue 20, item 3).

The same samples go to the recommendation, ``qtui compare`` and the sweep
verdicts, and all three must reach the same conclusion, in the same words.
The results are built from plain numbers: the data a summary holds.
"""

from __future__ import annotations

import pytest
from result_helpers import entry

from qtui.analysis import conclusion
from qtui.analysis.comparison import compare, row_texts
from qtui.analysis.crossovers import analyse
from qtui.analysis.recommend import describe, described, recommend
from qtui.core.summary_schema import Recommendation, Summary

# (a's times, b's times, a contended runs, the conclusion on a against b); a is the lower.
CASES = {
    "faster": ([2.0, 2.1, 1.9], [3.0, 3.1, 2.9], 0, "faster"),
    "tie": ([2.0, 2.05, 1.95], [2.02, 1.97, 2.06], 0, "tie"),
    # the pair: 3.153 s ± 1.414 s over 2 runs against 18.85 s
    "n=2": ([2.153, 4.153], [18.8, 18.85, 18.9], 0, "too few"),
    "n=1": ([1.0], [10.0], 0, "too few"),  # a single-run gap, however large, is no verdict
    "outlier": ([2.0, 2.01, 1.99, 2.0, 2.02, 9.0], [3.0, 3.1, 2.9], 0, "unstable"),
    "contended": ([2.0, 2.1, 1.9], [3.0, 3.1, 2.9], 1, "unstable"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_recommendation_compare_and_sweep_reach_the_same_conclusion(case: str) -> None:
    a, b, busy, word = CASES[case]
    # the recommendation: a and b side by side
    rec = recommend([entry("a+m", a, contended=busy), entry("b+m", b)])
    assert rec.fastest is not None and rec.fastest.verdict == word
    assert (rec.fastest.winner == "a+m") == (word == "faster")
    # compare: the same combination, b in file A and a in file B (is B faster than A?)
    row = compare(Summary(results=[entry("x+m", b)]),
                  Summary(results=[entry("x+m", a, contended=busy)])).combinations[0]
    assert row.speed == word
    # the sweep: lines a and b at two points
    results = [entry(c, t, qubits=q, contended=k)
               for q in (2, 4) for c, t, k in (("a+m", a, busy), ("b+m", b, 0))]
    verdicts = analyse(results)["qubits"].verdicts
    assert [(v.a, v.verdict) for v in verdicts] == [("a+m", word), ("a+m", word)]
    # the same words, from the one function
    evidence = rec.fastest.evidence
    if word == "too few":
        n = min(len(a), len(b))
        assert f"no winner: too few runs to tell (n={n})" in evidence
        assert row_texts(row)["speed"] in evidence
    elif word == "tie":
        assert row_texts(row)["speed"] in evidence and evidence.startswith("no winner: ")
    elif word == "unstable":
        assert "no winner: unstable (" in evidence and "no winner: unstable (" in row.speed_text
        assert rec.fastest.winner == "" and not row.reliable
    else:
        assert "1.50× faster than b+m" in evidence and "confidence (Welch t-test" in evidence
        assert row_texts(row)["speed"].startswith("1.50× faster, ")
    # the sweep's sentence names the same conclusion
    sentence = analyse(results)["qubits"].crossovers[0]
    expected = {"faster": "a+m is faster than b+m at every qubit count measured",
                "tie": "within the noise of each other at every qubit count measured",
                "too few": "too few runs to tell (n=", "unstable": "unstable at 2, 4 qubits"}
    assert expected[word] in sentence


def test_unstable_names_the_reason_and_the_remedy() -> None:
    a, b, busy, _ = CASES["contended"]
    rec = recommend([entry("a+m", a, contended=busy), entry("b+m", b)])
    assert rec.fastest is not None
    assert "no winner: unstable (a+m contended); rerun on a quiet node" in rec.fastest.evidence
    assert rec.fastest.contended == ["a+m"]
    a, b, _, _ = CASES["outlier"]
    rec = recommend([entry("a+m", a), entry("b+m", b)])
    assert rec.fastest is not None
    assert "no winner: unstable (a+m outliers / spread); rerun with --repeat auto" in (
        rec.fastest.evidence)


def test_a_runner_up_on_a_tie_with_the_next_is_not_named() -> None:
    # the 0.09 % gap: 5.962 against 5.967 core-s
    results = [
        entry("a+m", [2.0, 2.01, 1.99], core=[3.0, 3.01, 2.99]),
        entry("b+m", [5.96, 5.97, 5.956], core=[5.962, 5.95, 5.974]),
        entry("c+m", [5.97, 5.96, 5.971], core=[5.967, 5.98, 5.954]),
    ]
    rec = recommend(results)
    for pick in (rec.fastest, rec.cheapest):
        assert pick is not None and pick.winner == "a+m" and pick.runner_up is None
        assert "; no runner-up: b+m against c+m: tied within the noise" in pick.evidence
    # told apart from the one after it, the runner-up is named
    results[2] = entry("c+m", [9.0, 9.1, 8.9])
    rec = recommend(results)
    assert rec.fastest is not None and rec.fastest.runner_up == "b+m"
    assert "; runner-up b+m, 1.51× faster than c+m" in rec.fastest.evidence


def test_memory_counts_single_runs_with_its_floor() -> None:
    rec = recommend([entry("a+m", [1.0], rss=400 * 2**20), entry("b+m", [1.1], rss=300 * 2**20)])
    assert rec.leanest is not None and rec.leanest.winner == "b+m"
    assert "1.33× leaner than a+m" in rec.leanest.evidence
    assert rec.fastest is not None and rec.fastest.verdict == "too few"
    rec = recommend([entry("a+m", [1.0], rss=400 * 2**20), entry("b+m", [1.1], rss=402 * 2**20)])
    assert rec.leanest is not None and rec.leanest.verdict == "tie"


def test_the_ties_are_marked_by_the_verdict_not_by_words() -> None:
    a, b, _, _ = CASES["tie"]
    lines = described(recommend([entry("a+m", a), entry("b+m", b)]))
    assert [v for _, v in lines] == ["tie", "tie", "tie"]
    assert [line for line, _ in lines] == describe(recommend([entry("a+m", a), entry("b+m", b)]))


def test_a_single_combination_is_the_only_one_measured() -> None:
    rec = recommend([entry("a+m", [1.0])])
    assert rec.fastest is not None and rec.fastest.winner == "a+m"
    assert rec.fastest.evidence == "a+m (1.000 s, n=1); the only combination measured."


def test_nothing_measured_gives_no_pick() -> None:
    assert recommend([]) == Recommendation()


def test_sweeps_are_judged_within_each_point() -> None:
    results = [
        entry("a+backprop", [1.0, 1.01, 0.99], qubits=2),
        entry("b+adjoint", [2.0, 2.01, 1.99], qubits=2),
        entry("a+backprop", [9.0, 9.1, 8.9], qubits=8),
        entry("b+adjoint", [3.0, 3.01, 2.99], qubits=8),
    ]
    rec = recommend(results)
    assert rec.fastest is None
    winners = {g.parameters["qubits"]: g.fastest.winner for g in rec.groups if g.fastest}
    assert winners == {2: "a+backprop", 8: "b+adjoint"}
    assert any(line.startswith("At qubits=8: Fastest: b+adjoint") for line in describe(rec))


def test_the_conclusion_words_are_the_only_ones() -> None:
    assert conclusion.judge([1.0, 1.0], [2.0, 2.0, 2.0]).word == "too few"
    assert conclusion.text(conclusion.judge([1.0], [2.0])) == (
        "too few runs to tell (n=1); rerun with --repeat 3 or more (or --repeat auto)")
    assert conclusion.judge([], [1.0]).word == "not measured"
