"""History writes on a thread of their own, so a locked database never stalls a run.

``HistoryDB.record`` takes SQLite's write lock (``BEGIN IMMEDIATE``) and may
wait up to its 30 s busy timeout while another qtui holds it.  The
supervisor's loop, which delivers events, is also the loop that enforces
timeouts and cancellation, so the history must not be written there:
``recording()`` (``qtui.store.history_db``) hands each event to a ``HistoryWriter``,
whose thread does the writing from a queue.  ``put`` never blocks.

A locked database is retried, never given up: each attempt waits at most
``RETRY_BUSY_S`` for SQLite's lock, then the thread tries again.

End of a session: ``session_finished`` closes the writer, which waits (bounded
by ``FLUSH_TIMEOUT_S``) until the queue is written.  If the database is still
locked then, what is left is written to a pending file beside it
(``qtui.store.pending_history``) and said on stderr; the thread goes on folding
that file in as soon as the lock frees, for as long as this qtui runs, and the
next qtui that opens the history folds it in otherwise.  A writer still open
at interpreter exit (a session that died) is closed the same way by ``atexit``.

Any other database error stops recording for the rest of the session (the run
goes on); the error is reported once, as a ``note`` event on the caller's
thread with the next event, and on stderr when the writer closes.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from qtui.core import events as ev
from qtui.store import pending_history, thinning


class EventStore(Protocol):
    """What the writer needs of a database (``qtui.store.history_db.HistoryDB`` is one).

    A protocol, not an import: ``history_db`` imports this module for
    ``recording()``, so the dependency runs one way only.
    """

    path: Path

    def record_within(self, event: ev.Event, busy_s: float) -> None: ...

    def import_pending(self, header: dict[str, Any], events: list[ev.Event], busy_s: float) -> None: ...

#: Longest wait, at the end of a session, for queued events to be written (seconds).
FLUSH_TIMEOUT_S = 40.0
#: After this long waiting at close, say on stderr what is being waited for.
SLOW_FLUSH_NOTICE_S = 2.0
#: Longest wait for SQLite's lock in one attempt; a locked database is retried.
RETRY_BUSY_S = 0.5
#: Between attempts to fold a pending file in, while this qtui runs.
FOLD_EVERY_S = 1.0


def _locked(exc: BaseException) -> bool:
    """SQLite's lock is held by another process (retry), not a broken database."""
    return isinstance(exc, sqlite3.OperationalError) and any(
        w in str(exc) for w in ("locked", "busy")
    )

_STOP = object()


