"""History database: recording real events, replay, crash safety, two writers at once."""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.cli.commands import history as history_cmd
from qtui.core import events as ev
from qtui.core.summary_schema import Summary
from qtui.store.history_db import HistoryDB, HistoryError, default_path, recording


def fold(events: list[ev.Event]) -> Summary:
    s = SessionSummary()
    for e in events:
        s.apply(e)
    return document(s)


def renamed(events: list[ev.Event], sid: str) -> list[ev.Event]:
    """The same events under another session id (via the wire format)."""
    out = []
    for e in events:
        d = e.to_dict()
        if "session_id" in d:
            d["session_id"] = sid
        out.append(ev.from_dict(d))
    return out


def test_record_and_replay(real_events: list[ev.Event], tmp_path: Path) -> None:
    with HistoryDB(tmp_path / "h.sqlite3") as db:
        for e in real_events:
            db.record(e)
        sid = real_events[0].session_id  # type: ignore[attr-defined]
        [session] = db.sessions()
        assert session["session_id"] == sid and session["status"] == "finished"
        assert session["states"] == {"finished": 3, "failed": 1}
        assert "lightning.qubit+adjoint" in session["combos"]
        runs = db.runs(sid)
        assert [r["run_id"] for r in runs] == ["r1", "r2", "r3", "r4"]
        r1 = runs[0]
        assert r1["state"] == "finished" and r1["epochs_done"] == 1 and r1["warnings"] == 3
        assert r1["peak_rss"] > 0 and r1["train_s"] > 0
        assert runs[3]["error"]["exc_type"] == "RuntimeError"
        replayed, direct = db.summary(sid), fold(real_events)
        for key in ("results", "refused", "machine_info", "versions", "session_id"):
            assert getattr(replayed, key) == getattr(direct, key), key
        mode = db._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_batches_and_samples_are_thinned(real_events: list[ev.Event], tmp_path: Path) -> None:
    with HistoryDB(tmp_path / "h.sqlite3", thin_s=10.0) as db:
        for e in real_events:
            db.record(e)
        stored = db.events(db.session_id or "")
    kinds = [e.type for e in stored]
    assert 0 < kinds.count("sample") < sum(e.type == "sample" for e in real_events)
    for kind in ("batch", "sample"):
        for run_id in ("r1", "r2", "r3", "r4"):
            times = [e.t for e in stored if e.type == kind and getattr(e, "run_id", "") == run_id]
            assert all(b - a >= 10.0 for a, b in zip(times, times[1:], strict=False)), times
    # epochs, warnings and terminal events are all kept
    for kind in ("epoch", "warning", "run_finished", "run_failed", "session_finished"):
        assert kinds.count(kind) == sum(e.type == kind for e in real_events), kind


