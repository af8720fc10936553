"""Answers beyond the measured sizes (issue 25): the cost model, its intervals, and a
real sweep's fit and predictions through ``qtui sweep --predict``.

The fit is checked on numbers whose answer is known (a model it must recover),
then on a real sweep of default.qubit+backprop at 10–13 qubits with batches
of 50, where the states backprop keeps are large enough for the memory term
to show: the time grows with the qubits and so does the memory term.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cli_in_process import QtuiCli
from engine_helpers import REPO

from qtui.analysis import cost_model
from qtui.cli.commands.sweep import parse_predict
from qtui.core.config import ConfigError
from qtui.core.summary_schema import SweepPoint


def _truth(n: float) -> float:
    return 0.004 + 2e-6 * 2.1**n


def test_the_fit_recovers_a_known_model_and_extrapolates_it() -> None:
    xs = [2, 4, 6, 8, 10, 12, 14]
    m = cost_model.build("time_per_step", xs, [_truth(x) for x in xs])
    assert m.fit is not None
    assert m.fit.growth == pytest.approx(2.1, rel=1e-3)
    value, low, high = m.predict(18) or (0, 0, 0)
    assert value == pytest.approx(_truth(18), rel=1e-3)
    assert low <= value <= high


def test_intervals_cover_the_truth_at_the_stated_rate_on_noisy_points() -> None:
    """Noise of 10 % on 7 sizes with 3 repeats each: the 90 % interval at 16 qubits
    holds the truth in most of 40 seeded trials (a model that claims 90 % and covers
    half would fail here)."""
    rng = random.Random(7)
    held = 0
    for trial in range(40):
        xs = [2, 4, 6, 8, 10, 12, 14]
        reps = [[_truth(x) * math.exp(rng.gauss(0, 0.10)) for _ in range(3)] for x in xs]
        means = [sum(r) / 3 for r in reps]
        m = cost_model.build("time_per_step", xs, means, reps, seed=trial)
        assert m.noise_from == "repeats"
        _, low, high = m.predict(16, seed=trial) or (0, 0, 0)
        held += low <= _truth(16) <= high
    assert held >= 30, held


_RECORDED = json.loads((Path(__file__).parent / "data" / "prediction_peaks.json").read_text())["sweeps"]


def _recorded_lines(sweep: dict[str, Any]) -> dict[str, list[SweepPoint]]:
    """A recorded sweep's lines as a summary holds them (fields a reader does not know
    are ignored, as the summary's loader does)."""
    lines = {}
    for label, line in sweep["lines"].items():
        circuit = {k: line[k] for k in ("diff_method", "batch_size", "layers", "workload")}
        lines[label] = [
            msgspec.convert({"x": int(n), "peak_rss": peak, "time_per_step": 1.0, **circuit}, SweepPoint)
            for n, peak in line["peak_rss"].items()
        ]
    return lines


@pytest.mark.parametrize("sweep", _RECORDED, ids=[s["name"] for s in _RECORDED])
def test_the_memory_band_holds_the_16_and_18_qubit_peaks_of_every_recorded_sweep(sweep: dict[str, Any]) -> None:
    """Issue 25, Done when: fitted on 2-14 qubits, the memory band contains the peaks
    measured at 16 and 18 for every combination, in every sweep recorded by
    ``python benchmarks/prediction.py --record`` on this machine.  The band of
    2026-12-07 (growth ×2 to ×2(n+1)/n from the largest size) held sweep 1, which it was
    designed on, and 5 of 8 of sweep 2: backprop's peak outgrew n·2ⁿ there."""
    from qtui.analysis.predictions import memory_at, models

    lines = _recorded_lines(sweep)
    fitted = models({label: [p for p in pts if int(p.x or 0) <= 14] for label, pts in lines.items()})
    for label, pts in lines.items():
        peaks = {p.x: p.peak_rss or 0 for p in pts}
        for n in (16, 18):
            got = memory_at(fitted[label]["peak_rss"], n)
            assert got is not None
            value, low, high = got
            assert low <= peaks[n] <= high, (label, n, low, peaks[n], high)
            # a band that says something: the value inside it, the top within 2× the peak
            assert low <= value <= high and high < 2 * peaks[n], (label, n, value, high)


def test_a_time_beyond_the_range_stays_within_what_its_growth_allows() -> None:
    """However noisy the fitted points, the time at n beyond the largest size measured is
    not below that size's (the circuit only grows) nor above it times TIME_GROWTH_MAX per
    qubit, each widened by the noise (90 %): the bootstrap alone drew a factor of 10⁷."""
    rng = random.Random(3)
    xs = [2, 4, 6, 8, 10, 12, 14]
    reps = [[_truth(x) * math.exp(rng.gauss(0, 0.8)) for _ in range(3)] for x in xs]
    m = cost_model.build("time_per_step", xs, [sum(r) / 3 for r in reps], reps)
    assert m.noise is not None and m.noise > 0.5
    top = m.ys[-1]
    spread = math.exp(1.645 * m.noise)
    for n in (16, 18):
        value, low, high = m.predict(n) or (0, 0, 0)
        assert top / spread <= low <= value <= high <= top * cost_model.TIME_GROWTH_MAX ** (n - 14) * spread