class HistoryWriter:
    """Records events into ``db`` on a daemon thread, in the order they were put."""

    def __init__(
        self,
        db: EventStore,
        *,
        flush_timeout: float = FLUSH_TIMEOUT_S,
        stderr: IO[str] | None = None,
    ) -> None:
        self.db = db
        self.flush_timeout = flush_timeout
        self._stderr = stderr
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._put = 0  # events accepted
        self._done = 0  # events written or dropped by the thread
        self._abandon = False  # close() gave up waiting: drop what is left
        self._closed = False
        self.failure: str | None = None  # the first error, in one line
        self.written = 0
        self.unwritten = 0  # left in the queue when close() gave up waiting
        self.pending_file: Path | None = None  # where they wait for the lock
        self._spilled = threading.Event()
        self._header: dict[str, Any] = {
            "writer_host": socket.gethostname(), "writer_pid": os.getpid(),
            "writer_started": _start_token(),
        }
        self._thread = threading.Thread(target=self._loop, name="qtui-history", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    # --- caller side --------------------------------------------------------------
    def put(self, event: ev.Event) -> None:
        """Queue one event for writing; never blocks.  Ignored once closed or failed."""
        with self._cond:
            if self._closed or self.failure is not None:
                return
            self._put += 1
            if isinstance(event, ev.SessionStarted):
                self._header["session_id"] = event.session_id
        self._q.put(event)

    @property
    def pending(self) -> int:
        """Events queued but not yet written."""
        with self._cond:
            return self._put - self._done

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued event is written (or dropped after a failure)."""
        deadline = time.monotonic() + (self.flush_timeout if timeout is None else timeout)
        with self._cond:
            while self._done < self._put:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Flush (bounded wait), stop the thread; True when everything was written.

        Anything that could not be written is reported on stderr.
        """
        with self._cond:
            if self._closed:
                return self.failure is None and self._done == self._put
            self._closed = True
        atexit.unregister(self._at_exit)
        limit = self.flush_timeout if timeout is None else timeout
        ok = self.flush(min(limit, SLOW_FLUSH_NOTICE_S))
        if not ok and limit > SLOW_FLUSH_NOTICE_S:
            self._warn(
                f"waiting up to {limit - SLOW_FLUSH_NOTICE_S:.0f} s more to write "
                f"{self.pending} event(s) to {self.db.path} (locked by another process?)"
            )
            ok = self.flush(limit - SLOW_FLUSH_NOTICE_S)
        with self._cond:
            left = self._put - self._done
            if not ok:
                self._abandon = True  # the thread spills what is left, then folds it in
                self.unwritten = left
        self._q.put(_STOP)
        if ok:
            self._thread.join(timeout=1.0)
        elif self._spilled.wait(RETRY_BUSY_S + 5.0) and self.pending_file is not None:
            self._warn(
                f"{left} event(s) wait in {self.pending_file}: {self.db.path} is locked by "
                "another process; they are written when it frees (by this qtui while it runs, "
                "else by the next qtui that opens the history)"
            )
        elif left:
            self._warn(f"{left} event(s) were not written to {self.db.path} (database busy)")
        if self.failure is not None:
            self._warn(f"recording stopped: {self.failure}")
        return ok and self.failure is None

    def _at_exit(self) -> None:
        self.close()

    def _warn(self, message: str) -> None:
        out = self._stderr or sys.stderr
        with contextlib.suppress(OSError, ValueError):
            print(f"qtui: warning: history: {message}", file=out, flush=True)

    # --- writer thread ------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is _STOP:
                return
            if not self._write(item):  # close() gave up waiting: keep the rest aside
                self._spill(item)
                return
            with self._cond:
                self._done += 1
                self._cond.notify_all()

    def _write(self, item: ev.Event) -> bool:
        """Record one event, retrying while the database is locked; False once close()
        gave up waiting (the event is not written)."""
        while True:
            with self._cond:
                if self.failure is not None:
                    return True  # dropped: recording stopped
                if self._abandon:
                    return False
            try:
                self.db.record_within(item, RETRY_BUSY_S)
                self.written += 1
                return True
            except Exception as exc:  # noqa: BLE001 - boundary: kept in self.failure, warned on close; a history problem never stops a run
                if _locked(exc):
                    continue  # each attempt waited RETRY_BUSY_S
                with self._cond:
                    self.failure = str(exc) or type(exc).__name__

    def _spill(self, first: ev.Event) -> None:
        """Write ``first`` and the rest of the queue to a pending file, then fold it in
        once the lock frees (``qtui.store.pending_history``), while this process runs."""
        events = [first]
        while True:
            item = self._q.get()
            if item is _STOP:
                break
            events.append(item)
        try:
            self.pending_file = pending_history.spill(self.db.path, self._header, events)
        except OSError as exc:
            with self._cond:
                self.failure = f"could not keep the events for later ({exc})"
            return
        finally:
            self._spilled.set()
        while pending_history.waiting(self.pending_file):
            try:
                pending_history.fold(self.db, RETRY_BUSY_S, only=self.pending_file)
            except sqlite3.OperationalError:
                pass  # still locked
            except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
                return  # the database was closed: the next open folds it in
            time.sleep(FOLD_EVERY_S)


def _start_token() -> str | None:
    from qtui.engine.reaper import start_token

    return start_token(os.getpid())


class Recording:
    """The ``on_event`` wrapper ``qtui.store.history_db.recording`` returns.

    Each event is queued for the history first (so it is kept even if the
    view's callback raises), then passed on; the caller's thread never waits
    for the database.  Batches and samples the database would thin out are not
    queued at all (``qtui.store.thinning``, the same rule), so the writer thread
    wakes only for what it stores.  ``session_finished`` closes the writer after the views
    have seen it; a later ``session_started`` opens a new one.
    """

    def __init__(
        self,
        on_event: Callable[[ev.Event], None],
        db: EventStore,
        *,
        flush_timeout: float = FLUSH_TIMEOUT_S,
    ) -> None:
        self.on_event = on_event
        self.db = db
        self.flush_timeout = flush_timeout
        self.writer: HistoryWriter | None = None
        self._noted = False
        # the database's thinning state, mirrored: it restarts with each session
        self._thin_s: float = getattr(db, "thin_s", 0.0)
        self._last_kept: dict[tuple[str, str], float] = {}

    def __call__(self, event: ev.Event) -> None:
        if self.writer is None:
            self.writer = HistoryWriter(self.db, flush_timeout=self.flush_timeout)
            self._noted = False
        writer = self.writer
        if isinstance(event, ev.SessionStarted):
            self._last_kept.clear()
        if thinning.keep(self._last_kept, event, self._thin_s):
            writer.put(event)
        self._note_failure(writer)
        try:
            self.on_event(event)
        finally:
            if isinstance(event, ev.SessionFinished):
                self.close()

    def close(self) -> bool:
        """Flush and stop the writer (bounded wait); True when everything was written.

        A failure not yet reported, or events left unwritten, become a ``note``
        now (after ``session_finished``), for views that do not show stderr.
        """
        writer, self.writer = self.writer, None
        if writer is None:
            return True
        ok = writer.close()
        self._note_failure(writer)
        if writer.unwritten and writer.failure is None:
            where = (f"wait in {writer.pending_file} until it frees" if writer.pending_file
                     else "not written")
            self.on_event(
                ev.LogNote(
                    message=f"history: the database is locked by another process; "
                    f"{writer.unwritten} event(s) {where}"
                )
            )
        return ok

    def _note_failure(self, writer: HistoryWriter) -> None:
        if writer.failure is not None and not self._noted:
            self._noted = True
            self.on_event(
                ev.LogNote(message=f"history: recording stopped ({writer.failure}); the run goes on")
            )
