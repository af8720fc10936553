"""The session's ``--events`` log, which a failed open or write never ends.

A disk that fills, a file past the size limit (``EFBIG``), a name too long
(``ENAMETOOLONG``) or a path refused at open: the log degrades as ``--json``
does.  The asked file keeps the whole lines written before the failure; they
are copied to ``<data folder>/events/<name>.<session>.jsonl``
(whole lines only), the log goes on there, and the supervisor delivers a note
saying why and where; the run in progress and the queue go on.  If the
fallback fails too, the note says the log stops, and the session still goes on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from qtui.core.paths import data_dir

#: Longest stem kept from the asked name in the fallback's name (a 300-character
#: name is one of the failures this is for).
_STEM_KEEP = 80


def fallback_events_path(asked: Path, session_id: str) -> Path:
    """``<data folder>/events/<stem>.<session id>.jsonl`` (created 0700)."""
    folder = data_dir() / "events"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / f"{asked.stem[:_STEM_KEEP] or 'events'}.{session_id}.jsonl"


#: The moved note ends with this and the new path (``moved_to``).
_GOES_ON = "; it goes on in "


def moved_to(notes: list[str]) -> str | None:
    """Where the log went on, read from a session's notes (the console's last line
    names it instead of the asked path); None when it never moved."""
    for note in notes:
        if note.startswith("could not write the events log (") and _GOES_ON in note:
            return note.rsplit(_GOES_ON, 1)[1]
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class EventLog:
    """Writes whole lines to ``path`` (opened by ``opener``), or to the fallback once it fails.

    ``write`` returns a note to deliver when this line moved the log (None otherwise).
    Writes go straight to the descriptor (no buffer a failed flush could leave half
    written and retry at close).
    """

    def __init__(self, path: Path, opener: Callable[[Path], IO[bytes]], session_id: str) -> None:
        self.path = path
        self.session_id = session_id
        self.written = 0  # bytes of whole lines in ``path``
        self.moved_to: Path | None = None
        self.stopped = False
        self._file: IO[bytes] | None = None
        self._open_error: str | None = None
        try:
            self._file = opener(path)
        except OSError as exc:
            self._open_error = _why(exc)

    def write(self, line: bytes) -> str | None:
        """Write one line; a note when the log just moved (or stopped)."""
        if self.stopped:
            return None
        if self._file is not None:
            try:
                _write_all(self._file.fileno(), line)
                self.written += len(line)
                return None
            except OSError as exc:
                return self._move(line, _why(exc))
        if self._open_error is not None:
            why, self._open_error = self._open_error, None
            return self._move(line, why)
        return None

    def _move(self, line: bytes, why: str) -> str:
        """Copy the whole lines written so far and ``line`` to the fallback; go on there."""
        old = self._file
        self._file = None
        if old is not None:  # no half line left in the asked file
            with contextlib.suppress(OSError):
                os.ftruncate(old.fileno(), self.written)
        try:
            target = fallback_events_path(self.path, self.session_id)
            new = open(target, "wb")  # noqa: SIM115 - kept open for the session
        except OSError as exc:
            self.stopped = True
            self._close(old)
            return (f"could not write the events log {self.path} ({why}), nor a fallback "
                    f"({_why(exc)}); the session goes on without one")
        try:
            copied = self._copy_written(new)
            _write_all(new.fileno(), line)
        except OSError as exc:
            self.stopped = True
            self._close(old)
            self._close(new)
            return (f"could not write the events log {self.path} ({why}), nor its fallback "
                    f"{target} ({_why(exc)}); the session goes on without one")
        self._close(old)
        self._file = new
        self.path, self.written, self.moved_to = target, copied + len(line), target
        return f"could not write the events log ({why}){_GOES_ON}{target}"

    def _copy_written(self, new: IO[bytes]) -> int:
        """The whole lines already in the asked file, read back; 0 when none or unreadable."""
        if not self.written:
            return 0
        left = self.written
        try:
            src = open(self.path, "rb")  # noqa: SIM115
        except OSError:
            return 0
        with src:
            while left:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    break
                _write_all(new.fileno(), chunk)
                left -= len(chunk)
        return self.written - left

    @staticmethod
    def _close(f: IO[bytes] | None) -> None:
        if f is not None:
            with contextlib.suppress(OSError):
                f.close()

    def close(self) -> None:
        self._close(self._file)
        self._file = None


def _why(exc: OSError) -> str:
    """``No space left on device``, ``File name too long``: the OS's words, one line."""
    if exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
