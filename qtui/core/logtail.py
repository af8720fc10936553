"""Follow a JSONL event log as it grows, like ``tail -F``.

``qtui watch`` reads the log a batch job writes with ``qtui run --events``.
The writer may be mid-line, may truncate the file (``copytruncate``
rotation, a rerun with the same name), may rotate it (rename, new file), may
not have created it yet, and may never finish.  ``LogTail.poll()`` copes with
each:

* a half-written last line is kept in a buffer until its newline arrives;
* a file that does not exist yet: ``poll()`` returns nothing and waits;
* truncation (the size drops below what was read, or the first bytes
  change): reopen from the start and emit a ``note`` event;
* rotation (the name now points at another inode): finish the old file, then
  follow the new one from its start, with a ``note``;
* a malformed or unknown line becomes a ``note`` (line number, reason) and is
  skipped, never fatal; lines are decoded one by one from bytes, so one
  invalid UTF-8 byte costs its own line, not the log.

Reading is bounded per poll (``max_bytes``) so a huge backlog cannot stall a
UI thread; the rest comes on the next polls.  Even unbounded (``watch
--once``), it is read in chunks, so memory holds the events, not the file.

Only a regular file is followed: the path is opened with ``O_NONBLOCK`` and
checked (``qtui.core.paths.open_regular``), so a FIFO or device there is
never read or waited on; ``poll()`` says so once in a ``note`` and keeps
waiting for a regular file.  ``log_problem`` is the same check for a command
to refuse the path up front.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from qtui.core.events import Event, LogNote, decode
from qtui.core.paths import MAX_READ_BYTES, FileRefused, open_regular

_HEAD = 64  # bytes of the file's start remembered to spot a rewrite in place
_MAX_LINE = 16 * 1024 * 1024  # a "line" longer than this without a newline is garbage
_CHUNK = 4 * 1024 * 1024  # bytes read at once when a poll is unbounded


def log_problem(path: str | os.PathLike[str], once: bool) -> str | None:
    """Why ``path`` cannot be followed (``once``: read whole, at most 1 GiB), or None.

    A missing file is a problem only ``once`` (a follower waits for it)."""
    p = Path(path)
    if p.is_dir():
        return f"{p} is a folder, not an event log"
    try:
        os.close(open_regular(p, "event log", MAX_READ_BYTES if once else None))
    except FileNotFoundError:
        return f"{p}: no such file" if once else None
    except FileRefused as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read {p}: {exc.strerror or exc}"
    return None


class LogTail:
    """Incremental reader of one JSONL event log."""

    def __init__(
        self, path: str | os.PathLike[str], *, max_bytes: int | None = 4 * 1024 * 1024
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._f: BinaryIO | None = None
        self._ino: tuple[int, int] | None = None
        self._pos = 0
        self._buf = b""
        self._head = b""
        self._line_no = 0
        self._discarding = False  # inside an over-long line: drop up to its newline
        self._refused: str | None = None  # the path is not a regular file: said once
        self.skipped = 0
        #: True when the last poll stopped at ``max_bytes``: more is already waiting.
        self.behind = False

    @property
    def waiting(self) -> bool:
        """True while the file has not appeared yet."""
        return self._f is None

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
        self._f = None

    def _open(self, out: list[Event] | None = None) -> bool:
        try:
            fd = open_regular(self.path, "event log", limit=None)
        except FileRefused as exc:  # a FIFO or device: never read; said once, then wait
            if out is not None and self._refused != str(exc):
                out.append(LogNote(message=f"{exc}; waiting for a regular file"))
            self._refused = str(exc)
            return False
        except OSError:  # not there yet (or not readable yet): keep waiting
            return False
        self._refused = None
        f = os.fdopen(fd, "rb")
        st = os.fstat(f.fileno())
        self._f, self._ino = f, (st.st_dev, st.st_ino)
        self._pos, self._buf, self._head, self._line_no = 0, b"", b"", 0
        self._discarding = False
        return True

    def poll(self, final: bool = False) -> list[Event]:
        """Every complete event appended since the last poll.

        ``final=True`` also decodes a last line that has no newline (the
        writer is known to be done), instead of waiting for one.
        """
        out: list[Event] = []
        if self._f is None and not self._open(out):
            return out
        assert self._f is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None  # renamed away, the new one not there yet: drain the old file
        if st is not None and (st.st_dev, st.st_ino) != self._ino:
            self._read(out, limit=None)  # what the writer added before rotating
            self._flush_partial(out)
            self.close()
            self._open(out)
            out.append(LogNote(message=f"{self.path} was rotated; following the new file"))
        elif st is not None and self._truncated(st.st_size):
            self._f.seek(0)
            self._pos, self._buf, self._head, self._line_no = 0, b"", b"", 0
            self._discarding = False
            out.append(
                LogNote(message=f"{self.path} was truncated; reading it again from the start")
            )
        if self._f is not None:
            self._read(out, limit=self.max_bytes)
            if final:
                self._flush_partial(out)
        return out

    def _truncated(self, size: int) -> bool:
        if size < self._pos:
            return True
        if self._head and self._f is not None:
            # Truncated and rewritten past our position between two polls?
            return os.pread(self._f.fileno(), len(self._head), 0) != self._head
        return False

    def _read(self, out: list[Event], limit: int | None) -> None:
        assert self._f is not None
        self._f.seek(self._pos)
        if limit is not None:
            data = self._f.read(limit)
            self.behind = len(data) == limit
            self._consume(data, out)
            return
        self.behind = False
        while data := self._f.read(_CHUNK):  # memory holds events, not the file
            self._consume(data, out)

    def _consume(self, data: bytes, out: list[Event]) -> None:
        assert self._f is not None
        if not data:
            return
        self._pos += len(data)
        if len(self._head) < _HEAD:
            self._head = os.pread(self._f.fileno(), _HEAD, 0)
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        for raw in lines:
            if self._discarding:  # the tail of an over-long line, already reported
                self._discarding = False
                continue
            self._decode(raw, out)
        if len(self._buf) > _MAX_LINE:
            if not self._discarding:
                self._line_no += 1
                self.skipped += 1
                out.append(
                    LogNote(
                        message=f"line {self._line_no} skipped: over {_MAX_LINE} bytes with no newline"
                    )
                )
            self._discarding = True
            self._buf = b""

    def _flush_partial(self, out: list[Event]) -> None:
        if self._buf.strip() and not self._discarding:
            self._decode(self._buf, out)
        self._buf = b""
        self._discarding = False

    def _decode(self, raw: bytes, out: list[Event]) -> None:
        self._line_no += 1
        if not raw.strip():
            return
        event, reason = decode(raw)  # bytes: UTF-8 is checked per line
        if event is None:
            self.skipped += 1
            out.append(LogNote(message=f"line {self._line_no} skipped: {reason}"))
        else:
            out.append(event)


def follow(
    path: str | os.PathLike[str],
    on_event: Callable[[Event], None],
    stop: threading.Event,
    interval: float = 0.2,
) -> None:
    """Poll ``path`` every ``interval`` seconds until ``stop`` is set (worker-thread loop).

    On stop, one last poll with ``final=True`` delivers a trailing line that
    never got its newline.
    """
    tail = LogTail(path)
    try:
        while not stop.is_set():
            for event in tail.poll():
                on_event(event)
            if not tail.behind:
                stop.wait(interval)
        for event in tail.poll(final=True):
            on_event(event)
    finally:
        tail.close()
