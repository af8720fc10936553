"""History off the control loop: a database locked by another connection never delays
cancellation, and the session is written once the lock is released.  Real child,
real SQLite, a real second connection holding the write lock."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import Recorder, alive, assert_no_children, tiny

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.supervisor import Supervisor
from qtui.store import history_writer
from qtui.store.history_db import HistoryDB, recording
from qtui.store.history_writer import HistoryWriter
from qtui.store.pending_history import waiting


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from engine_helpers import child_env

    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_children()


def _lock(path: Path) -> sqlite3.Connection:
    """Another connection that takes the database's write lock and keeps it."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    return conn


#: Under sqlite's 30 s busy timeout, which a regression would wait out per event.
CANCEL_DEADLINE_S = 20.0


def _count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(path)  # a WAL reader is never blocked by the writer's lock
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_cancel_is_prompt_while_history_is_locked_and_the_session_is_written_after(
    tmp_path: Path, warm_executor: ProcessExecutor
) -> None:
    path = tmp_path / "history.sqlite3"
    db = HistoryDB(path)
    locker = _lock(path)
    try:
        rec = Recorder()
        spec = RunSpec("default.qubit", "backprop", tiny(workload="workloads.faulty:hangs"))
        # forked from the suite's warm server: its start (3-5 s, more on a loaded
        # machine) is not what this measures
        sup = Supervisor([spec], recording(rec, db), machine={"hostname": "test"}, interval=0.1,
                         executor=warm_executor)
        run_id = sup.specs[0].run_id
        t_start = time.monotonic()
        worker = threading.Thread(target=sup.run, daemon=True)
        worker.start()
        # The stream is not held up by the locked database (the old in-loop write
        # waited the 30 s busy timeout on session_started alone).
        launched = rec.wait_for("run_launched", run_id, timeout=CANCEL_DEADLINE_S)
        assert time.monotonic() - t_start < CANCEL_DEADLINE_S  # under one busy timeout
        rec.wait_for("sample", run_id, timeout=CANCEL_DEADLINE_S)  # the child runs, sampled
        pid = launched.pid
        assert alive(pid)

        # The child goes while the lock is still held.  The bound is generous for a
        # loaded machine yet under one busy timeout (30 s): a loop that wrote history
        # itself would sit in that timeout for every event before it saw the cancel.
        # (How fast a cancel is: benchmarks/cancel_latency.py.)
        t0 = time.monotonic()
        sup.cancel(run_id)
        while alive(pid) and time.monotonic() - t0 < CANCEL_DEADLINE_S:
            time.sleep(0.02)
        assert not alive(pid), "the child outlived the cancel while history was locked"
        rec.wait_for("run_cancelled", run_id, timeout=CANCEL_DEADLINE_S)
        rec.wait_for("session_finished", timeout=CANCEL_DEADLINE_S)  # the views see the end
        # Nothing reached the database yet: the lock is still held.
        assert _count(path, "SELECT COUNT(*) FROM sessions") == 0
        assert worker.is_alive()  # run() is flushing the history before it returns
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    worker.join(30)
    assert not worker.is_alive()
    [session] = db.sessions()
    assert session["session_id"] == sup.session_id and session["status"] == "finished"
    [run] = db.runs(sup.session_id)
    assert run["run_id"] == run_id and run["state"] == "cancelled"
    types = [e.type for e in db.events(sup.session_id)]
    assert types[0] == "session_started" and types[-1] == "session_finished"
    assert "run_launched" in types and "run_cancelled" in types
    # nothing said about history (the fork server's start note is the only note)
    assert not [e for e in rec.events if isinstance(e, ev.LogNote) and "histor" in e.message]
    db.close()


def _started(sid: str = "s1") -> ev.SessionStarted:
    return ev.SessionStarted(session_id=sid, machine={}, qtui_version="test")


def test_writer_writes_in_order_and_close_flushes(tmp_path: Path) -> None:
    db = HistoryDB(tmp_path / "h.sqlite3")
    writer = HistoryWriter(db)
    writer.put(_started())
    writer.put(ev.RunQueued(run_id="r1", spec={"device": "default.qubit"}))
    writer.put(ev.RunCancelled(run_id="r1"))
    writer.put(ev.SessionFinished(session_id="s1", interrupted=True))
    assert writer.close() is True
    assert writer.written == 4 and writer.pending == 0
    assert [e.type for e in db.events("s1")] == [
        "session_started",
        "run_queued",
        "run_cancelled",
        "session_finished",
    ]
    writer.put(_started("s2"))  # closed: ignored
    assert [s["session_id"] for s in db.sessions()] == ["s1"]
    db.close()


