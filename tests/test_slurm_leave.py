"""Leave means left (issue 22, item 5): jobs left running are recorded as left
running, not cancelled, and re-attaching completes *the same* history session.

On the real local cluster when ``scripts/test`` started one, else submitit's
local executor (the same path, jobs as local processes).  Real runs, real qtui
processes, a real history database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_helpers import child_env
from slurm_cluster import cluster

from qtui.store.history_db import DB_NAME, HistoryDB

KIND, _WHY = cluster()
pytestmark = pytest.mark.timeout(300)


def _qtui(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "qtui", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env},
    )


def test_left_running_is_recorded_as_such_and_reattaching_completes_the_same_session(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    env = {
        "PYTHONPATH": child_env()["PYTHONPATH"], "QTUI_SUBMITIT_CLUSTER": KIND,
        "QTUI_DATA_DIR": str(data), "QTUI_NO_HISTORY": "", "QTUI_TEST_SLEEP": "0.3",
    }
    jobs, left = tmp_path / "jobs", tmp_path / "left.json"
    proc = _qtui(
        "run", "--executor", "slurm", "--jobs-dir", str(jobs), "--no-exclusive",
        "--device", "default.qubit", "--diff-method", "backprop",
        "--workload", "workloads.faulty:slow", "--epochs", "1", "--samples", "40",
        "--batch-size", "5", "--time-limit", "5", "--json", str(left), env=env,
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 200
    while "started" not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "started" in seen, seen
    proc.send_signal(signal.SIGHUP)  # the terminal closed: the jobs go on
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 129, seen + rest

    first = json.loads(left.read_text())
    assert [r["state"] for r in first["runs"]] == ["left_running"], first["runs"]
    db = HistoryDB(data / DB_NAME)
    try:
        (row,) = db.sessions()
        assert row["session_id"] == first["session_id"]
        assert row["status"] == "left running", row
        assert row["states"] == {"left_running": 1}, row
    finally:
        db.close()

    merged = tmp_path / "merged.json"
    watch = _qtui("watch", "--jobs-dir", str(jobs), "--no-tui", "--json", str(merged), env=env)
    _, stderr = watch.communicate(timeout=240)
    assert watch.returncode == 0, stderr
    assert "Submitting" not in stderr and "Re-attached to 1 run(s)" in stderr, stderr  # item 8
    again = json.loads(merged.read_text())
    assert again["session_id"] == first["session_id"]
    assert [r["state"] for r in again["runs"]] == ["finished"]
    db = HistoryDB(data / DB_NAME)
    try:
        (row,) = db.sessions()  # one row: the same session, completed
        assert row["session_id"] == first["session_id"]
        assert row["status"] == "finished" and row["states"] == {"finished": 1}, row
        summary = db.summary(row["session_id"])
        assert [r.state for r in summary.runs] == ["finished"]
        assert len(summary.runs[0].epoch_losses) == 1  # the log read once, not twice
    finally:
        db.close()