def test_a_time_beyond_the_range_is_as_uncertain_as_identical_sweeps_are_apart() -> None:
    """Repeats minutes apart do not see how far apart identical sweeps land at the larger
    sizes (log SD 0.08-0.28 at 16 and 18 qubits, uncontended): a time beyond the range is
    never drawn with less noise than ``TIME_SPREAD``, however tight the repeats."""
    xs = [2, 4, 6, 8, 10, 12, 14]
    reps = [[_truth(x) * f for f in (0.99, 1.0, 1.01)] for x in xs]
    m = cost_model.build("time_per_step", xs, [_truth(x) for x in xs], reps)
    assert m.noise_from == "repeats" and m.noise is not None and m.noise < 0.02
    value, low, high = m.predict(16) or (0, 0, 0)
    assert low < value / math.exp(1.2 * cost_model.TIME_SPREAD)
    assert high > value * math.exp(1.2 * cost_model.TIME_SPREAD)
    within = m.predict(12) or (0, 0, 0)  # within the range: the repeats' own noise
    assert within[2] / within[1] < 1.2


def _recorded_times(sweep: dict[str, Any]) -> dict[str, list[SweepPoint]]:
    lines = {}
    for label, line in sweep["lines"].items():
        lines[label] = [
            SweepPoint(x=int(n), time_per_step=sum(values) / len(values), values=values,
                       contended=int(n) in line["contended"])
            for n, values in line["time_per_step"].items()
        ]
    return lines


@pytest.mark.parametrize("sweep", _RECORDED, ids=[s["name"] for s in _RECORDED])
def test_the_time_intervals_hold_for_3_of_4_combinations_of_every_recorded_sweep(sweep: dict[str, Any]) -> None:
    """Issue 25, Done when: fitted on 2-14 qubits, the time intervals contain the times
    measured at 16 and 18 for at least 3 of the 4 combinations; a time measured beside
    another process's load (contended) is not judged."""
    from qtui.analysis.predictions import models

    lines = _recorded_times(sweep)
    fitted = models({label: [p for p in pts if int(p.x or 0) <= 14] for label, pts in lines.items()})
    held = []
    for label, pts in lines.items():
        judged = [p for p in pts if int(p.x or 0) in (16, 18) and not p.contended]
        got = [(fitted[label]["time_per_step"].predict(int(p.x or 0)), p.time_per_step) for p in judged]
        held.append(all(g is not None and g[1] <= t <= g[2] for g, t in got if t is not None))
    assert sum(held) >= 3, (sweep["name"], held)


def test_too_few_sizes_get_no_model_and_say_why() -> None:
    m = cost_model.build("time_per_step", [2, 4], [0.01, 0.02])
    assert m.fit is None and m.predict(8) is None
    assert m.reason == "2 size(s) measured: a model needs 3 or more"
    exact = cost_model.build("time_per_step", [2, 4, 6], [0.01, 0.02, 0.05])
    assert exact.fit is not None and exact.noise_from.startswith("no interval: 3 sizes fit")


