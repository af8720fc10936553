"""Faults that used to leave processes behind or hang a session (issue 11, items 1, 2, 11).

Real children, real signals: a helper that leaves the run's session and holds
its stdout; SIGKILL of a real ``qtui run`` whose child holds the GIL; modules
planted in the current directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from engine_helpers import REPO, OffsetClock, child_env, start_session, tiny
from warm_executor import assert_no_runs_left

from qtui.core.config import RunSpec, WorkloadParams
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.pycmd import python_command
from qtui.engine.reaper import LINUX

pytestmark = pytest.mark.skipif(not LINUX, reason="PR_SET_CHILD_SUBREAPER / PDEATHSIG are Linux")

TINY = ["--epochs", "1", "--samples", "20", "--batch-size", "5"]


def _gone(pid: int) -> bool:
    """Not running: no such pid, or a zombie (reaped here when it is ours)."""
    try:
        p = psutil.Process(pid)
        if p.status() != psutil.STATUS_ZOMBIE:
            return False
    except psutil.NoSuchProcess:
        return True
    if p.ppid() == os.getpid():
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    return True


def _wait_for_file(path: Path, proc: subprocess.Popen[str] | None, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"qtui ended before the workload was in place: {err[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.05)
    data: dict[str, int] = json.loads(path.read_text())
    return data


@pytest.fixture(scope="module")
def cli_env() -> dict[str, str]:
    """The CLI's environment with the device probe cached (it runs once, here)."""
    e = child_env()
    e.pop("QTUI_DEBUG", None)
    subprocess.run(
        [sys.executable, "-m", "qtui", "devices", "--json"],
        env=e, capture_output=True, text=True, timeout=300, check=True, cwd=REPO,
    )
    return e


# --- item 1 ------------------------------------------------------------------------


def test_setsid_helper_holding_stdout_does_not_hang_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor
) -> None:
    """A helper in its own session, with the child's stdout/stderr and no run tag in its
    environment, and a child that hangs: the timeout ends the run, the next run still
    runs, and the helper is gone.  The timeout is reached on the supervisor's clock
    (``OffsetClock``) once the helper is up, not waited out (it was 25 s, then 8 s);
    how soon after the timeout the run ends is ``benchmarks/cancel_latency.py``'s."""
    pids_file = tmp_path / "pids.json"
    monkeypatch.setenv("QTUI_TEST_PIDS", str(pids_file))
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    timeout_s = 600.0
    specs = [
        RunSpec(
            "default.qubit", "backprop",
            params=WorkloadParams(**{**tiny().to_dict(), "workload": "workloads.escapes:setsid_helper_hangs"}),
            timeout_s=timeout_s,
        ),
        RunSpec("default.qubit", "backprop", params=tiny()),
    ]
    clock = OffsetClock()
    sup, rec, thread = start_session(specs, interval=0.2, clock=clock, executor=warm_executor)
    launched = rec.wait_for("run_launched", "r1", timeout=60)
    assert launched.pid > 0
    pids = _wait_for_file(pids_file, None, timeout=60)
    assert psutil.Process(pids["helper"]).status() != psutil.STATUS_ZOMBIE
    assert rec.of("run_timed_out", "r1") == []
    clock.offset += timeout_s  # the timeout passes while the helper holds the pipes
    rec.wait_for("run_timed_out", "r1", timeout=60)
    rec.wait_for("session_finished", timeout=120)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert rec.terminal("r2").type == "run_finished"
    assert _gone(pids["helper"]) and _gone(pids["child"])
    assert_no_runs_left(warm_executor)


# --- item 2 ------------------------------------------------------------------------


