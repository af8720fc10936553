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


@pytest.mark.parametrize(
    ("answer", "leave", "asked"),
    [
        ("l\n", True, 1),
        ("c\n", False, 1),
        ("y\n", False, 1),
        ("\n", True, 2),  # Enter alone is no answer: asked again, then l leaves
        ("x\nq\nc\n", False, 3),  # anything else: asked again until c, y or l
        ("Leave\n", True, 1),
    ],
)
def test_the_question_shows_its_keys_and_takes_only_its_answers(
    terminal: int, answer: str, leave: bool, asked: int
) -> None:
    """Issue 22, item 3: c or y cancels, l leaves, anything else asks again."""
    out = io.StringIO()
    err = Console(file=out, width=200, color_system=None)
    os.write(terminal, (answer + ("l\n" if answer == "\n" else "")).encode())
    assert ask_leave_or_cancel(err) is leave
    text = out.getvalue()
    # the keys are shown as typed, not eaten as Rich markup ("ancel them, or eave them")
    assert "[c]ancel them, or [l]eave them running" in text, text
    assert text.count("[c/l] ") == asked, text
    assert ("Leaving the jobs running" if leave else "Cancelling the jobs (scancel)") in text


def test_no_answer_at_all_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal goes away while the question waits (its other side closed): cancel,
    as with no terminal to ask."""
    import threading
    import time

    typed, tty = pty.openpty()
    stdin = os.fdopen(tty, "r", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    out = io.StringIO()

    def hang_up_once_asked() -> None:
        deadline = time.monotonic() + 30
        while "[c/l]" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.close(typed)

    closer = threading.Thread(target=hang_up_once_asked)
    closer.start()
    try:
        assert ask_leave_or_cancel(Console(file=out, width=200, color_system=None)) is False
        assert "Cancelling the jobs (scancel)" in out.getvalue()
    finally:
        closer.join()
        stdin.close()
