"""Reading qtui's files from disk: a summary JSON or a JSONL event log.

One loader for every reader (``qtui report``, ``qtui compare``, ``qtui
watch --once``'s checks, ``qtui history --import`` and the exporters'
``load_summary``), so they agree on what a file is and on what is wrong
with it.  Anything wrong with the file as a whole (missing, a folder, a
device, FIFO or socket, over 1 GiB, unreadable, empty, binary, JSON that
is not a qtui summary, a summary whose fields have the wrong types, too
deeply nested, integers beyond 64 bits) raises ``LoadError`` with one line that says which file and, where it
helps, which field; the commands print it and exit 2.  Inside an event log a
bad line is reported (line number, reason) and skipped; the other lines are
kept.

The file is read as bytes and an event log is decoded line by line from
bytes, so one invalid UTF-8 byte costs one line, not the whole log.

A summary is decoded once into the typed records of
``qtui.core.summary_schema`` (the one schema: lenient on unknown and missing
fields, strict on the types of those present; version 1 files are upgraded).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from qtui.core import events as ev
from qtui.core.paths import MAX_READ_BYTES, FileRefused, read_regular
from qtui.core.summary_schema import Summary, SummaryError, parse_json

#: Refuse to load files larger than this (a summary is KBs, a long log MBs): 1 GiB.
MAX_FILE_BYTES = MAX_READ_BYTES
#: Lines scanned for an event when telling a log from a broken summary.
_SNIFF_LINES = 20


class LoadError(Exception):
    """A file cannot be read as a qtui summary or event log; one line says why."""


# --- the summary ------------------------------------------------------------------


def validate_summary(obj: Any, source: str = "input") -> Summary:
    """The records of a decoded summary (``qtui.core.summary_schema``; v1 is upgraded).

    Raises ``LoadError`` naming the first field that does not fit.
    """
    try:
        return Summary.from_builtins(obj, source)
    except SummaryError as exc:
        raise LoadError(str(exc)) from None


# --- reading -----------------------------------------------------------------------


def read_bytes(path: str | os.PathLike[str], what: str = "file") -> bytes:
    """The file's bytes, or ``LoadError``: missing, a folder, a device, FIFO or
    socket, unreadable, over ``MAX_FILE_BYTES`` (``qtui.core.paths.read_regular``:
    stat first, ``O_NONBLOCK``, a bounded read, so nothing blocks or grows)."""
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            raise LoadError(f"{p} is a folder, not a {what}")
        return read_regular(p, what)
    except FileRefused as exc:
        raise LoadError(str(exc)) from None
    except FileNotFoundError:
        raise LoadError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{p} is a folder, not a {what}") from None
    except OSError as exc:
        raise LoadError(f"cannot read {p}: {exc.strerror or exc}") from None


@dataclass
class EventLog:
    """What a JSONL event log held: its events, and the lines that were skipped."""

    events: list[ev.Event] = field(default_factory=list)
    #: "line N: reason", one per skipped line, in file order.
    problems: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.problems)


def parse_log(data: bytes) -> EventLog:
    """Decode every line of ``data``; bad lines become ``problems``, never errors."""
    log = EventLog()
    for n, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        event, reason = ev.decode(raw)
        if event is None:
            log.problems.append(f"line {n}: {reason}")
        else:
            log.events.append(event)
    return log


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _looks_like_event(line: bytes) -> bool:
    try:
        head = msgspec.json.decode(line)
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested too deep: "no"
        return False
    return isinstance(head, dict) and isinstance(head.get("type"), str) and "v" in head


def is_event_log(data: bytes) -> bool:
    """True when one of the first non-empty lines is a qtui event."""
    seen = 0
    for line in data.split(b"\n", 200)[:200]:
        if not line.strip():
            continue
        if _looks_like_event(line.strip()):
            return True
        seen += 1
        if seen >= _SNIFF_LINES:
            break
    return False


def load_events(path: str | os.PathLike[str]) -> EventLog:
    """A JSONL event log; ``LoadError`` when the file is unusable or holds no event."""
    p = Path(path).expanduser()
    data = _strip_bom(read_bytes(p, "event log"))
    if not data.strip():
        raise LoadError(f"{p} is empty")
    log = parse_log(data)
    if not log.events:
        first = log.problems[0] if log.problems else "no lines"
        raise LoadError(f"{p} holds no qtui events ({first})")
    return log


def fold(log: EventLog, source: str) -> Summary:
    """The summary of an event log, with a note for the lines skipped."""
    from qtui.analysis.fold import SessionSummary
    from qtui.analysis.summary_builder import document

    summary = SessionSummary()
    for event in log.events:
        summary.apply(event)
    if log.problems:
        shown = "; ".join(log.problems[:3]) + (" ..." if len(log.problems) > 3 else "")
        summary.notes.append(
            f"{len(log.problems)} malformed line(s) in {source} were skipped ({shown})"
        )
    return document(summary)


def load_summary(path: str | os.PathLike[str]) -> Summary:
    """A summary JSON (validated) or a JSONL event log (folded into a summary).

    Raises ``LoadError`` with one line for anything wrong with the file as a
    whole; malformed lines of a log are skipped and noted in the summary.
    """
    p = Path(path).expanduser()
    data = _strip_bom(read_bytes(p, "summary file"))
    if not data.strip():
        raise LoadError(f"{p} is empty")
    try:
        obj = parse_json(data)
    except ValueError as exc:
        if is_event_log(data):
            return fold(parse_log(data), str(p))
        if b"\x00" in data[:4096] or str(exc).startswith("not UTF-8"):
            raise LoadError(f"{p} is not a qtui summary (binary data, not UTF-8 text)") from None
        raise LoadError(f"{p} is not valid JSON ({exc})") from None
    if isinstance(obj, dict) and "type" in obj and "v" in obj and "schema" not in obj:
        return fold(parse_log(data), str(p))  # a one-line event log
    return validate_summary(obj, str(p))
