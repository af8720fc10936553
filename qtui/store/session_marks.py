"""A session's name, tags and note: what each may hold, and how the list shows them.

One set of rules for ``qtui history SESSION --name/--tag/--untag/--note``, the app's
history dialog and the history filter's ``tag:`` word, so that a tag one accepts
the others accept too.  Each is one line without control characters (it is shown
in tables, Markdown and terminals); a tag is a plain word, so that ``tag:x`` in a
filter and ``#x`` in the list read unambiguously.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from qtui.core.safe_text import control_in

TAG_MAX = 40
NAME_MAX = 80
NOTE_MAX = 500
TAG_RULE = f"use letters, digits, '_', '.' and '-', at most {TAG_MAX} characters"
_TAG = re.compile(r"[A-Za-z0-9_.-]+\Z")


class MarkError(ValueError):
    """A name, tag or note that cannot be stored; the message starts with its field."""


def check_tag(text: str, field: str = "tag") -> str:
    """``text`` as a tag, or ``MarkError`` naming what a tag may hold."""
    if len(text) > TAG_MAX or not _TAG.match(text):
        raise MarkError(f"{field}: {text!r} is not a tag: {TAG_RULE}")
    return text


def check_tags(texts: Iterable[str], field: str = "tag") -> tuple[str, ...]:
    """Each checked, in order, a repeated one kept once."""
    return tuple(dict.fromkeys(check_tag(t, field) for t in texts))


def split_tags(text: str) -> tuple[str, ...]:
    """Tags typed in one field (the app's dialog): separated by spaces or commas."""
    return check_tags(w for w in re.split(r"[\s,]+", text.strip()) if w)


def _one_line(field: str, text: str, limit: int) -> str | None:
    problem = control_in(text)
    if problem:
        raise MarkError(f"{field}: {problem}; a {field} is one line of text without control characters")
    text = text.strip()
    if len(text) > limit:
        raise MarkError(f"{field}: {len(text)} characters; a {field} has at most {limit}")
    return text or None


def check_name(text: str) -> str | None:
    """The name to store (None: no name, from an empty one), or ``MarkError``."""
    return _one_line("name", text, NAME_MAX)


def check_note(text: str) -> str | None:
    """The note to store (None: no note), or ``MarkError``."""
    return _one_line("note", text, NOTE_MAX)


def marks_text(session: dict[str, Any]) -> str:
    """A session's name and tags in one cell, the same in ``qtui history`` and the app:
    ``baseline #gpu #v2``."""
    parts = [str(session["name"])] if session.get("name") else []
    parts += [f"#{t}" for t in session.get("tags") or []]
    return " ".join(parts)
