"""Sweep expansion and crossover wording."""

from __future__ import annotations

import statistics

import pytest

from qtui.analysis.crossovers import analyse, crossovers, series
from qtui.core.config import ConfigError, WorkloadParams
from qtui.core.summary_schema import Resources, Result
from qtui.core.sweep import expand, parse_axis


def point(cmd: str, qubits: int, tps: float, steps: int = 10) -> Result:
    device, method = cmd.split("+")
    return Result(
        combo=cmd,
        parameters={"device": device, "diff_method": method, "qubits": qubits, "steps": steps},
        mean=tps * steps,
        stddev=None,
        times=[tps * steps],
        steps=steps,
        time_per_step=tps,
        resources=Resources(core_s_per_step=tps, peak_rss_bytes=1, cores_in_use=1.0),
    )


def test_parse_axis_checks_values() -> None:
    assert parse_axis("qubits", "8, 2,4") == [2, 4, 8]
    with pytest.raises(ConfigError, match="listed twice"):
        parse_axis("qubits", "8, 2,4,4")
    with pytest.raises(ConfigError, match="qubits: must be at least 1"):
        parse_axis("qubits", "0,2")
    with pytest.raises(ConfigError, match="threads: must be a whole number"):
        parse_axis("threads", "1,x")


def test_expand_is_the_cross_product() -> None:
    specs = expand(
        ["default.qubit"], ["backprop", "adjoint"], {"qubits": [2, 4]}, WorkloadParams(steps=5), repeat=2
    )
    assert len(specs) == 8
    assert {s.params.qubits for s in specs} == {2, 4}
    assert all(s.params.steps == 5 for s in specs)


def repeated(cmd: str, qubits: int, per_step: list[float], steps: int = 10) -> Result:
    """A sweep point measured ``len(per_step)`` times."""
    entry = point(cmd, qubits, statistics.fmean(per_step), steps)
    times = [t * steps for t in per_step]
    entry.times = list(times)
    entry.stddev = statistics.stdev(times)
    return entry


def three(cmd: str, qubits: int, tps: float) -> Result:
    """A point measured three times, within ±1 % of ``tps``."""
    return repeated(cmd, qubits, [tps, tps * 1.01, tps * 0.99])


def test_crossover_is_named_in_words() -> None:
    results = [
        three("default.qubit+backprop", 2, 0.005),
        three("default.qubit+backprop", 8, 0.020),
        three("default.qubit+backprop", 12, 0.090),
        three("lightning.qubit+adjoint", 2, 0.010),
        three("lightning.qubit+adjoint", 8, 0.025),
        three("lightning.qubit+adjoint", 12, 0.050),
    ]
    lines = series(results, "qubits")
    assert [p.x for p in lines["default.qubit+backprop"]] == [2, 8, 12]
    text = crossovers(lines, "qubits")
    assert text == [
        "default.qubit+backprop is faster than lightning.qubit+adjoint up to 8 qubits; "
        "from 12 qubits it is slower."
    ]
    assert analyse(results)["qubits"].crossovers == text


def test_no_crossover_and_ties() -> None:
    results = [
        three("a+backprop", 2, 0.010),
        three("a+backprop", 4, 0.020),
        three("b+adjoint", 2, 0.0101),
        three("b+adjoint", 4, 0.0201),
        three("c+adjoint", 2, 0.050),
        three("c+adjoint", 4, 0.060),
    ]
    text = crossovers(series(results, "qubits"), "qubits")
    assert "a+backprop and b+adjoint are within the noise of each other at every qubit count measured." in text
    assert "a+backprop is faster than c+adjoint at every qubit count measured (2–4)." in text


def test_single_runs_are_too_few_to_tell_even_far_apart() -> None:
    """Fewer than 3 runs a side: no crossover is claimed, and the words say why."""
    results = [
        point("a+backprop", 2, 0.005),
        point("a+backprop", 8, 0.020),
        point("b+adjoint", 2, 0.050),
        three("b+adjoint", 8, 0.025),
    ]
    judged = analyse(results)["qubits"].verdicts
    assert [(v.point, v.verdict, v.confidence) for v in judged] == [
        (2, "too few", None), (8, "too few", None)]
    assert analyse(results)["qubits"].crossovers == [
        "a+backprop and b+adjoint cannot be told apart; too few runs to tell (n=1) at every"
        " qubit count measured: rerun with --repeat 3 or more (or --repeat auto)."
    ]


def test_a_point_within_the_noise_is_named_not_folded_into_every() -> None:
    """The issue's case: repeats call 2 qubits a tie; the sentence must not say "every"."""
    results = [
        repeated("a+backprop", 2, [0.0100, 0.0104, 0.0098]),
        repeated("b+adjoint", 2, [0.0101, 0.0099, 0.0103]),
        repeated("a+backprop", 6, [0.020, 0.021, 0.0205]),
        repeated("b+adjoint", 6, [0.040, 0.041, 0.0405]),
        repeated("a+backprop", 10, [0.050, 0.051, 0.0505]),
        repeated("b+adjoint", 10, [0.090, 0.091, 0.0905]),
    ]
    text = crossovers(series(results, "qubits"), "qubits")
    assert text == [
        "a+backprop is faster than b+adjoint at 6, 10 qubits; within the noise at 2 qubits."
    ]


def test_an_unstable_point_is_called_unstable_not_a_winner() -> None:
    """Noisy repeats (a slow outlier) make the point unstable in the verdicts and words."""
    results = [
        repeated("a+backprop", 2, [0.010, 0.0101, 0.0099, 0.0100, 0.060]),
        repeated("b+adjoint", 2, [0.020, 0.0201, 0.0199, 0.0200, 0.0202]),
        repeated("a+backprop", 4, [0.020, 0.0201, 0.0199]),
        repeated("b+adjoint", 4, [0.040, 0.0401, 0.0399]),
    ]
    judged = analyse(results)["qubits"].verdicts
    assert [(v.point, v.verdict) for v in judged] == [(2, "unstable"), (4, "faster")]
    assert judged[1].ratio == pytest.approx(0.5) and (judged[1].confidence or 0) > 0.95
    text = analyse(results)["qubits"].crossovers
    assert text == [
        "a+backprop is faster than b+adjoint at 4 qubits; unstable at 2 qubits (contended or"
        " noisy repeats: see the unstable results)."
    ]
