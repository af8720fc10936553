"""The environment variables qtui reads, parsed one way.

A number is ASCII digits: ``str.isdigit()`` is also true for "²" and "٣", which
``int()`` then refuses (every run crashed on ``QTUI_PHASE_EVERY=²``).  Anything
else gets one warning line and the default, never a crash: a variable set by
mistake must not cost a session.  A switch is off for unset, empty, ``0``,
``false``, ``no`` and ``off`` (any case), on for anything else.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import TypeVar

D = TypeVar("D", int, None)

_DIGITS = re.compile(r"[0-9]+")
#: Longer digit strings are refused before conversion (the 64-bit event stream's width).
_MAX_DIGITS = 18
OFF_WORDS = frozenset({"", "0", "false", "no", "off"})


def warn_line(message: str) -> None:
    """The one-line warning, on stderr."""
    print(f"qtui: warning: {message}", file=sys.stderr, flush=True)


def _shown(raw: str, limit: int = 40) -> str:
    """``repr`` of the value (control characters escaped), cut to stay one short line."""
    return repr(raw) if len(raw) <= limit else f"{raw[:limit]!r}... ({len(raw)} characters)"


def env_int(
    name: str,
    default: D,
    *,
    minimum: int = 0,
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] = warn_line,
) -> int | D:
    """``name`` as a whole number of at least ``minimum``; ``default`` when unset or empty,
    and, with one warning, when it is anything else."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if _DIGITS.fullmatch(text) and len(text) <= _MAX_DIGITS and int(text) >= minimum:
        return int(text)
    using = "ignoring it" if default is None else f"using {default}"
    warn(f"{name}={_shown(raw)} is not a whole number of at least {minimum} in ASCII digits "
         f"(0-9); {using}")
    return default


def env_flag(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """A switch: off when unset, empty, 0, false, no or off (any case); on otherwise."""
    raw = (os.environ if environ is None else environ).get(name)
    return raw is not None and raw.strip().lower() not in OFF_WORDS
