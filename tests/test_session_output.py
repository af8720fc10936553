"""What a session writes survives: markup in run text, SIGKILL, bad and vanishing paths.

Issue 11, items 4–6, with a real ``qtui run``: in a process of its own where the test
kills or signals it, else in this process on the warm server (``tests/cli_in_process.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from cli_in_process import QtuiCli

from tests.engine_helpers import child_env
from tests.workloads.markup import MESSAGE

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    e = child_env()
    base = tmp_path_factory.mktemp("qtui-output")
    e["QTUI_DATA_DIR"] = str(base / "data")
    e["COLUMNS"] = "200"
    return e


def in_process_env(env: dict[str, str]) -> dict[str, str]:
    """What this module's environment adds for a command run in this process."""
    return {k: env[k] for k in ("QTUI_DATA_DIR", "COLUMNS")}


def events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):  # the line being written
            out.append(json.loads(line))
    return out


SLOW = [
    "run", "--device", "default.qubit,lightning.qubit", "--diff-method", "adjoint",
    "--workload", "workloads.faulty:slow_on_lightning", "--epochs", "3", "--samples", "20",
]


def start_and_wait_for_second_run(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    log = Path(args[args.index("--events") + 1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "qtui", *args], env=env, cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if any(e["type"] == "batch" and e["run_id"] == "r2" for e in events(log)):
            return proc
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the second run never started training")


def test_markup_in_run_text_is_shown_literally_and_the_summary_is_written(
    env: dict[str, str], qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    out = tmp_path / "summary.json"
    proc = qtui_cli(
        "run", "--device", "default.qubit,lightning.qubit", "--diff-method", "adjoint",
        "--workload", "workloads.markup:raises_markup", "--epochs", "1", "--samples", "20",
        "--json", str(out), cwd=REPO, env=in_process_env(env),
    )
    assert proc.returncode == 1, proc.stderr  # one run failed: exit 1, not a traceback
    assert "Traceback" not in proc.stderr and "MarkupError" not in proc.stderr
    summary = json.loads(out.read_text())
    states = {r["parameters"]["device"]: r["state"] for r in summary["runs"]}
    assert states == {"default.qubit": "finished", "lightning.qubit": "failed"}
    assert MESSAGE in proc.stdout  # "Did not finish" and the warnings, as written
    assert f"[red]{MESSAGE}"[:90] in proc.stdout
    assert MESSAGE in proc.stderr.splitlines()[-1]  # the final one-line reason keeps it too


def test_a_killed_session_keeps_every_run_that_finished(env: dict[str, str], tmp_path: Path) -> None:
    out, log = tmp_path / "summary.json", tmp_path / "events.jsonl"
    proc = start_and_wait_for_second_run(env, *SLOW, "--json", str(out), "--events", str(log))
    proc.kill()  # SIGKILL: no handler runs
    proc.wait(30)
    summary = json.loads(out.read_text())
    runs = {r["run_id"]: r["state"] for r in summary["runs"]}
    assert runs["r1"] == "finished"
    assert summary["results"][0]["runs"] == {"total": 1, "finished": 1}
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left beside it"


@pytest.mark.parametrize("flag", ["--json", "--events"])
def test_an_unwritable_output_is_refused_before_anything_starts(
    env: dict[str, str], qtui_cli: QtuiCli, flag: str
) -> None:
    # /proc refuses new files even for root, whatever the mode bits say
    proc = qtui_cli("run", "--epochs", "1", "--samples", "20", flag, "/proc/qtui-summary.json",
                    cwd=REPO, env=in_process_env(env))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"qtui: error: {flag[2:]}: cannot write in /proc")
    assert "Running" not in proc.stderr and proc.stdout == ""


def test_a_summary_whose_folder_vanished_goes_to_the_data_folder(
    env: dict[str, str], qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    """In this process (a worker thread runs the command, on the warm server) while the
    test removes the folder once the second run trains."""
    folder = tmp_path / "results"
    folder.mkdir()
    out, log = folder / "summary.json", tmp_path / "events.jsonl"
    done: list[subprocess.CompletedProcess[str]] = []
    worker = threading.Thread(target=lambda: done.append(qtui_cli(
        *SLOW, "--json", str(out), "--events", str(log), cwd=REPO, env=in_process_env(env),
    )), daemon=True)
    worker.start()
    deadline = time.monotonic() + 240
    while not any(e["type"] == "batch" and e["run_id"] == "r2" for e in events(log)):
        assert worker.is_alive() and time.monotonic() < deadline, "the second run never trained"
        time.sleep(0.1)
    shutil.rmtree(folder)  # while the second run trains
    worker.join(240)
    (proc,) = done
    assert proc.returncode == 1, proc.stderr  # the summary did not go where asked
    saved = [line for line in proc.stderr.splitlines() if "saved" in line]
    assert saved and f"could not write {out}" in saved[0]
    fallback = Path(saved[0].rsplit("saved ", 1)[1].removesuffix(" instead"))
    assert fallback.parent == Path(env["QTUI_DATA_DIR"]) / "summaries"
    summary = json.loads(fallback.read_text())
    assert {r["state"] for r in summary["runs"]} == {"finished"}
    assert "Mean ± σ" in proc.stdout  # the report still printed


def test_sighup_cancels_and_keeps_the_summary(env: dict[str, str], tmp_path: Path) -> None:
    """A closed terminal (SIGHUP) is a cancel: recorded, summary written, exit 129."""
    out, log = tmp_path / "summary.json", tmp_path / "events.jsonl"
    proc = start_and_wait_for_second_run(env, *SLOW, "--json", str(out), "--events", str(log))
    proc.send_signal(signal.SIGHUP)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 129, stderr
    summary = json.loads(out.read_text())
    states = {r["parameters"]["device"]: r["state"] for r in summary["runs"]}
    assert states == {"default.qubit": "finished", "lightning.qubit": "cancelled"}
    assert events(log)[-1]["type"] == "session_finished"
    assert os.path.getsize(out) > 0
