"""``qtui`` subcommands run in the test process, on the suite's warm fork server.

Why: a ``python -m qtui run`` child pays an interpreter and a fork server of its
own (torch and pennylane imported, 3-5 s) before its first run; about twenty
tests paid it.  ``qtui.cli.main.main(argv, executor=warm)`` is the same code
path from parsing to the exit code (flags, checks, the console session, the
``--json``/``--events`` files, the history), and the runs are still real
children forked from a real server; only the interpreter and the server are
shared.  Tests *about* the process itself (signals, Ctrl-C, SIGKILL, a closed
terminal, the server's own start) keep a real ``python -m qtui`` child.

The result is a ``subprocess.CompletedProcess`` so a test reads the same
``returncode``/``stdout``/``stderr`` either way.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import child_env

from qtui.cli.main import main
from qtui.engine.forkserver import ProcessExecutor

#: ``qtui_cli(*argv, cwd=..., env=...)``: one subcommand, in this process.
QtuiCli = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def qtui_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    warm_executor: ProcessExecutor,
) -> QtuiCli:
    """Run ``qtui ARGV`` in this process with the environment a ``python -m qtui`` child
    of the suite gets (``child_env``: ``tests/`` importable, no colour) plus ``env``,
    in ``cwd``; the environment and folder are restored after the test."""

    def call(
        *argv: str, cwd: Path | str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        base = child_env()
        for name in ("PYTHONPATH", "NO_COLOR"):
            monkeypatch.setenv(name, base[name])
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()  # what came before is not this command's
        code = main(list(argv), executor=warm_executor)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["qtui", *argv], code, out, err)

    return call
