"""Run history: every session's events in an embedded SQLite database.

Where: ``platformdirs.user_data_dir("qtui")/history.sqlite3``; the environment
variable ``QTUI_DATA_DIR`` names another folder (tests, shared accounts).

Why events, not results: the summary is rebuilt by replaying the stored
events through ``SessionSummary``, so ``qtui history`` and the TUI's history
screen show exactly what the live session showed, and a session that died
mid-run still has everything measured up to its last event.

Durability: each event is committed as it arrives (WAL mode, synchronous
NORMAL: a killed qtui loses nothing already recorded; only a power cut can
drop the last few commits).  Every epoch, warning and terminal event is
written immediately.  ``batch`` and ``sample`` events are thinned to at most
one per run per ``thin_s`` seconds (default 1 s) to keep the file small: the
summary does not need them, and a history graph at 1 Hz is plenty.

Concurrency: SQLite's WAL plus a busy timeout lets several qtui processes
write at once; each event is one short transaction.  A run table (one row
per run, updated on each lifecycle event) answers listings without a replay.

Schema versioned with ``PRAGMA user_version``; a database from a newer qtui
is refused with a clear error rather than misread.

Sessions cut off: each session row names the process recording it (host,
pid, and the process's start, so a recycled pid is not taken for the same
process).  Whenever a qtui opens the database, sessions of this host whose
recording process is gone without a ``session_finished`` (SIGKILL, a closed
terminal, a power cut) are closed: their unfinished runs become ``lost``
(``run_cancelled`` with a reason that starts ``lost:``, state ``lost`` in the
run table) and the session ``interrupted``, at the time of its last event.

Privacy: the database holds command lines, host names, paths and tracebacks,
so a missing data folder is created 0700 and a new database (and with it
SQLite's ``-wal``/``-shm``, which take the database's mode) 0600, whatever
the umask.  Existing folders and files keep their modes (a folder shared on
purpose through ``QTUI_DATA_DIR`` stays shared).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from qtui.core import events as ev
from qtui.core.parameters import combo_name
from qtui.core.paths import DATA_DIR_ENV, data_dir
from qtui.core.run_states import LEFT_RUNNING, OPEN_STATES, end_state
from qtui.core.summary_schema import Summary
from qtui.engine.reaper import is_running, start_token
from qtui.store import session_outputs, thinning
from qtui.store.history_filter import SessionFilter
from qtui.store.pending_history import fold as fold_pending
from qtui.store.session_marks import check_name, check_note, check_tags

SCHEMA_VERSION = 1
DB_NAME = "history.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id   TEXT PRIMARY KEY,
    started_t    REAL NOT NULL,
    finished_t   REAL,
    interrupted  INTEGER NOT NULL DEFAULT 0,
    host         TEXT,
    qtui_version TEXT,
    argv         TEXT,
    planned_runs INTEGER NOT NULL DEFAULT 0,
    writer_host  TEXT,
    writer_pid   INTEGER,
    last_t       REAL,
    writer_started TEXT,
    name         TEXT,
    note         TEXT
);
CREATE TABLE IF NOT EXISTS session_tags (
    session_id TEXT NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
);
CREATE TABLE IF NOT EXISTS runs (
    session_id   TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    device       TEXT,
    diff_method  TEXT,
    repeat_index INTEGER,
    parameters   TEXT,
    state        TEXT NOT NULL DEFAULT 'queued',
    started_t    REAL,
    ended_t      REAL,
    epochs_done  INTEGER NOT NULL DEFAULT 0,
    last_loss    REAL,
    train_s      REAL,
    accuracy     REAL,
    final_loss   REAL,
    core_s       REAL,
    cores_in_use REAL,
    peak_rss     INTEGER,
    peak_threads INTEGER,
    warnings     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    PRIMARY KEY (session_id, run_id)
);
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    run_id     TEXT,
    type       TEXT NOT NULL,
    t          REAL NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events (session_id, id);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_t);
"""



def _columns() -> dict[str, set[str]]:
    """The columns of schema v1's tables (what a qtui history must have; columns added
    since are added on open)."""
    mem = sqlite3.connect(":memory:")
    try:
        mem.executescript(_SCHEMA)
        out = {
            t: {r[1] for r in mem.execute(f"PRAGMA table_info({t})")}
            for t in ("sessions", "runs", "events")
        }
    finally:
        mem.close()
    out["sessions"] -= _ADDED_COLUMNS
    return out


