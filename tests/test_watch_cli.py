"""``qtui watch --no-tui`` against a real writer process, and ``qtui serve``.

The writer replays a real session's events into a log the way a batch job on
another node would, with half-written lines, a malformed line, a truncation and
a rotation; the watcher is ``python -m qtui watch``.  The writer moves on when
the test tells it to, once the watcher printed what shows it saw the step
before (a condition with a generous deadline, never a sleep).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from engine_helpers import stop_server

from qtui.core import events as ev

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "NO_COLOR": "1"}

WRITER = textwrap.dedent(
    """
    import os, sys, time
    src, path, mode = sys.argv[1:4]
    lines = open(src).read().splitlines(keepends=True)

    def slowly(f, chunk):
        half = len(chunk) // 2
        f.write(chunk[:half]); f.flush(); time.sleep(0.01)   # a half-written line
        f.write(chunk[half:]); f.flush()

    with open(path, "w") as f:                           # the watcher waits for it
        f.write("this is not json\\n"); f.flush()
    sys.stdin.readline()                                 # the watcher read that line
    cut = len(lines) // 2
    with open(path, "w") as f:                           # truncated, written again
        for line in lines[:cut]:
            slowly(f, line)
    if mode == "rotate":
        os.rename(path, path + ".1")                     # rotated: a new file
    with open(path, "a") as f:
        for line in lines[cut:]:
            slowly(f, line)
    """
)

DEADLINE_S = 60.0  # for the watcher to show a step: generous, a loaded machine is slow


def write_log(events: list[ev.Event], path: Path) -> None:
    path.write_text("".join(e.to_json() + "\n" for e in events), encoding="utf-8")


def read_until(proc: subprocess.Popen[str], needle: str) -> str:
    """``proc``'s stdout up to and including the line holding ``needle``."""
    assert proc.stdout is not None
    seen = ""
    timer = threading.Timer(DEADLINE_S, proc.kill)  # a silent watcher: readline returns ""
    timer.start()
    try:
        while needle not in seen:
            line = proc.stdout.readline()
            assert line, f"no {needle!r} (ended, or {DEADLINE_S:.0f} s passed): {seen[-2000:]}"
            seen += line
    finally:
        timer.cancel()
    return seen


def read_calls(pid: int) -> int:
    """How many read system calls ``pid`` made (``/proc/<pid>/io``): it polls its log."""
    with open(f"/proc/{pid}/io", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("syscr:"))


def watch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "qtui", "watch", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )


@pytest.mark.parametrize("mode", ["rotate", "append"])
def test_watch_follows_a_live_log(real_events: list[ev.Event], tmp_path: Path, mode: str) -> None:
    src, log = tmp_path / "src.jsonl", tmp_path / "run.jsonl"
    write_log(real_events, src)
    watcher = watch(str(log), "--no-tui", "--interval", "0.05")
    assert watcher.stdout is not None
    first = watcher.stdout.readline()  # the writer starts once the watcher is waiting
    assert first.startswith(f"waiting for {log}")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(src), str(log), mode], stdin=subprocess.PIPE, text=True
    )
    assert writer.stdin is not None
    try:
        seen = read_until(watcher, "line 1 skipped: not JSON")  # before it is truncated
        writer.stdin.write("go\n")
        writer.stdin.close()
        rest, err = watcher.communicate(timeout=120)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
        writer.wait(30)
    out = seen + rest
    assert watcher.returncode == 0, err
    sid = real_events[0].session_id  # type: ignore[attr-defined]
    assert "note: line 1 skipped: not JSON" in out
    assert "was truncated" in out
    assert ("was rotated" in out) == (mode == "rotate")
    assert f"session {sid} on" in out
    assert "refused lightning.qubit+backprop: Device does not support backprop" in out
    assert out.count("refused lightning.qubit+backprop") == 1
    for rid in ("r1", "r2", "r3"):
        assert f"[{rid}] started" in out and f"[{rid}] finished in" in out
    assert "[r1] epoch 1/1: epoch mean loss" in out
    assert "[r1] warning UserWarning: qtui test warning" in out
    assert "[r4] failed, RuntimeError: the test workload refuses finite-diff" in out
    assert f"session {sid} finished" in out
    table = out[out.index("Results"):]
    # "Relative", or its short title once the table is split into groups to fit the width
    assert "default.qubit+backprop" in table and "2/2" in table and "Rel" in table


def test_watch_once_shows_a_run_in_progress(
    real_events: list[ev.Event], tmp_path: Path
) -> None:
    cut = next(i for i, e in enumerate(real_events) if isinstance(e, ev.Epoch)) + 1
    log = tmp_path / "run.jsonl"
    write_log(real_events[:cut], log)
    with open(log, "a", encoding="utf-8") as f:
        f.write(real_events[cut].to_json()[:15])  # mid-line
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "watch", str(log), "--once"],
        capture_output=True, text=True, env=ENV, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[r1] default.qubit+backprop: running (epoch 1 batch 4" in proc.stdout
    assert "note: line" in proc.stdout  # the half line, reported not fatal


def test_watch_a_log_that_never_finishes_stops_on_ctrl_c(
    real_events: list[ev.Event], tmp_path: Path
) -> None:
    log = tmp_path / "run.jsonl"
    body = [e for e in real_events if not isinstance(e, ev.SessionFinished)]
    write_log(body, log)
    watcher = watch(str(log), "--no-tui", "--interval", "0.05")
    read_until(watcher, "[r4] failed")
    # still following: it keeps polling the log (read calls) and has not ended
    calls, deadline = read_calls(watcher.pid), time.monotonic() + DEADLINE_S
    while watcher.poll() is None and read_calls(watcher.pid) < calls + 5:
        assert time.monotonic() < deadline, "the watcher stopped polling"
        time.sleep(0.01)
    assert watcher.poll() is None
    watcher.send_signal(signal.SIGINT)
    out, _ = watcher.communicate(timeout=30)
    assert watcher.returncode == 130
    assert "Results" in out and "lightning.qubit+adjoint" in out


def test_watch_errors(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "watch", str(tmp_path / "none.jsonl"), "--once"],
        capture_output=True, text=True, env=ENV, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("qtui: error:") and "no such file" in proc.stderr


# --- serve ---------------------------------------------------------------------------


def test_serve_refuses_a_public_host_without_public() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "serve", "--host", "0.0.0.0"],
        capture_output=True, text=True, env=ENV, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("qtui: error: refusing to serve on 0.0.0.0")
    assert "--public" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_serves_the_page_on_loopback() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "qtui", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline().strip()
        # the URL carries the serve token (issue 11, item 12; tests/test_serve.py)
        prefix = f"qtui: serving the TUI at http://127.0.0.1:{port}/?token="
        assert first.startswith(prefix) and first.endswith(" (Ctrl+C to stop)"), first
        url = first[len("qtui: serving the TUI at "):-len(" (Ctrl+C to stop)")]
        body, deadline = "", time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert resp.status == 200
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert "qtui" in body and f"ws://127.0.0.1:{port}/ws" in body
        # the port is taken now: a second server says so in one line
        second = subprocess.run(
            [sys.executable, "-m", "qtui", "serve", "--port", str(port)],
            capture_output=True, text=True, env=ENV, timeout=60,
        )
        assert second.returncode == 2 and "cannot listen on 127.0.0.1" in second.stderr
    finally:
        stop_server(server)