def test_a_lock_held_past_close_keeps_the_events_and_writes_them_when_it_frees(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.sqlite3"
    db = HistoryDB(path)
    locker = _lock(path)
    err = io.StringIO()
    try:
        writer = HistoryWriter(db, flush_timeout=0.5, stderr=err)
        writer.put(_started())
        writer.put(ev.RunQueued(run_id="r1", spec={"device": "default.qubit"}))
        writer.put(ev.SessionFinished(session_id="s1"))
        t0 = time.monotonic()
        assert writer.close() is False
        # its 0.5 s bound, not SQLite's 30 s busy timeout: generous for a loaded machine
        assert time.monotonic() - t0 < 10.0
        pending = writer.pending_file
        assert pending is not None and waiting(pending)
        assert pending.parent == tmp_path / "h.sqlite3.pending"
        assert _count(path, "SELECT COUNT(*) FROM sessions") == 0
        time.sleep(2 * history_writer.FOLD_EVERY_S)  # the lock outlasts a few fold attempts
        assert waiting(pending)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert f"3 event(s) wait in {pending}" in err.getvalue()
    assert writer.unwritten == 3
    deadline = time.monotonic() + 30
    while waiting(pending) and time.monotonic() < deadline:  # written by this process's thread
        time.sleep(0.05)
    assert not waiting(pending)
    [session] = db.sessions()
    assert session["session_id"] == "s1" and session["status"] == "finished"
    assert [e.type for e in db.events("s1")] == ["session_started", "run_queued", "session_finished"]
    assert not pending.parent.exists()
    db.close()


def test_a_qtui_that_exits_before_the_lock_frees_is_written_as_interrupted_by_the_next_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryDB(path).close()
    locker = _lock(path)
    script = f"""
import time
from qtui.core import events as ev
from qtui.store.history_db import HistoryDB
from qtui.store.history_writer import Recording
db = HistoryDB({str(path)!r})
on_event = Recording(lambda e: None, db, flush_timeout=0.5)
on_event(ev.SessionStarted(session_id="s9", machine={{}}, qtui_version="t",
                           runs=[{{"run_id": "r1", "device": "default.qubit"}}]))
on_event(ev.RunQueued(run_id="r1", spec={{"device": "default.qubit"}}))
# no session_finished: this qtui ends (the atexit close) while the lock is held
"""
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "2 event(s) wait in " in proc.stderr
        assert _count(path, "SELECT COUNT(*) FROM sessions") == 0
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    db = HistoryDB(path)  # the next qtui's open folds the pending file in
    try:
        [session] = db.sessions()
        assert session["session_id"] == "s9" and session["status"] == "interrupted"
        [run] = db.runs("s9")
        assert run["state"] == "lost"
        assert not (tmp_path / "h.sqlite3.pending").exists()
    finally:
        db.close()


def test_a_failing_database_is_a_note_and_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "h.sqlite3"
    db = HistoryDB(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("DROP TABLE events")  # broken, not locked: not retried
    other.close()
    seen: list[ev.Event] = []
    on_event = recording(seen.append, db)
    on_event(_started())
    writer = on_event.writer  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while writer.failure is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writer.failure and "no such table" in writer.failure
    on_event(ev.RunQueued(run_id="r1", spec={}))
    on_event(ev.SessionFinished(session_id="s1"))
    notes = [e.message for e in seen if isinstance(e, ev.LogNote)]
    assert len(notes) == 1 and "history: recording stopped" in notes[0]
    assert "qtui: warning: history: recording stopped" in capsys.readouterr().err
    assert [e.type for e in seen if not isinstance(e, ev.LogNote)] == [
        "session_started",
        "run_queued",
        "session_finished",
    ]
    db.close()


def test_a_pending_file_whose_database_closed_is_kept_for_the_next_open(tmp_path: Path) -> None:
    """The writer's fold loop meets a closed connection: the file is put back, not set aside."""
    path = tmp_path / "h.sqlite3"
    db = HistoryDB(path)
    locker = _lock(path)
    try:
        writer = HistoryWriter(db, flush_timeout=0.3, stderr=io.StringIO())
        writer.put(_started("s7"))
        writer.put(ev.SessionFinished(session_id="s7"))
        assert writer.close() is False
        pending = writer.pending_file
        assert pending is not None
        db.close()  # its owner is done with it while the lock is still held
        time.sleep(2 * history_writer.FOLD_EVERY_S)
        assert pending.exists() and not list(pending.parent.glob("*.bad"))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    with HistoryDB(path) as again:
        assert [s["session_id"] for s in again.sessions()] == ["s7"]
    assert not pending.parent.exists()