@pytest.mark.parametrize(
    ("text", "qubits", "says"),
    [
        ("16,x", [2, 4, 6], "each size must be a whole number of qubits from 1 to 64"),
        ("16,16", [2, 4, 6], "'16' is listed twice"),
        ("65", [2, 4, 6], "from 1 to 64"),
        ("16", [2, 4], "needs 3 or more measured sizes"),
    ],
)
def test_predict_sizes_are_checked(text: str, qubits: list[int], says: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_predict(text, qubits)
    assert info.value.field == "predict" and says in str(info.value)


def test_a_real_sweep_fits_and_predicts_marked_as_predicted(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    out = tmp_path / "sweep.json"
    proc: subprocess.CompletedProcess[str] = qtui_cli(
        "sweep", "--combos", "default.qubit+backprop", "--qubits", "10,11,12,13",
        "--steps", "2", "--warmup", "1", "--threads", "1", "--samples", "100", "--batch-size", "50",
        "--predict", "15,16", "--json", str(out), cwd=REPO, env={"COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    axis = json.loads(out.read_text())["sweep"]["qubits"]
    figures = {m["figure"]: m for m in axis["models"]["default.qubit+backprop"]}
    assert figures["time_per_step"]["growth"] > 1.0  # the time grows with the state
    memory = figures["peak_rss"]
    assert memory["fitted_from"] == 10 and memory["fitted_to"] == 13 and memory["sizes"] == 4
    # The memory term grows with the state: backprop keeps a batch of 50 states per gate,
    # about n·2ⁿ.  Peak RSS is the allocator's figure, so two identical sweeps fitted 1.9
    # and 3.6 per qubit here: a band, not a number.
    assert 1.3 <= memory["growth"] <= 5.0, memory
    predicted = {p["x"]: p for p in axis["predictions"]}
    assert set(predicted) == {15, 16} and all(p["beyond"] for p in predicted.values())
    assert predicted[16]["peak_rss"] > predicted[15]["peak_rss"] > 0
    assert predicted[16]["time_low"] <= predicted[16]["time_per_step"] <= predicted[16]["time_high"]
    assert any(w.startswith("predicted at 16 qubits:") for w in axis["predicted"])
    assert "Predicted beyond the measured sizes" in proc.stdout
    assert "Predicted, not measured" in proc.stdout


def _sweep(qtui_cli: QtuiCli, tmp_path: Path, *limits: str) -> tuple[dict[str, object], str]:
    out = tmp_path / "sweep.json"
    proc = qtui_cli(
        "sweep", "--combos", "default.qubit+backprop", "--qubits", "1,2,3,4,5",
        "--steps", "2", "--warmup", "1", "--samples", "20", *limits, "--json", str(out),
        cwd=REPO, env={"COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text()), proc.stdout + proc.stderr


def test_a_point_predicted_over_max_memory_is_skipped_before_it_runs(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    """A limit below what every run takes (the interpreter alone is over 100 MiB): the
    first three sizes run, the fourth is predicted over it and never starts."""
    data, said = _sweep(qtui_cli, tmp_path, "--max-memory", "100M")
    assert sorted(r["parameters"]["qubits"] for r in data["results"]) == [1, 2, 3]  # type: ignore[index]
    (skipped,) = data["sweep"]["qubits"]["skipped"]  # type: ignore[index]
    assert skipped.startswith("default.qubit+backprop at 4, 5 qubits: skipped: predicted ")
    assert skipped.endswith("> 100.0 MiB allowed (--max-memory)")
    assert "Skipped before running" in said


def test_max_step_time_skips_and_the_default_memory_limit_lets_small_points_run(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    data, said = _sweep(qtui_cli, tmp_path, "--max-step-time", "0.000001")
    assert sorted(r["parameters"]["qubits"] for r in data["results"]) == [1, 2, 3]  # type: ignore[index]
    (skipped,) = data["sweep"]["qubits"]["skipped"]  # type: ignore[index]
    assert "per step > 1.000 µs allowed (--max-step-time)" in skipped
    # the default memory limit (80 % of this machine) was in force and let 1-3 run
    assert "peak memory" in said and "--max-memory" in said


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--max-memory", "abc", "max-memory: a size like 500M, 16G or 1T, or 0 for no limit"),
        ("--max-memory=-1G", None, "max-memory: must be a positive number"),
        ("--max-memory", "16", "max-memory: a size like 500M"),
        ("--max-step-time", "0", "max-step-time: must be a positive number"),
        ("--max-step-time", "soon", "max-step-time: must be a number"),
        ("--predict", "16", "predict: needs 3 or more measured sizes"),
    ],
)
def test_bad_limits_are_one_line_and_exit_2(
    qtui_cli: QtuiCli, tmp_path: Path, flag: str, value: str | None, says: str
) -> None:
    given = [flag] if value is None else [flag, value]
    proc = qtui_cli("sweep", "--qubits", "2,4", *given, "--json", str(tmp_path / "x.json"), cwd=REPO)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and says in proc.stderr
    assert not (tmp_path / "x.json").exists()


def test_memory_sizes_read_as_sbatch_writes_them() -> None:
    from qtui.cli.commands.sweep import parse_memory

    assert parse_memory("500M") == 500 * 2**20
    assert parse_memory("16G") == parse_memory("16GiB") == 16 * 2**30
    assert parse_memory("1.5T") == 1.5 * 2**40 and parse_memory("0") == 0.0


def test_an_open_ended_sweep_grows_until_the_first_limit(qtui_cli: QtuiCli, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    proc = qtui_cli(
        "sweep", "--combos", "default.qubit+backprop", "--qubits", "1..", "--max-memory", "100M",
        "--steps", "2", "--warmup", "1", "--samples", "20", "--json", str(out), cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert sorted(r["parameters"]["qubits"] for r in data["results"]) == [1, 3, 5]
    (skipped,) = data["sweep"]["qubits"]["skipped"]
    assert skipped.startswith("default.qubit+backprop at 7, 9, 11, ")


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--max-memory", "0"], "an open-ended range (2..) grows until a limit stops it"),
        (["--repeat", "2"], "not with --executor slurm or --repeat"),
    ],
)
def test_an_open_ended_sweep_needs_a_limit_and_runs_locally(
    qtui_cli: QtuiCli, extra: list[str], says: str
) -> None:
    proc = qtui_cli("sweep", "--qubits", "2..", *extra, cwd=REPO)
    assert proc.returncode == 2 and says in proc.stderr and len(proc.stderr.splitlines()) == 1
