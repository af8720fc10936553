"""Which sessions the history lists: one filter for ``qtui history``'s flags and the
app's ``/`` field, so that both accept the same words and mean the same by them.

Words: ``tag:TAG`` (the session has that tag), ``device:NAME`` and ``method:NAME``
(it has a run on that device / with that diff method), ``since:YYYY-MM-DD`` and
``until:YYYY-MM-DD`` (it started on or after / on or before that day, local time,
both days included), and plain words, found in the session's id, name, note or
tags (any case).  Every word must hold: ``tag:a tag:b`` lists sessions with both.
``HistoryDB.sessions(where=...)`` turns a filter into SQL.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, replace

from qtui.core.safe_text import control_in
from qtui.store.session_marks import MarkError, check_tag

DATE_FORMAT = "YYYY-MM-DD"
WORDS = (
    f"tag:TAG, device:NAME, method:NAME, since:{DATE_FORMAT}, until:{DATE_FORMAT} "
    "or plain words (found in the id, name, note or tags)"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class FilterError(ValueError):
    """A filter word that cannot be used; the message names what can."""


@dataclass(frozen=True)
class SessionFilter:
    """The words of a filter, each kind in the order given."""

    tags: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    words: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """Whether it leaves any session out."""
        return self != SessionFilter()

    def text(self) -> str:
        """The filter as words, as ``parse`` reads them (titles, the app's field)."""
        parts = [f"tag:{t}" for t in self.tags]
        parts += [f"device:{d}" for d in self.devices] + [f"method:{m}" for m in self.methods]
        parts += [f"since:{self.since}"] if self.since else []
        parts += [f"until:{self.until}"] if self.until else []
        return " ".join([*parts, *(shlex.quote(w) for w in self.words)])


def _date(key: str, value: str) -> dt.date:
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{key}: {value!r} is not a date: use {DATE_FORMAT} (2026-12-01)") from None


def _name(key: str, value: str) -> str:
    if not value:
        raise FilterError(f"{key}: give a name ({key}:{'lightning.qubit' if key == 'device' else 'adjoint'})")
    problem = control_in(value)
    if problem:
        raise FilterError(f"{key}: {problem}")
    return value


def with_word(f: SessionFilter, key: str, value: str) -> SessionFilter:
    """``f`` and one more word (``key`` among tag, device, method, since, until, or ""
    for a plain word), checked."""
    if key == "tag":
        try:
            return replace(f, tags=(*f.tags, check_tag(value)))
        except MarkError as exc:
            raise FilterError(str(exc)) from None
    if key == "device":
        return replace(f, devices=(*f.devices, _name(key, value)))
    if key == "method":
        return replace(f, methods=(*f.methods, _name(key, value)))
    if key in ("since", "until"):
        day = _date(key, value)
        out = replace(f, since=day) if key == "since" else replace(f, until=day)
        if out.since and out.until and out.since > out.until:
            raise FilterError(f"since: {out.since} is after until: {out.until}; no session can match")
        return out
    problem = control_in(value)
    if problem:
        raise FilterError(f"filter: {problem}")
    return replace(f, words=(*f.words, value))


def parse(text: str) -> SessionFilter:
    """The app's filter field: ``tag:gpu device:lightning.qubit since:2026-12-01 base``."""
    try:
        words = shlex.split(text)
    except ValueError as exc:  # an unclosed quote
        raise FilterError(f"filter: {exc}") from None
    f = SessionFilter()
    for word in words:
        key, sep, value = word.partition(":")
        if not sep:
            f = with_word(f, "", word)
        elif key in ("tag", "device", "method", "since", "until"):
            f = with_word(f, key, value)
        else:
            raise FilterError(f"{word!r} is not a filter word: use {WORDS}")
    return f


def filter_from_flags(
    *,
    tags: Iterable[str],
    devices: Iterable[str],
    methods: Iterable[str],
    since: str | None,
    until: str | None,
) -> SessionFilter:
    """``qtui history --tag/--device/--method/--since/--until``, checked as ``parse`` does."""
    f = SessionFilter()
    for key, values in (("tag", tags), ("device", devices), ("method", methods),
                        ("since", [since] if since is not None else []),
                        ("until", [until] if until is not None else [])):
        for value in values:
            f = with_word(f, key, value)
    return f
