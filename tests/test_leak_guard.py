"""The leak guard (tests/conftest.py) fails the test that left a process behind, and kills it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

TESTS = Path(__file__).resolve().parent

LEAKY = '''
import subprocess, sys


def test_leaves_a_sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    print("SLEEPER", proc.pid)


def test_after_it_is_clean():
    pass
'''


def test_a_test_that_leaves_a_process_fails_itself_and_the_process_is_killed(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    env.pop("QTUI_TEST_RUN", None)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-q", "-s", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "2 passed, 1 error" in text, text
    assert "ERROR at teardown of test_leaves_a_sleeper" in text, text
    assert "still running (killed now)" in text, text
    pid = int(text.split("SLEEPER ")[1].split()[0])
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