def test_a_killed_writer_loses_nothing_recorded(
    real_events: list[ev.Event], tmp_path: Path
) -> None:
    """Record up to the first run's end, then die without closing (os._exit)."""
    log = tmp_path / "events.jsonl"
    cut = next(i for i, e in enumerate(real_events) if e.type == "run_finished") + 1
    log.write_text("\n".join(e.to_json() for e in real_events[:cut]) + "\n")
    db_path = tmp_path / "h.sqlite3"
    script = textwrap.dedent(
        f"""
        import os
        from qtui.core.events import decode
        from qtui.store.history_db import HistoryDB
        db = HistoryDB({str(db_path)!r})
        for line in open({str(log)!r}):
            db.record(decode(line)[0])
        os._exit(9)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], timeout=120)
    assert proc.returncode == 9
    with HistoryDB(db_path) as db:
        [session] = db.sessions()
        # Writer gone without session_finished: closed on open (issue 11, item 3).
        assert session["status"] == "interrupted"
        runs = {r["run_id"]: r for r in db.runs(session["session_id"])}
        assert runs["r1"]["state"] == "finished" and runs["r1"]["train_s"] > 0
        assert runs["r2"]["state"] == "lost"
        summary = db.summary(session["session_id"])
        assert summary.results[0].runs.finished == 1


WRITER = textwrap.dedent(
    """
    import sys
    from qtui.core.events import decode
    from qtui.store.history_db import HistoryDB
    db_path, log, sid = sys.argv[1:4]
    db = HistoryDB(db_path, thin_s=0.0)
    lines = open(log).read().splitlines()
    for _round in range(3):
        for line in lines:
            e = decode(line)[0]
            if hasattr(e, "session_id"):
                e.session_id = f"{sid}-{_round}"
            db.record(e)
    db.close()
    print("done")
    """
)


def test_two_processes_writing_at_once(real_events: list[ev.Event], tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(e.to_json() for e in real_events) + "\n")
    db_path = tmp_path / "shared.sqlite3"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), str(log), name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("alpha", "beta")
    ]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        assert out.strip() == "done"
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    per_session = dict(conn.execute("SELECT session_id, COUNT(*) FROM events GROUP BY session_id"))
    conn.close()
    assert sorted(per_session) == sorted(f"{n}-{r}" for n in ("alpha", "beta") for r in range(3))
    assert set(per_session.values()) == {len(real_events)}  # thin_s=0: every event kept
    with HistoryDB(db_path) as db:
        assert len(db.sessions()) == 6
        expected = fold(real_events).results
        for s in db.sessions():
            assert db.summary(s["session_id"]).results == expected


def test_same_session_is_not_recorded_twice(real_events: list[ev.Event], tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    for _ in range(2):
        with HistoryDB(path) as db:
            for e in real_events:
                db.record(e)
    with HistoryDB(path) as db:
        [s] = db.sessions()
        assert s["n_runs"] == 4
        assert fold(db.events(s["session_id"])).results == fold(real_events).results


def test_events_without_session_start_are_kept(real_events: list[ev.Event], tmp_path: Path) -> None:
    body = [e for e in real_events if e.type not in ("session_started", "session_finished")]
    with HistoryDB(tmp_path / "h.sqlite3") as db:
        for e in body:
            db.record(e)
        [s] = db.sessions()
        assert s["session_id"].startswith("unknown-") and len(db.runs(s["session_id"])) == 4


def test_recording_wrapper_survives_a_broken_db(real_events: list[ev.Event], tmp_path: Path) -> None:
    seen: list[ev.Event] = []
    db = HistoryDB(tmp_path / "h.sqlite3")
    on_event = recording(seen.append, db)
    for e in real_events[:3]:
        on_event(e)
    db.close()  # every later write fails
    for e in real_events[3:]:
        on_event(e)
    notes = [e for e in seen if isinstance(e, ev.LogNote)]
    assert len(notes) == 1 and "history: recording stopped" in notes[0].message
    assert [e for e in seen if not isinstance(e, ev.LogNote)] == real_events


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryDB(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(HistoryError, match="newer qtui"):
        HistoryDB(path)


def test_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "history.sqlite3"
    with HistoryDB() as db:
        assert db.path.exists()


# --- the command ---------------------------------------------------------------


def run_cmd(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="qtui")
    history_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["history", *argv])
    return int(args.func(args))


def test_history_command(
    real_events: list[ev.Event],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich: one table row per line
    db_path = tmp_path / "h.sqlite3"
    log = tmp_path / "run.jsonl"
    log.write_text("\n".join(e.to_json() for e in real_events) + "\n")
    assert run_cmd("--db", str(db_path)) == 0
    assert "No sessions recorded yet" in capsys.readouterr().out
    assert run_cmd("--db", str(db_path), "--import", str(log)) == 0
    sid: str = real_events[0].session_id  # type: ignore[attr-defined]
    assert sid in capsys.readouterr().err
    with HistoryDB(db_path) as db:
        for e in renamed(real_events, "zz-older"):
            e.t -= 3600
            db.record(e)

    assert run_cmd("--db", str(db_path), "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["session_id"] for s in listed] == [sid, "zz-older"]  # newest first

    assert run_cmd("--db", str(db_path)) == 0
    out = capsys.readouterr().out
    assert sid in out and "3/4 (1 failed)" in out

    assert run_cmd("--db", str(db_path), sid[:8]) == 0  # a unique prefix
    out = capsys.readouterr().out
    assert "r4" in out and "RuntimeError" in out

    assert run_cmd("--db", str(db_path), sid, "--json") == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 4

    assert run_cmd("--db", str(db_path), sid, "--summary") == 0
    assert json.loads(capsys.readouterr().out)["schema"] == "qtui.summary"

    assert run_cmd("--db", str(db_path), "nope") == 2
    err = capsys.readouterr().err
    assert err.startswith("qtui: error: session: no session 'nope'") and err.count("\n") == 1


def test_import_is_one_transaction_a_failure_part_way_leaves_nothing(
    real_events: list[ev.Event], tmp_path: Path
) -> None:
    """An import that fails after half the log recorded nothing, and the next one works."""
    db_path = tmp_path / "h.sqlite3"

    def half_then_fail() -> Any:
        yield from real_events[: len(real_events) // 2]
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    with HistoryDB(db_path) as db:
        with pytest.raises(sqlite3.OperationalError):
            db.import_events(half_then_fail())
        assert db.sessions() == []
        with sqlite3.connect(db_path) as c:
            assert c.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
            assert c.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
        db.import_events(real_events)  # the same connection recovers
        [session] = db.sessions()
        assert session["session_id"] == real_events[0].session_id  # type: ignore[attr-defined]


def test_import_skips_bad_lines_with_their_numbers(
    real_events: list[ev.Event], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.jsonl"
    lines = [ev.encoded(e) for e in real_events]
    lines.insert(3, b'{"type":"epoch","v":1,"t":1,"run_id":"r1","epoch":"3","mean_loss":1,"elapsed_s":1}')
    lines.insert(5, b'{"type":"run_finished","v":1,"t":1,"run_id":"r1","peak_rss":' + b"9" * 30 + b"}")
    lines.insert(7, b'{"type":"note","v":1,"t":1,"message":"\xff"}')
    log.write_bytes(b"\n".join(lines) + b"\n")
    db_path = tmp_path / "h.sqlite3"
    assert run_cmd("--db", str(db_path), "--import", str(log)) == 0
    err = capsys.readouterr().err
    assert "line 4: epoch event has a bad field" in err and "$.epoch" in err
    assert "line 6: run_finished event" in err and "line 8: not valid UTF-8" in err
    assert "Traceback" not in err and "recorded" in err
    with HistoryDB(db_path) as db:
        [session] = db.sessions()
        assert session["states"] == {"finished": 3, "failed": 1}


@pytest.mark.parametrize(
    "content", [b"", b"\x00\xff" * 50, b'{"schema": "qtui.summary"}', b"[" * 5000],
    ids=["empty", "binary", "a-summary", "deep"],
)
def test_import_of_a_file_without_events_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    log = tmp_path / "x.jsonl"
    log.write_bytes(content)
    db_path = tmp_path / "h.sqlite3"
    assert run_cmd("--db", str(db_path), "--import", str(log)) == 2
    err = capsys.readouterr().err
    assert err.startswith("qtui: error: ") and err.count("\n") == 1, err
    with HistoryDB(db_path) as db:
        assert db.sessions() == []


# --- issue 11, items 3 and 13: sessions cut off, private files -----------------------

_CUT_OFF = textwrap.dedent(
    """
    import os, signal, sys
    from qtui.core.events import decode
    from qtui.store.history_db import HistoryDB
    db = HistoryDB(sys.argv[1])
    for line in open(sys.argv[2]):
        db.record(decode(line)[0])
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _record_then_die(real_events: list[ev.Event], tmp_path: Path, upto: str = "run_started") -> Path:
    """A real qtui-side process records up to the first ``upto`` of r2, then is SIGKILLed."""
    cut = next(
        i for i, e in enumerate(real_events) if e.type == upto and getattr(e, "run_id", "") == "r2"
    ) + 1
    log = tmp_path / "cut.jsonl"
    log.write_text("\n".join(e.to_json() for e in real_events[:cut]) + "\n")
    db_path = tmp_path / "h.sqlite3"
    proc = subprocess.run([sys.executable, "-c", _CUT_OFF, str(db_path), str(log)], timeout=120)
    assert proc.returncode == -9
    return db_path


def test_a_session_cut_off_by_sigkill_is_closed_on_the_next_open(
    real_events: list[ev.Event], tmp_path: Path
) -> None:
    db_path = _record_then_die(real_events, tmp_path)
    with sqlite3.connect(db_path) as raw:  # as the dead writer left it
        assert raw.execute("SELECT finished_t FROM sessions").fetchone()[0] is None
        assert raw.execute("SELECT state FROM runs WHERE run_id = 'r2'").fetchone()[0] == "running"
    with HistoryDB(db_path) as db:
        [session] = db.sessions()
        sid = session["session_id"]
        assert session["status"] == "interrupted"
        assert session["writer_started"]  # the writer's start was recorded
        states = {r["run_id"]: r["state"] for r in db.runs(sid)}
        assert states["r1"] == "finished" and states["r2"] == "lost"
        assert all(states[r] in ("lost", "finished", "failed") for r in states)
        assert db.runs(sid)[1]["error"]["reason"].startswith("lost: ")
        events = db.events(sid)
        last_t = max(e.t for e in events[:-1])
        assert events[-1].type == "session_finished" and events[-1].interrupted
        assert events[-1].t == last_t  # closed at its last event, not at the next open
        lost = [e for e in events if e.type == "run_cancelled" and e.reason.startswith("lost: ")]
        assert "r2" in [e.run_id for e in lost]
        summary = db.summary(sid)
        assert summary.interrupted is True
        # a second open changes nothing
        assert db.close_lost_sessions() == []
    with HistoryDB(db_path) as db:
        assert len(db.events(sid)) == len(events)


def test_a_recycled_pid_is_not_taken_for_the_writer(
    real_events: list[ev.Event], tmp_path: Path
) -> None:
    """The row names a live pid (this test's) but another process's start: closed.
    Rows from before the start was recorded: a pid younger than the session is another."""
    import os
    import time

    import psutil

    db_path = _record_then_die(real_events, tmp_path)
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE sessions SET finished_t = NULL, writer_pid = ?", (os.getpid(),))
        raw.execute("UPDATE sessions SET writer_started = 'boot:1'")
    with HistoryDB(db_path) as db:
        assert db.sessions()[0]["status"] == "interrupted"
    me_born = psutil.Process().create_time()
    for started_t, closed in ((me_born - 100.0, True), (time.time(), False)):
        path = tmp_path / f"old-{closed}.sqlite3"
        with HistoryDB(path) as db:
            db.record(real_events[0])
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE sessions SET writer_started = NULL, started_t = ?", (started_t,))
        with HistoryDB(path) as db:
            status = db.sessions()[0]["status"]
        assert status == ("interrupted" if closed else "running"), (started_t, me_born)


def test_a_live_session_is_left_alone(real_events: list[ev.Event], tmp_path: Path) -> None:
    """This process is still recording: another open (another qtui) must not close it."""
    db_path = tmp_path / "h.sqlite3"
    with HistoryDB(db_path) as writer:
        for e in real_events[:5]:
            writer.record(e)
        with HistoryDB(db_path) as other:
            assert other.sessions()[0]["status"] == "running"
            assert other.close_lost_sessions() == []


def test_history_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """umask 000 (in a child: the umask is process-wide): folder 0700, database,
    -wal and -shm 0600."""
    data = tmp_path / "deep" / "qtui"
    script = textwrap.dedent(
        """
        import os, sys
        os.umask(0)
        os.environ["QTUI_DATA_DIR"] = sys.argv[1]
        from qtui.core import events as ev
        from qtui.store.history_db import HistoryDB
        db = HistoryDB()
        db.record(ev.SessionStarted(session_id="s1", machine={}, qtui_version="x"))
        print(sorted(os.listdir(sys.argv[1])))
        os._exit(0)  # keep -wal and -shm: a clean close may remove them
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(data)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    modes = {p.name: p.stat().st_mode & 0o777 for p in data.iterdir()}
    assert data.stat().st_mode & 0o777 == 0o700
    assert modes == {
        "history.sqlite3": 0o600, "history.sqlite3-wal": 0o600, "history.sqlite3-shm": 0o600,
    }, {k: oct(v) for k, v in modes.items()}
