"""``qtui sweep``: a tiny real sweep end to end, and its input errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_in_process import QtuiCli
from engine_helpers import REPO


@pytest.fixture
def qtui(qtui_cli: QtuiCli) -> QtuiCli:
    """``qtui ARGS`` in this process on the warm server (``tests/cli_in_process.py``)."""

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return qtui_cli(*args, cwd=REPO, env={"COLUMNS": "160"})

    return call


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qubits", "0,2"], "qubits: must be at least 1, got 0"),
        (["--qubits", "two"], "qubits: must be a whole number, got 'two'"),
        (["--steps", "0"], "steps: must be at least 1, got 0"),
        (["--threads", "1,-2"], "threads: must be at least 1, got -2"),
        (["--batch-size", "5,500"], "batch-size: must not exceed the sample count (200), got 500"),
        (["--diff-method", "magic"], "diff-method: unknown method 'magic'"),
    ],
)
def test_bad_sweep_input_is_one_line_and_exit_2(
    qtui: QtuiCli, args: list[str], message: str
) -> None:
    proc = qtui("sweep", *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qtui: error: ")
    assert message in lines[0]


def test_tiny_real_sweep(qtui: QtuiCli, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    proc = qtui(
        "sweep", "--device", "default.qubit", "--diff-method", "backprop,adjoint",
        "--qubits", "1,2", "--threads", "1", "--steps", "3", "--warmup", "1",
        "--samples", "20", "--json", str(out),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    results = data["results"]
    assert len(results) == 4
    assert {r["parameters"]["qubits"] for r in results} == {1, 2}
    for r in results:
        assert r["steps"] == 3  # measured steps only, warm-up excluded
        assert r["time_per_step"] == pytest.approx(r["mean"] / 3)
        assert r["resources"]["core_s_per_step"] > 0
        assert r["parameters"]["threads"] == 1
        omp = [p for p in r["threadpools"] if p["user_api"] == "openmp"]
        assert omp and all(p["num_threads"] == 1 for p in omp), r["threadpools"]
    lines = data["sweep"]["qubits"]["series"]
    assert set(lines) == {"default.qubit+backprop", "default.qubit+adjoint"}
    assert [pt["x"] for pt in lines["default.qubit+backprop"]] == [1, 2]
    crossings = data["sweep"]["qubits"]["crossovers"]
    assert len(crossings) == 1 and "default.qubit+backprop" in crossings[0]
    groups = data["recommendation"]["groups"]
    assert sorted(g["parameters"]["qubits"] for g in groups) == [1, 2]
    # The console shows the per-step table and the crossover sentence.
    assert "Per training step against qubit count" in proc.stdout
    flat = " ".join(proc.stdout.split())  # the console wraps a long sentence at a space
    assert " ".join(crossings[0].split(" than ")[0].split()) in flat