#: Columns of ``sessions`` added since schema v1 (``_add_columns``): the session's
#: recording process's start, and the name and note a user gives it.
_ADDED_COLUMNS = frozenset({"writer_started", "name", "note"})
_TAGS_TABLE = (
    "CREATE TABLE IF NOT EXISTS session_tags (session_id TEXT NOT NULL, tag TEXT NOT NULL,"
    " PRIMARY KEY (session_id, tag))"
)


class HistoryError(Exception):
    """The history database cannot be used; the message says why in one line."""


def default_path() -> Path:
    return data_dir() / DB_NAME


class HistoryDB:
    """One connection to the history database; safe to share between threads."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, thin_s: float = 1.0
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.thin_s = thin_s
        self._lock = threading.RLock()
        self._session_id: str | None = None
        self._skip_session = False
        self._last_kept: dict[tuple[str, str], float] = {}
        self._warn_counts: dict[str, dict[tuple[Any, ...], int]] = {}
        self._bulk = False  # inside import_events' one transaction
        self._marks = False  # the database holds names, notes and tags (_add_columns)
        try:
            _private_folder(self.path.parent)
            _private_file(self.path)
            self._conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open history database {self.path}: {exc}") from exc
        self._setup()

    # setup -------------------------------------------------------------------
    def _setup(self) -> None:
        c = self._conn
        try:
            c.execute("PRAGMA busy_timeout = 30000")
            self._refuse_foreign()  # before anything is written to it (WAL mode included)
            for attempt in range(50):
                try:
                    mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError as exc:  # locked while another process sets up
                    if "locked" not in str(exc) or attempt == 49:
                        raise
                    time.sleep(0.05)
            if str(mode).lower() != "wal":
                raise HistoryError(
                    f"history database {self.path}: WAL mode unavailable (journal mode {mode}); "
                    "is it on a network file system?"
                )
            c.execute("PRAGMA synchronous = NORMAL")
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"history database {self.path} is from a newer qtui (schema v{version}, "
                    f"this qtui knows v{SCHEMA_VERSION}); upgrade qtui or set {DATA_DIR_ENV}"
                )
            if version < SCHEMA_VERSION:
                with self._tx():
                    # Re-read inside the write lock: another process may have done it.
                    if c.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                        # Statement by statement: executescript() would commit early.
                        for stmt in _SCHEMA.split(";"):
                            if stmt.strip():
                                c.execute(stmt)
                        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._add_columns()
            with contextlib.suppress(sqlite3.OperationalError):  # locked, read-only: later
                fold_pending(self)  # sessions a locked database could not take in time
            with contextlib.suppress(sqlite3.OperationalError):  # read-only: listed as incomplete
                self.close_lost_sessions()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"history database {self.path} is unusable: {exc}") from exc

    def _refuse_foreign(self) -> None:
        """Refuse, by reading only, a file that is not this qtui's history: not SQLite, a
        newer schema, or another program's tables.  An empty database is a new one."""
        c = self._conn
        try:
            tables = {r[0] for r in c.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )}
            version = c.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"history database {self.path} is not a SQLite database ({exc})") from None
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"history database {self.path} is from a newer qtui (schema v{version}, "
                f"this qtui knows v{SCHEMA_VERSION}); upgrade qtui or set {DATA_DIR_ENV}"
            )
        if not tables and version == 0:
            return  # new
        expected = _columns()
        missing = [t for t in expected if t not in tables] or [
            f"{table}.{col}" for table, cols in expected.items()
            for col in sorted(cols - {r[1] for r in c.execute(f"PRAGMA table_info({table})")})
        ]
        if missing:
            found = ", ".join(sorted(tables)[:5]) or "none"
            raise HistoryError(
                f"{self.path} is not a qtui history database (schema v{version}, tables: "
                f"{found}; missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}); "
                f"nothing was written to it"
            )

    def _add_columns(self) -> None:
        """Columns and tables added since schema v1 (without a version bump: an older qtui
        reads on, and never sees the names, notes and tags): ``writer_started``; a
        session's ``name`` and ``note``, and the ``session_tags`` table.  A database that
        cannot take them (read-only) is still read, without names, notes and tags."""

        def missing() -> list[str]:
            cols = {r[1] for r in self._conn.execute("PRAGMA table_info(sessions)")}
            tables = {r[0] for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )}
            return sorted(_ADDED_COLUMNS - cols) + (
                [] if "session_tags" in tables else ["session_tags"]
            )

        if "writer_started" in missing():
            with self._tx() as c:
                if "writer_started" in missing():
                    c.execute("ALTER TABLE sessions ADD COLUMN writer_started TEXT")
        if missing():
            with contextlib.suppress(sqlite3.OperationalError), self._tx() as c:  # read-only
                for name in missing():
                    c.execute(
                        _TAGS_TABLE if name == "session_tags"
                        else f"ALTER TABLE sessions ADD COLUMN {name} TEXT"
                    )
        self._marks = not missing()

    def close_lost_sessions(self) -> list[str]:
        """Close the sessions of this host whose recording qtui is gone; returns their ids.

        Their runs that had not ended become ``lost``; see the module docstring.
        """
        host = socket.gethostname()
        open_rows = self._query(
            "SELECT session_id, writer_pid, writer_started, started_t FROM sessions"
            " WHERE finished_t IS NULL AND writer_host = ?",
            (host,),
        )
        closed: list[str] = []
        for row in open_rows:
            if _writer_alive(row["writer_pid"], row["writer_started"], row["started_t"]):
                continue
            sid = row["session_id"]
            with self._tx() as c:
                again = c.execute(
                    "SELECT started_t FROM sessions WHERE session_id = ? AND finished_t IS NULL",
                    (sid,),
                ).fetchone()
                if again is None:
                    continue  # another qtui closed it meanwhile
                # The latest event time (events are not stored in time order: samples).
                latest = c.execute(
                    "SELECT MAX(t) FROM events WHERE session_id = ?", (sid,)
                ).fetchone()[0]
                t = latest if latest is not None else again[0]
                reason = (
                    f"lost: the qtui recording this session (pid {row['writer_pid']} on {host}) "
                    "ended without finishing it (killed, or its terminal closed)"
                )
                runs = [
                    r[0]
                    for r in c.execute(
                        "SELECT run_id FROM runs WHERE session_id = ?"
                        " AND state IN ('queued', 'running') ORDER BY rowid",
                        (sid,),
                    )
                ]
                synthetic: list[ev.Event] = [
                    ev.RunCancelled(run_id=run_id, reason=reason, t=t) for run_id in runs
                ]
                synthetic.append(ev.SessionFinished(session_id=sid, interrupted=True, t=t))
                for event in synthetic:
                    c.execute(
                        "INSERT INTO events (session_id, run_id, type, t, data) VALUES (?,?,?,?,?)",
                        (sid, getattr(event, "run_id", None), event.type, event.t, event.to_json()),
                    )
                for run_id in runs:
                    c.execute(
                        "UPDATE runs SET state = 'lost', ended_t = ?, error = ?"
                        " WHERE session_id = ? AND run_id = ?",
                        (t, json.dumps({"state": "lost", "reason": reason}), sid, run_id),
                    )
                c.execute(
                    "UPDATE sessions SET finished_t = ?, interrupted = 1 WHERE session_id = ?",
                    (t, sid),
                )
            closed.append(sid)
        return closed

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front (no upgrade deadlocks).

        Inside ``import_events`` it is part of that call's one transaction.
        """
        with self._lock:
            if self._bulk:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HistoryDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # recording ---------------------------------------------------------------
    @property
    def session_id(self) -> str | None:
        """The session this connection is recording into."""
        return self._session_id

    @contextmanager
    def _busy(self, seconds: float | None) -> Iterator[None]:
        """SQLite's busy timeout set to ``seconds`` for what runs inside (30 s otherwise)."""
        with self._lock:
            if seconds is None:
                yield
                return
            self._conn.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")
            try:
                yield
            finally:
                self._conn.execute("PRAGMA busy_timeout = 30000")

    def record_within(self, event: ev.Event, busy_s: float) -> None:
        """``record``, waiting at most ``busy_s`` for the write lock (the history writer
        retries a locked database itself, so it is never stuck in one long wait)."""
        with self._busy(busy_s):
            self.record(event)

    def record(self, event: ev.Event) -> None:
        """Store one event (thinning batches and samples); commits before returning."""
        with self._lock:  # the session it goes to is read and written under the lock
            self._record(event)

    def import_pending(self, header: dict[str, Any], events: list[ev.Event], busy_s: float) -> None:
        """Fold in a session's events that waited in a pending file
        (``qtui.store.pending_history``): one transaction, this connection's own
        session left as it was.  Without ``session_finished`` among them, the session
        keeps its original writer, so it is closed as interrupted once that one is gone."""
        sid = str(header.get("session_id") or "")
        with self._busy(busy_s):
            saved = (self._session_id, self._skip_session, dict(self._last_kept),
                     {k: dict(v) for k, v in self._warn_counts.items()})
            try:
                self._session_id, self._skip_session = (sid or None), False
                self.import_events(events)
                if sid and not any(isinstance(e, ev.SessionFinished) for e in events):
                    with self._tx() as c:
                        c.execute(
                            "UPDATE sessions SET writer_host = ?, writer_pid = ?, writer_started = ?"
                            " WHERE session_id = ?",
                            (header.get("writer_host"), header.get("writer_pid"),
                             header.get("writer_started"), sid),
                        )
            finally:
                (self._session_id, self._skip_session, self._last_kept, self._warn_counts) = saved
        with contextlib.suppress(sqlite3.OperationalError):
            self.close_lost_sessions()

    def _record(self, event: ev.Event) -> None:
        if isinstance(event, ev.SessionStarted):
            self._start_session(event)
            return
        if self._skip_session:
            return
        if self._session_id is None:
            # A stream without its session_started (a watch joined late): file it
            # under a session of its own so nothing is dropped.
            self._start_session(
                ev.SessionStarted(
                    session_id=f"unknown-{uuid.uuid4().hex[:8]}",
                    machine={},
                    qtui_version="",
                    t=event.t,
                )
            )
        sid = self._session_id
        assert sid is not None
        run_id = getattr(event, "run_id", None)
        if not thinning.keep(self._last_kept, event, self.thin_s):
            return
        with self._tx() as c:
            c.execute(
                "INSERT INTO events (session_id, run_id, type, t, data) VALUES (?, ?, ?, ?, ?)",
                (sid, run_id, event.type, event.t, event.to_json()),
            )
            c.execute("UPDATE sessions SET last_t = ? WHERE session_id = ?", (event.t, sid))
            self._update_tables(c, sid, event)

    def import_events(self, events: Iterable[ev.Event]) -> int:
        """Record a whole event log in one transaction: all of it or, on any error, nothing.

        ``qtui history --import`` uses it, so a log that fails part-way leaves
        no partial session behind.  ``note`` events are not stored.  Returns
        the number of events offered for recording (thinning still applies).
        """
        with self._lock:
            saved = (
                self._session_id,
                self._skip_session,
                dict(self._last_kept),
                {k: dict(v) for k, v in self._warn_counts.items()},
            )
            self._conn.execute("BEGIN IMMEDIATE")
            self._bulk = True
            n = 0
            try:
                for event in events:
                    if event.type != "note":
                        self.record(event)
                        n += 1
            except BaseException:
                self._conn.execute("ROLLBACK")
                (self._session_id, self._skip_session, self._last_kept, self._warn_counts) = saved
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._bulk = False
        return n

    def _start_session(self, event: ev.SessionStarted) -> None:
        self._last_kept.clear()
        self._warn_counts.clear()
        with self._tx() as c:
            cur = c.cursor()
            cur.row_factory = sqlite3.Row
            row = cur.execute(
                "SELECT * FROM sessions WHERE session_id = ?", (event.session_id,)
            ).fetchone()
            known = dict(c.execute(
                "SELECT run_id, state FROM runs WHERE session_id = ?", (event.session_id,)
            ).fetchall())
            states = list(known.values())
            self._session_id = event.session_id
            writer = (socket.gethostname(), os.getpid(), start_token(os.getpid()))
            new_runs = [s for s in event.runs if s.get("run_id") and s["run_id"] not in known]
            if row is not None and new_runs and len(new_runs) == len(event.runs) and (
                (row["writer_host"], row["writer_pid"], row["writer_started"]) == writer
            ):
                # The app's next Start: one app session is one session, here as in its
                # export (issue 23, item 5); the new runs join the row.
                self._skip_session = False
                c.execute(
                    "UPDATE sessions SET finished_t = NULL, interrupted = 0,"
                    " planned_runs = planned_runs + ?, last_t = ? WHERE session_id = ?",
                    (len(new_runs), event.t, event.session_id),
                )
                self._record_start(c, event)
                return
            if row is not None and not _reopens(dict(row), states):
                # Already recorded (e.g. watching a log its own qtui also recorded):
                # recording it twice would double every run.
                self._skip_session = True
                return
            self._skip_session = False
            if row is not None:
                # Re-attached (qtui watch --jobs-dir): the jobs' logs are read again from
                # their start, so what this session records replaces what the one that
                # left them recorded, in the same row (issue 22, item 5).
                c.execute("DELETE FROM events WHERE session_id = ?", (event.session_id,))
                c.execute("DELETE FROM runs WHERE session_id = ?", (event.session_id,))
                c.execute(
                    "UPDATE sessions SET finished_t = NULL, interrupted = 0, planned_runs = ?,"
                    " writer_host = ?, writer_pid = ?, writer_started = ?, last_t = ?"
                    " WHERE session_id = ?",
                    (len(event.runs), *writer, event.t, event.session_id),
                )
            else:
                c.execute(
                    "INSERT INTO sessions (session_id, started_t, host, qtui_version, argv, "
                    "planned_runs, writer_host, writer_pid, writer_started, last_t)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        event.session_id,
                        event.t,
                        event.machine.get("hostname") or event.machine.get("node"),
                        event.qtui_version,
                        json.dumps(event.argv),
                        len(event.runs),
                        *writer,
                        event.t,
                    ),
                )
            self._record_start(c, event)

    def _record_start(self, c: sqlite3.Connection, event: ev.SessionStarted) -> None:
        c.execute(
            "INSERT INTO events (session_id, run_id, type, t, data) VALUES (?, NULL, ?, ?, ?)",
            (event.session_id, event.type, event.t, event.to_json()),
        )
        for spec in event.runs:
            self._upsert_run(c, event.session_id, spec)

    def _upsert_run(self, c: sqlite3.Connection, sid: str, spec: dict[str, Any]) -> None:
        run_id = spec.get("run_id")
        if not run_id:
            return
        params = {"device": spec.get("device"), "diff_method": spec.get("diff_method")}
        params.update(spec.get("params") or {})
        c.execute(
            "INSERT INTO runs (session_id, run_id, device, diff_method, repeat_index, parameters)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT (session_id, run_id) DO UPDATE SET"
            " device = excluded.device, diff_method = excluded.diff_method,"
            " repeat_index = excluded.repeat_index, parameters = excluded.parameters",
            (
                sid,
                run_id,
                spec.get("device"),
                spec.get("diff_method"),
                int(spec.get("repeat_index") or 0),
                json.dumps(params),
            ),
        )

    def _update_tables(self, c: sqlite3.Connection, sid: str, event: ev.Event) -> None:
        if isinstance(event, ev.SessionFinished):
            c.execute(
                "UPDATE sessions SET finished_t = ?, interrupted = ? WHERE session_id = ?",
                (event.t, int(event.interrupted), sid),
            )
            return
        run_id = getattr(event, "run_id", None)
        if not run_id:
            return
        if isinstance(event, (ev.RunQueued, ev.RunStarted)):
            self._upsert_run(c, sid, {**event.spec, "run_id": run_id})
        else:
            c.execute("INSERT OR IGNORE INTO runs (session_id, run_id) VALUES (?, ?)", (sid, run_id))
        q = "UPDATE runs SET {} WHERE session_id = ? AND run_id = ?"
        if isinstance(event, ev.RunStarted):
            c.execute(q.format("state = 'running', started_t = ?"), (event.t, sid, run_id))
        elif isinstance(event, ev.Epoch):
            c.execute(
                q.format("state = 'running', epochs_done = MAX(epochs_done, ?), last_loss = ?"),
                (event.epoch, event.mean_loss, sid, run_id),
            )
        elif isinstance(event, ev.WarningSeen):
            counts = self._warn_counts.setdefault(run_id, {})
            counts[event.key] = event.count
            c.execute(q.format("warnings = ?"), (sum(counts.values()), sid, run_id))
        elif isinstance(event, ev.RunFinished):
            c.execute(
                q.format(
                    "state = 'finished', ended_t = ?, train_s = ?, accuracy = ?, final_loss = ?,"
                    " core_s = ?, cores_in_use = ?, peak_rss = ?, peak_threads = ?,"
                    " warnings = MAX(warnings, ?), epochs_done = ?"
                ),
                (
                    event.t,
                    event.train_s,
                    event.accuracy,
                    _finite(event.final_loss),
                    event.core_s,
                    event.cores_in_use,
                    event.peak_rss,
                    event.peak_threads,
                    event.warnings,
                    len(event.epoch_losses),
                    sid,
                    run_id,
                ),
            )
        elif event.type in ev.TERMINAL_TYPES:
            data = {k: v for k, v in event.to_dict().items() if k not in ("t", "v", "type")}
            data["state"] = end_state(event)
            c.execute(
                q.format("state = ?, ended_t = ?, error = ?"),
                (data["state"], event.t, json.dumps(data), sid, run_id),
            )

    # reading -----------------------------------------------------------------
    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.cursor()
            cur.row_factory = sqlite3.Row
            return cur.execute(sql, args).fetchall()

    def sessions(self, limit: int = 50, where: SessionFilter | None = None) -> list[dict[str, Any]]:
        """Past sessions, newest first, with run counts per state, combinations, and the
        name, tags and note given them; only those ``where`` keeps, when given."""
        clauses, args = self._filter_sql(where or SessionFilter())
        rows = self._query(
            f"SELECT * FROM sessions s{' WHERE ' + ' AND '.join(clauses) if clauses else ''}"
            " ORDER BY started_t DESC, rowid DESC LIMIT ?",
            (*args, limit),
        )
        return [self._session_dict(row) for row in rows]

    def count_sessions(self) -> int:
        """How many sessions the history holds (what a filter chose among)."""
        return int(self._query("SELECT COUNT(*) AS n FROM sessions")[0]["n"])

    def _filter_sql(self, f: SessionFilter) -> tuple[list[str], list[Any]]:
        """``f`` as SQL conditions on ``sessions s`` (``qtui.store.history_filter``)."""
        clauses: list[str] = []
        args: list[Any] = []
        if not self._marks and (f.tags or f.words):
            # no names, notes or tags stored: a tag matches nothing, a word only the id
            clauses += ["0"] if f.tags else []
            for word in f.words:
                clauses.append("instr(lower(s.session_id), ?) > 0")
                args.append(word.lower())
            f = SessionFilter(devices=f.devices, methods=f.methods, since=f.since, until=f.until)
        for tag in f.tags:
            clauses.append(
                "EXISTS (SELECT 1 FROM session_tags t WHERE t.session_id = s.session_id AND t.tag = ?)"
            )
            args.append(tag)
        for column, names in (("device", f.devices), ("diff_method", f.methods)):
            for name in names:
                clauses.append(
                    f"EXISTS (SELECT 1 FROM runs r WHERE r.session_id = s.session_id AND r.{column} = ?)"
                )
                args.append(name)
        if f.since is not None:
            clauses.append("s.started_t >= ?")
            args.append(_midnight(f.since))
        if f.until is not None:
            clauses.append("s.started_t < ?")
            args.append(_midnight(f.until + dt.timedelta(days=1)))
        for word in f.words:
            clauses.append(
                "(instr(lower(s.session_id), ?) > 0 OR instr(lower(coalesce(s.name, '')), ?) > 0"
                " OR instr(lower(coalesce(s.note, '')), ?) > 0 OR EXISTS (SELECT 1 FROM"
                " session_tags t WHERE t.session_id = s.session_id AND instr(lower(t.tag), ?) > 0))"
            )
            args += [word.lower()] * 4
        return clauses, args

    def session(self, session_id: str) -> dict[str, Any]:
        """One session as ``sessions()`` lists it."""
        rows = self._query("SELECT * FROM sessions WHERE session_id = ?", (session_id,))
        if not rows:
            raise HistoryError(f"no session {session_id!r} in the history ({self.path})")
        return self._session_dict(rows[0])

    def _session_dict(self, row: sqlite3.Row) -> dict[str, Any]:
        d = dict(row)
        runs = self._query(
            "SELECT device, diff_method, state, parameters FROM runs WHERE session_id = ?",
            (d["session_id"],),
        )
        states: dict[str, int] = {}
        combos: list[str] = []
        for r in runs:
            states[r["state"]] = states.get(r["state"], 0) + 1
            # as every view names it: a qtui exec run by its script (not script+script)
            combo = combo_name({**_parameters(r["parameters"]), "device": r["device"],
                                "diff_method": r["diff_method"]})
            if r["device"] and combo not in combos:
                combos.append(combo)
        d["argv"] = json.loads(d["argv"] or "[]")
        d["interrupted"] = bool(d["interrupted"])
        d["n_runs"] = len(runs)
        d["states"] = states
        d["combos"] = combos
        d["status"] = _session_status(d)
        d.setdefault("name", None)
        d.setdefault("note", None)
        d["tags"] = self.tags(d["session_id"])
        return d

    def tags(self, session_id: str) -> list[str]:
        """The session's tags, in the order they were given."""
        if not self._marks:
            return []
        rows = self._query(
            "SELECT tag FROM session_tags WHERE session_id = ? ORDER BY rowid", (session_id,)
        )
        return [str(r["tag"]) for r in rows]

    # names, tags, notes; deleting ----------------------------------------------
    def mark(
        self,
        session_id: str,
        *,
        name: str | None = None,
        note: str | None = None,
        tag: Iterable[str] = (),
        untag: Iterable[str] = (),
        tags: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Name, note and tag a session in one transaction; returns it as listed.

        ``name``/``note``: None leaves it, ``""`` removes it.  ``tag`` adds, ``untag``
        removes, ``tags`` replaces the whole set (the app's dialog).  Each is checked by
        ``qtui.store.session_marks`` (``MarkError``) before anything is written.
        """
        new_name = None if name is None else check_name(name)
        new_note = None if note is None else check_note(note)
        add, drop = check_tags(tag), check_tags(untag, "untag")
        whole = None if tags is None else check_tags(tags)
        if not self._marks:
            raise HistoryError(
                f"history database {self.path} cannot take names, notes and tags "
                "(read-only?); nothing was written to it"
            )
        with self._tx() as c:
            if c.execute(
                "SELECT 1 FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone() is None:
                raise HistoryError(f"no session {session_id!r} in the history ({self.path})")
            if name is not None:
                c.execute("UPDATE sessions SET name = ? WHERE session_id = ?", (new_name, session_id))
            if note is not None:
                c.execute("UPDATE sessions SET note = ? WHERE session_id = ?", (new_note, session_id))
            if whole is not None:
                c.execute("DELETE FROM session_tags WHERE session_id = ?", (session_id,))
                add = whole
            for t in drop:
                c.execute(
                    "DELETE FROM session_tags WHERE session_id = ? AND tag = ?", (session_id, t)
                )
            for t in add:
                c.execute(
                    "INSERT OR IGNORE INTO session_tags (session_id, tag) VALUES (?, ?)",
                    (session_id, t),
                )
        return self.session(session_id)

    def delete_session(self, session_id: str) -> Deleted:
        """Remove a session, its runs, events and tags in one transaction, then its
        ``qtui exec`` output folder (``qtui.store.session_outputs``: only that session's,
        a real folder in the data folder's ``outputs``).  A session a live qtui still
        records is refused: its next event would bring back runs without a session."""
        session = self.session(session_id)
        if session["status"] == "running":
            raise HistoryError(
                f"session {session_id} is still being recorded by the qtui running as pid "
                f"{session.get('writer_pid')} on {session.get('writer_host')}: delete it once "
                "that session has ended"
            )
        with self._tx() as c:
            runs = c.execute("DELETE FROM runs WHERE session_id = ?", (session_id,)).rowcount
            events = c.execute("DELETE FROM events WHERE session_id = ?", (session_id,)).rowcount
            if self._marks:
                c.execute("DELETE FROM session_tags WHERE session_id = ?", (session_id,))
            c.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
        return Deleted(runs, events, *session_outputs.remove(session_outputs.find(session_id)))

    def find_session(self, prefix: str) -> str:
        """The full id of the one session whose id starts with ``prefix``."""
        rows = self._query(
            "SELECT session_id FROM sessions WHERE session_id = ? OR substr(session_id, 1, ?) = ?"
            " ORDER BY started_t DESC",
            (prefix, len(prefix), prefix),
        )
        ids = [r["session_id"] for r in rows]
        if prefix in ids:
            return prefix
        if not ids:
            raise HistoryError(f"no session {prefix!r} in the history ({self.path})")
        if len(ids) > 1:
            raise HistoryError(
                f"session id {prefix!r} is ambiguous: {', '.join(ids[:5])}"
                + (" ..." if len(ids) > 5 else "")
            )
        return str(ids[0])

    def runs(self, session_id: str) -> list[dict[str, Any]]:
        """The runs of a session, in the order they were planned."""
        rows = self._query(
            "SELECT * FROM runs WHERE session_id = ? ORDER BY rowid", (session_id,)
        )
        out = []
        for row in rows:
            d = dict(row)
            d["parameters"] = json.loads(d["parameters"] or "{}")
            d["error"] = json.loads(d["error"]) if d["error"] else None
            out.append(d)
        return out

    def events(self, session_id: str) -> list[ev.Event]:
        """The stored events of a session, in arrival order."""
        out = []
        for row in self._query(
            "SELECT data FROM events WHERE session_id = ? ORDER BY id", (session_id,)
        ):
            event, _ = ev.decode(row["data"])
            if event is not None:
                out.append(event)
        return out

    def session_started(self, session_id: str) -> ev.SessionStarted | None:
        """The session's ``session_started`` event (where its runs executed), or None."""
        rows = self._query(
            "SELECT data FROM events WHERE session_id = ? AND type = 'session_started'"
            " ORDER BY id LIMIT 1",
            (session_id,),
        )
        event, _ = ev.decode(rows[0]["data"]) if rows else (None, None)
        return event if isinstance(event, ev.SessionStarted) else None

    def summary(self, session_id: str) -> Summary:
        """The session's summary (schema ``qtui.summary``), rebuilt from its events."""
        from qtui.analysis.fold import SessionSummary
        from qtui.analysis.summary_builder import document

        events = self.events(session_id)
        if not events:
            raise HistoryError(f"no session {session_id!r} in the history ({self.path})")
        summary = SessionSummary()
        for event in events:
            summary.apply(event)
        return document(summary)


def _midnight(day: dt.date) -> float:
    """The start of ``day`` in local time, as a timestamp (what the lists show)."""
    return dt.datetime.combine(day, dt.time()).timestamp()


def _finite(x: float | None) -> float | None:
    return x if x is None or x == x and abs(x) != float("inf") else None


def run_tally(session: dict[str, Any]) -> str:
    """A session's runs in one cell, the same in ``qtui history`` and the app's history:
    ``1/4 (2 cancelled, 1 left running)``."""
    states = session.get("states") or {}
    text = f"{states.get('finished', 0)}/{session.get('n_runs', 0)}"
    bad = {k: v for k, v in states.items() if k != "finished"}
    if bad:
        text += " (" + ", ".join(f"{v} {str(k).replace('_', ' ')}" for k, v in sorted(bad.items())) + ")"
    return text


class Deleted(NamedTuple):
    """What ``delete_session`` removed: the session's runs and events, and ``outputs``,
    one line on its script output folder (what went, or why it stayed: ``outputs_left``;
    "" for none)."""

    runs: int
    events: int
    outputs: str
    outputs_left: bool

    def line(self, session_id: str) -> str:
        """``Deleted session ID (4 runs, 57 events).``, then the line on its outputs."""
        said = f"Deleted session {session_id} ({self.runs} runs, {self.events} events)."
        return f"{said} {self.outputs}" if self.outputs else said


def delete_question(session: dict[str, Any]) -> str:
    """What deleting a session asks first, the same in ``qtui history --delete`` and the
    app's history ``d``: ``Delete session ID (4 runs)?``, naming its script output
    folder (what it holds) when it has one: that goes too."""
    sid = str(session.get("session_id"))
    outputs = session_outputs.find(sid).question()
    return f"Delete session {sid} ({session.get('n_runs', 0)} runs){outputs}?"


def _reopens(row: dict[str, Any], states: list[str | None]) -> bool:
    """Whether a session recorded before is recorded again, in its row: a re-attach to
    jobs it left running (or lost when its qtui died), once nobody else writes it."""
    row = {**row, "states": {s: 1 for s in states if s}}
    if _session_status(row) == "running":
        return False  # its own qtui still records it
    return any((s or "") in OPEN_STATES for s in states)


def _session_status(d: dict[str, Any]) -> str:
    """finished / interrupted / left running (cluster jobs qtui stopped watching:
    ``qtui watch --jobs-dir`` completes it) / running (writer alive) / incomplete
    (writer gone)."""
    if d.get("finished_t") is not None:
        if d.get("states", {}).get(LEFT_RUNNING):
            return "left running"
        return "interrupted" if d.get("interrupted") else "finished"
    if d.get("writer_host") == socket.gethostname() and d.get("writer_pid"):
        alive = _writer_alive(d["writer_pid"], d.get("writer_started"), d.get("started_t"))
        return "running" if alive else "incomplete"
    return "incomplete"


def _writer_alive(pid: Any, started: str | None, session_t: float | None) -> bool:
    """Whether the process that recorded a session (on this host) is still that process.

    With its recorded start: the same pid *and* start.  Rows from before the
    start was recorded: a live process younger than the session is another
    one that got the pid.  A process of another user counts as alive.
    """
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if started:
        return is_running(pid, started)
    if not is_running(pid, None):
        return False
    import psutil

    try:
        return session_t is None or psutil.Process(pid).create_time() <= float(session_t) + 1.0
    except psutil.Error:
        return False


def _private_folder(folder: Path) -> None:
    """Create ``folder`` 0700 when missing (its parents as usual); leave an existing one."""
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        return
    os.chmod(folder, 0o700)  # the umask only removes bits; this also restores a 0277 one's


def _private_file(path: Path) -> None:
    """Create an empty database file 0600 when missing, before SQLite creates it 0644."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def recording(
    on_event: Callable[[ev.Event], None], db: HistoryDB
) -> Callable[[ev.Event], None]:
    """Wrap an ``on_event`` callback so every event is also recorded in ``db``.

    The event is queued for a writer thread (``qtui.store.history_writer``) and
    passed on at once, so a locked database never delays the caller (the
    supervisor's loop, which enforces timeouts and cancellation).  The queue is
    written before ``session_finished`` returns (bounded wait; what could not
    be written is said on stderr).  A database failure never stops a run: it
    is reported once as a ``note`` event to ``on_event`` and recording stops.
    The returned object's ``close()`` flushes early (a session that ends
    without ``session_finished``).
    """
    from qtui.store.history_writer import Recording

    return Recording(on_event, db)


def _parameters(text: str | None) -> dict[str, Any]:
    """A run's stored ``parameters`` column ({} when unreadable: the name falls back to
    its device and method)."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
