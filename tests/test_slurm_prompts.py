"""The question a Ctrl-C asks with cluster jobs in flight, on a real terminal (a pty)."""

from __future__ import annotations

import io
import os
import pty
import sys
from collections.abc import Iterator

import pytest
from rich.console import Console

from qtui.cli.slurm_prompts import ask_leave_or_cancel


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """stdin is a pty's terminal side; returns the side a user types into."""
    typed, tty = pty.openpty()
    stdin = os.fdopen(tty, "r", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    yield typed
    stdin.close()
    os.close(typed)


@pytest.mark.parametrize(("answer", "leave"), [("l\n", True), ("c\n", False), ("\n", False)])
def test_the_question_shows_its_keys_and_takes_the_answer(
    terminal: int, answer: str, leave: bool
) -> None:
    out = io.StringIO()
    err = Console(file=out, width=200, color_system=None)
    os.write(terminal, answer.encode())
    assert ask_leave_or_cancel(err) is leave
    text = out.getvalue()
    # the keys are shown as typed, not eaten as Rich markup ("ancel them, or eave them")
    assert "[c]ancel them, or [l]eave them running" in text, text
    assert "[c/l, Enter cancels]" in text
    assert ("Leaving the jobs running" if leave else "Cancelling the jobs (scancel)") in text