def test_sigkill_of_qtui_takes_a_gil_holding_child_and_its_helper_along(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``qtui run`` SIGKILLed while its child spins in ``re`` (which never releases the
    GIL, so no Python thread of the child runs): child and helper gone."""
    pids_file = tmp_path / "pids.json"
    env = {**cli_env, "QTUI_TEST_PIDS": str(pids_file)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qtui", "run", "--workload", "workloads.escapes:gil_hog", *TINY],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        pids = _wait_for_file(pids_file, proc, timeout=240)
        # spinning in the regex: 0.3 s more CPU, however long a loaded machine takes
        child = psutil.Process(pids["child"])
        spun_from, until = sum(child.cpu_times()[:2]), time.monotonic() + 60
        while sum(child.cpu_times()[:2]) < spun_from + 0.3:
            assert time.monotonic() < until, "the child does not spin"
            time.sleep(0.02)
        assert not _gone(pids["child"]) and not _gone(pids["helper"])
        proc.send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        gone_after: dict[str, float] = {}
        while len(gone_after) < 2 and time.monotonic() - t0 < 60:  # outcome, not speed
            for name in ("child", "helper"):
                if name not in gone_after and _gone(pids[name]):
                    gone_after[name] = time.monotonic() - t0
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    print(f"after SIGKILL of qtui: child gone in {gone_after.get('child', -1):.3f} s, "
          f"helper in {gone_after.get('helper', -1):.3f} s")
    # both go (left alone, the child spins in the regex for good); the seconds are printed
    assert set(gone_after) == {"child", "helper"}, gone_after


# --- item 11 -----------------------------------------------------------------------

def _planted(record: Path) -> str:
    """A module that appends its name to ``record`` when imported, then fails the import."""
    return (
        f"with open({str(record)!r}, 'a') as f:\n"
        "    f.write(__name__ + '\\n')\n"
        "raise ImportError('planted module ran')\n"
    )


def plant(folder: Path) -> Path:
    """``sklearn.py``, ``pennylane.py``, ``runpy.py`` and a ``qtui/`` package in ``folder``
    that record being imported; returns the record's path (absent while none ran)."""
    record = folder / "PLANTED_RAN"
    for name in ("sklearn", "pennylane", "runpy"):
        (folder / f"{name}.py").write_text(_planted(record))
    (folder / "qtui").mkdir()
    (folder / "qtui" / "__init__.py").write_text(_planted(record))
    return record


def test_plant_helper_records_an_import(tmp_path: Path) -> None:
    """The planted modules do run when the current directory is on sys.path (the test is real)."""
    ran = plant(tmp_path)
    subprocess.run([sys.executable, "-c", "import sklearn"], cwd=tmp_path, capture_output=True)
    assert ran.read_text().split() == ["sklearn"]
    subprocess.run([sys.executable, "-m", "qtui", "--version"], cwd=tmp_path, capture_output=True)
    assert len(ran.read_text().split()) == 2  # runpy or qtui, whichever came first


@pytest.mark.parametrize("safe_path", [True, False], ids=["-P", "bootstrap"])
def test_children_start_without_the_current_directory(tmp_path: Path, safe_path: bool) -> None:
    """Both forms of the child command line (``-P`` on 3.11+, the 3.10 bootstrap)."""
    ran = plant(tmp_path)
    out = subprocess.run(
        python_command("qtui", "--version", safe_path=safe_path),
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("qtui ")
    assert not ran.exists(), ran.read_text()


def test_a_run_from_a_planted_folder_uses_the_workload_there_and_nothing_else(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``qtui run --workload mybench:build`` from a folder with a planted ``sklearn.py``
    and ``qtui/``: the workload check and the run import ``mybench`` from the current
    directory (the default --workload-path) and never the planted modules."""
    ran = plant(tmp_path)
    (tmp_path / "mybench.py").write_text(
        "from qtui.engine.forum import build as forum\n\ndef build(ctx):\n    return forum(ctx)\n"
    )
    out_json = tmp_path / "summary.json"
    proc = subprocess.run(
        python_command("qtui", "run", "--workload", "mybench:build", *TINY, "--json", str(out_json)),
        env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not ran.exists(), ran.read_text()
    summary = json.loads(out_json.read_text())
    assert [r["state"] for r in summary["runs"]] == ["finished"]


def test_workload_path_finds_a_workload_elsewhere(cli_env: dict[str, str], tmp_path: Path) -> None:
    """``--workload-path DIR`` for a module that is neither installed nor in the cwd; a
    folder that does not exist is one line and exit 2."""
    bench = tmp_path / "benches"
    bench.mkdir()
    (bench / "farbench.py").write_text(
        "from qtui.engine.forum import build as forum\n\ndef build(ctx):\n    return forum(ctx)\n"
    )
    ok = subprocess.run(
        python_command("qtui", "run", "--workload", "farbench:build", "--workload-path", str(bench), *TINY),
        env=cli_env, cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert ok.returncode == 0, ok.stderr[-3000:]
    missing = subprocess.run(
        python_command("qtui", "run", "--workload", "farbench:build", "--workload-path", str(tmp_path / "nope")),
        env=cli_env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"qtui: error: workload-path: {str(tmp_path / 'nope')!r} is not a folder"
    ]


def test_the_probe_does_not_run_planted_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qtui.session.capabilities import run_probe

    ran = plant(tmp_path)
    monkeypatch.chdir(tmp_path)
    data = run_probe()
    assert data["devices"]
    assert not ran.exists(), ran.read_text()
