"""A long batch announces its end (issue 23): the terminal bell, and a desktop
notification where the terminal takes OSC 9.

A session that ran at least ``LONG_SESSION_S`` rings when it ends, so a user
who switched to another window learns the batch is done.  The app rings only
when its terminal reports that it lost focus (focus reporting, which most
terminals and tmux send); the headless commands cannot know where the user
looks, so they ring whenever stderr is a terminal.  ``--no-bell`` turns it off.

OSC 9 (``ESC ] 9 ; text BEL``) is a notification in iTerm2, WezTerm, Windows
Terminal, ConEmu and Ghostty; other terminals would print it as junk, so it is
sent only where the environment names one of those.  The bell is always sent:
every terminal knows it (tmux turns it into a window alert).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from qtui.core.safe_text import one_line

#: Sessions at least this long (seconds) announce their end.
LONG_SESSION_S = 60.0
BELL = "\a"
#: ``TERM_PROGRAM`` values of terminals that show OSC 9 as a notification.
_OSC9_PROGRAMS = frozenset({"iTerm.app", "WezTerm", "ghostty"})


def wanted(elapsed_s: float, *, enabled: bool, focused: bool | None = None,
           after_s: float = LONG_SESSION_S) -> bool:
    """Whether a session that ran ``elapsed_s`` announces its end: long enough, not
    turned off, and not watched (``focused`` False; None: unknown, announce)."""
    return enabled and elapsed_s >= after_s and focused is not True


def takes_osc9(env: Mapping[str, str] | None = None) -> bool:
    e = os.environ if env is None else env
    return (
        e.get("TERM_PROGRAM", "") in _OSC9_PROGRAMS
        or bool(e.get("WT_SESSION"))
        or e.get("ConEmuANSI") == "ON"
    )


def sequence(text: str, env: Mapping[str, str] | None = None) -> str:
    """What to write to the terminal: the bell, after an OSC 9 notification carrying
    ``text`` (one line, no control characters) where the terminal takes it."""
    if not takes_osc9(env):
        return BELL
    clean = "".join(ch for ch in one_line(text) if ch.isprintable() and ch != ";")[:200]
    return f"\x1b]9;{clean}\a{BELL}"


def message(n_runs: int, elapsed_s: float) -> str:
    """``qtui: 4 runs done in 12 min 05 s``."""
    from qtui.core import units

    return f"qtui: {n_runs} run{'s' * (n_runs != 1)} done in {units.wait(elapsed_s)}"
