"""The recommendation names winners and treats differences within the noise as ties."""

from __future__ import annotations

import statistics

from qtui.analysis.recommend import describe, recommend
from qtui.core.summary_schema import Recommendation, Resources, Result


def entry(cmd: str, times: list[float], core: list[float], rss: int) -> Result:
    return Result(
        combo=cmd,
        mean=statistics.fmean(times),
        stddev=statistics.stdev(times) if len(times) > 1 else None,
        times=list(times),
        resources=Resources(
            core_s=statistics.fmean(core),
            core_s_stddev=statistics.stdev(core) if len(core) > 1 else None,
            core_s_values=list(core),
            peak_rss_bytes=rss,
        ),
    )


def test_clear_winners_differ_by_criterion() -> None:
    results = [
        entry("default.qubit+backprop", [2.0, 2.1, 1.9], [2.0, 2.1, 1.9], 400 * 2**20),
        entry("lightning.qubit+adjoint", [3.0, 3.1, 2.9], [30.0, 31.0, 29.0], 300 * 2**20),
    ]
    rec = recommend(results)
    assert rec.fastest.winner == "default.qubit+backprop"
    assert rec.fastest.tied_with == []
    assert rec.fastest.margin is not None and rec.fastest.margin > 1.4
    assert rec.cheapest.winner == "default.qubit+backprop"
    assert rec.leanest.winner == "lightning.qubit+adjoint"
    lines = describe(rec)
    assert len(lines) == 3 and "± " in lines[0] and "over 3 runs" in lines[0]


def test_overlapping_repeats_are_a_tie() -> None:
    results = [
        entry("a+backprop", [2.0, 2.6, 1.5], [2.0, 2.0, 2.0], 100 * 2**20),
        entry("b+adjoint", [2.1, 1.8, 2.5], [2.0, 2.0, 2.0], 101 * 2**20),
    ]
    rec = recommend(results)
    assert rec.fastest.tied_with, rec.fastest
    assert "tied within the noise" in rec.fastest.evidence
    assert rec.leanest.winner == "a+backprop"
    assert rec.leanest.tied_with == ["b+adjoint"]


def test_single_runs_use_the_noise_floor_and_say_so() -> None:
    results = [
        entry("a+backprop", [1.00], [1.0], 100 * 2**20),
        entry("b+adjoint", [1.03], [1.5], 200 * 2**20),
    ]
    rec = recommend(results)
    assert rec.fastest.tied_with == ["b+adjoint"]
    assert "uncertainty unknown" in rec.fastest.evidence
    assert rec.cheapest.tied_with == []


def test_nothing_measured_gives_no_pick() -> None:
    assert recommend([]) == Recommendation()


def test_sweeps_are_judged_within_each_point() -> None:
    results = [
        entry("a+backprop", [1.0], [1.0], 100 * 2**20),
        entry("b+adjoint", [2.0], [2.0], 100 * 2**20),
        entry("a+backprop", [9.0], [9.0], 100 * 2**20),
        entry("b+adjoint", [3.0], [3.0], 100 * 2**20),
    ]
    for r, q in zip(results, (2, 2, 8, 8), strict=True):
        r.parameters = {"device": r.combo.split("+")[0], "qubits": q}
    rec = recommend(results)
    assert rec.fastest is None
    winners = {g.parameters["qubits"]: g.fastest.winner for g in rec.groups if g.fastest}
    assert winners == {2: "a+backprop", 8: "b+adjoint"}
    assert any(line.startswith("At qubits=8: Fastest: b+adjoint") for line in describe(rec))
