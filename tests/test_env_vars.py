"""Environment variables read as ASCII digits, else one warning and the default (issue 21, item 6).

``QTUI_PHASE_EVERY=²`` and ``OMP_NUM_THREADS=²`` crashed every run (``str.isdigit()``
is true for "²", ``int()`` refuses it).  Real tiny runs, forked from the suite's warm
server with the variable in their environment, must finish, with the default in
use and the one-line warning among the run's warnings; ``qtui run`` prints it.
``QTUI_NO_HISTORY=0`` records history, as ``false``, ``no`` and empty do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_in_process import QtuiCli
from engine_helpers import child_env, run_session, tiny
from warm_executor import assert_no_runs_left

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.phases import DEFAULT_EVERY, EVERY_ENV


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor) -> Iterator[None]:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_runs_left(warm_executor)


def _one_run(executor: ProcessExecutor) -> tuple[ev.Event, list[ev.WarningSeen]]:
    spec = RunSpec("default.qubit", "backprop", tiny(epochs=2))
    sup, rec = run_session([spec], executor=executor)
    run_id = sup.specs[0].run_id
    return rec.terminal(run_id), rec.of("warning", run_id)


def _about(warnings: list[ev.WarningSeen], name: str) -> list[str]:
    return [w.message for w in warnings if w.message.startswith(f"{name}=")]


@pytest.mark.parametrize("raw", ["\u00b2", "\u0663", "1_0", "ten", "-3"])
def test_a_bad_phase_interval_warns_once_and_the_run_uses_the_default(
    raw: str, monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor
) -> None:
    monkeypatch.setenv(EVERY_ENV, raw)
    fin, warnings = _one_run(warm_executor)
    assert isinstance(fin, ev.RunFinished), fin
    said = _about(warnings, EVERY_ENV)
    assert said == [f"{EVERY_ENV}={raw!r} is not a whole number of at least 0 in ASCII digits "
                    f"(0-9); using {DEFAULT_EVERY}"], warnings
    # the default samples the split (QTUI_PHASE_EVERY=0 would leave PennyLane's share out)
    assert fin.phases["forward_pennylane"] > 0 and fin.phases["forward_device"] > 0


def test_a_good_phase_interval_is_quiet(
    monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor
) -> None:
    monkeypatch.setenv(EVERY_ENV, " 3 ")
    fin, warnings = _one_run(warm_executor)
    assert isinstance(fin, ev.RunFinished), fin
    assert _about(warnings, EVERY_ENV) == []


def test_a_bad_omp_num_threads_warns_and_the_run_finishes(
    monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor
) -> None:
    """A forked run sizes OpenBLAS from OMP_NUM_THREADS when --threads is not given."""
    monkeypatch.setenv("OMP_NUM_THREADS", "\u00b2")
    fin, warnings = _one_run(warm_executor)
    assert isinstance(fin, ev.RunFinished), fin
    assert _about(warnings, "OMP_NUM_THREADS") == [
        "OMP_NUM_THREADS='\u00b2' is not a whole number of at least 0 in ASCII digits (0-9); "
        "using 0"
    ]


def test_qtui_run_prints_the_warning_on_one_line(qtui_cli: QtuiCli, tmp_path: Path) -> None:
    proc = qtui_cli("run", "--epochs", "1", "--samples", "20", "--json", str(tmp_path / "s.json"),
                    env={EVERY_ENV: "\u00b2", "QTUI_NO_HISTORY": "1", "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    lines = [line for line in text.splitlines() if f"{EVERY_ENV}=" in line]
    assert lines and all("using 10" in line for line in lines), text


@pytest.mark.parametrize(("raw", "recorded"), [("0", True), ("false", True), ("", True),
                                                ("1", False)])
def test_no_history_zero_records(
    raw: str, recorded: bool, qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    proc = qtui_cli("run", "--epochs", "1", "--samples", "10",
                    env={"QTUI_NO_HISTORY": raw, "QTUI_DATA_DIR": str(data)})
    assert proc.returncode == 0, proc.stderr
    assert (data / "history.sqlite3").exists() is recorded
