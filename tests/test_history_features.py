"""History you can work with (issue 23): name, tag and note a session, filter the list,
delete a session, and no comparison of a session with itself.

Real SQLite databases holding the recorded real session (``real_events``), copied
under other ids and moved in time where a test needs several; the CLI through
``qtui.cli.main.main``; the app's history screen through ``App.run_test()``; the
delete question on a real terminal (a pty) in a ``python -m qtui`` child.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import select
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import child_env
from textual.app import App
from textual.widgets import DataTable, Input, Static
from ui_helpers import burst, settle, typed

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.cli.main import main
from qtui.core import events as ev
from qtui.core.summary_schema import Summary
from qtui.store.history_db import HistoryDB
from qtui.store.history_filter import FilterError, SessionFilter, filter_from_flags
from qtui.store.history_filter import parse as parse_filter
from qtui.ui.screens.confirm import ConfirmScreen
from qtui.ui.screens.help import screen_keys
from qtui.ui.screens.history import HistoryScreen
from qtui.ui.screens.session_marks import SessionMarksScreen

DAY = 86400.0


def fold(events: list[ev.Event]) -> Summary:
    s = SessionSummary()
    for e in events:
        s.apply(e)
    return document(s)


def copied(
    events: list[ev.Event], sid: str, *, days: float = 0.0, drop_device: str | None = None
) -> list[ev.Event]:
    """The recorded session under another id, ``days`` later, without the runs on
    ``drop_device`` (through the wire format, as a log would hold them)."""
    dropped: set[str] = set()
    out = []
    for e in events:
        d = e.to_dict()
        if "session_id" in d:
            d["session_id"] = sid
        d["t"] = d["t"] + days * DAY
        if d["type"] == "session_started" and drop_device:
            dropped = {r["run_id"] for r in d["runs"] if r.get("device") == drop_device}
            d["runs"] = [r for r in d["runs"] if r["run_id"] not in dropped]
        if d.get("run_id") in dropped:
            continue
        out.append(ev.from_dict(d))
    return out


def recorded(path: Path, *sessions: list[ev.Event]) -> None:
    with HistoryDB(path) as db:
        for events in sessions:
            for e in events:
                db.record(e)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str], db: Path, *flags: str) -> list[dict[str, Any]]:
    code, out, err = cli(capsys, "history", "--db", str(db), "--json", *flags)
    assert code == 0, err
    sessions: list[dict[str, Any]] = json.loads(out)
    return sessions


@pytest.fixture
def one(real_events: list[ev.Event], tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "h.sqlite3"
    recorded(path, real_events)
    return path, str(real_events[0].session_id)  # type: ignore[attr-defined]


# 1. name, tag and note ---------------------------------------------------------------


def test_name_tag_and_note_a_session(
    one: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, sid = one
    code, out, err = cli(
        capsys, "history", sid[:6], "--db", str(path), "--name", "baseline",
        "--tag", "gpu", "--tag", "v2.1", "--note", "before the adjoint fix",
    )
    assert code == 0, err
    assert out == ""
    assert err.splitlines() == [
        f"session {sid}: name 'baseline'; tags gpu, v2.1; note 'before the adjoint fix'"
    ]
    [s] = listed(capsys, path)
    assert (s["name"], s["tags"], s["note"]) == ("baseline", ["gpu", "v2.1"], "before the adjoint fix")
    code, out, err = cli(capsys, "history", "--db", str(path))
    assert code == 0 and "baseline #gpu #v2.1" in out, out
    code, out, err = cli(capsys, "history", sid, "--db", str(path))
    assert code == 0
    assert "baseline #gpu #v2.1" in out and "note: before the adjoint fix" in out, out
    # untag one, clear the name and the note; a tag given twice is kept once
    code, _, err = cli(capsys, "history", sid, "--db", str(path), "--untag", "gpu",
                       "--tag", "v2.1", "--name", "", "--note", "")
    assert code == 0, err
    [s] = listed(capsys, path)
    assert (s["name"], s["tags"], s["note"]) == (None, ["v2.1"], None)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tag", "a b"], "tag: 'a b' is not a tag: use letters, digits, '_', '.' and '-', "
                           "at most 40 characters"),
        (["--tag", "x" * 41], "tag: '" + "x" * 41 + "' is not a tag: use letters, digits, "
                              "'_', '.' and '-', at most 40 characters"),
        (["--untag", "a/b"], "untag: 'a/b' is not a tag: use letters, digits, '_', '.' and '-', "
                             "at most 40 characters"),
        (["--name", "two\nlines"], "name: holds a control character (\\n at character 4); "
                                   "a name is one line of text without control characters"),
        (["--note", "bell\x07"], "note: holds a control character (\\x07 at character 5); "
                                 "a note is one line of text without control characters"),
        (["--name", "n" * 81], "name: 81 characters; a name has at most 80"),
    ],
)
def test_bad_names_tags_and_notes_are_one_line_and_write_nothing(
    one: tuple[Path, str], capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    path, sid = one
    code, out, err = cli(capsys, "history", sid, "--db", str(path), "--name", "kept", *flags)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"qtui: error: {message}"]
    [s] = listed(capsys, path)
    assert (s["name"], s["tags"], s["note"]) == (None, [], None)


def test_marks_need_a_session(
    one: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, sid = one
    for flags, message in (
        (["--name", "x"], "name: needs a SESSION_ID (qtui history SESSION_ID --name TEXT)"),
        (["--note", "x"], "note: needs a SESSION_ID (qtui history SESSION_ID --note TEXT)"),
        (["--untag", "x"], "untag: needs a SESSION_ID (qtui history SESSION_ID --untag TAG)"),
        (["--delete"], "delete: needs a SESSION_ID (qtui history SESSION_ID --delete)"),
        ([sid, "--name", "x", "--json"],
         "--json: prints; --name, --tag, --untag, --note and --delete change the history: "
         "give one or the other"),
    ):
        code, out, err = cli(capsys, "history", "--db", str(path), *flags)
        assert (code, out, err.splitlines()) == (2, "", [f"qtui: error: {message}"]), flags


OLD_SCHEMA = """
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, started_t REAL NOT NULL, finished_t REAL,
    interrupted INTEGER NOT NULL DEFAULT 0, host TEXT, qtui_version TEXT, argv TEXT,
    planned_runs INTEGER NOT NULL DEFAULT 0, writer_host TEXT, writer_pid INTEGER, last_t REAL,
    writer_started TEXT);
CREATE TABLE runs (session_id TEXT NOT NULL, run_id TEXT NOT NULL, device TEXT, diff_method TEXT,
    repeat_index INTEGER, parameters TEXT, state TEXT NOT NULL DEFAULT 'queued', started_t REAL,
    ended_t REAL, epochs_done INTEGER NOT NULL DEFAULT 0, last_loss REAL, train_s REAL,
    accuracy REAL, final_loss REAL, core_s REAL, cores_in_use REAL, peak_rss INTEGER,
    peak_threads INTEGER, warnings INTEGER NOT NULL DEFAULT 0, error TEXT,
    PRIMARY KEY (session_id, run_id));
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
    run_id TEXT, type TEXT NOT NULL, t REAL NOT NULL, data TEXT NOT NULL);
CREATE INDEX events_session ON events (session_id, id);
CREATE INDEX sessions_started ON sessions (started_t);
PRAGMA user_version = 1;
"""


def _layout(conn: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in sorted(tables)}


def test_a_database_of_the_qtui_before_gets_names_tags_and_notes_on_open(
    real_events: list[ev.Event], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database as the qtui before this one left it (its schema, no name, note or tags;
    a session recorded, then the new parts dropped): opened, it gains them, keeps its
    session and version, and can be tagged.  An empty one of that schema opens too."""
    empty = tmp_path / "old-empty.sqlite3"
    conn = sqlite3.connect(empty)
    conn.executescript(OLD_SCHEMA)
    conn.close()
    with HistoryDB(empty) as db:
        assert db.sessions() == []
    path = tmp_path / "old.sqlite3"
    recorded(path, real_events)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE sessions DROP COLUMN name")
    conn.execute("ALTER TABLE sessions DROP COLUMN note")
    conn.execute("DROP TABLE session_tags")
    conn.commit()
    old = sqlite3.connect(":memory:")
    old.executescript(OLD_SCHEMA)
    assert _layout(conn) == _layout(old)  # the database is as the qtui before left it
    conn.close()
    sid = str(real_events[0].session_id)  # type: ignore[attr-defined]
    assert cli(capsys, "history", sid, "--db", str(path), "--tag", "old")[0] == 0
    conn = sqlite3.connect(path)
    assert {"name", "note"} <= {r[1] for r in conn.execute("PRAGMA table_info(sessions)")}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1  # an older qtui reads on
    conn.close()
    [s] = listed(capsys, path)
    assert s["tags"] == ["old"] and s["n_runs"] == 4 and s["status"] == "finished"


# 3. delete ----------------------------------------------------------------------------


def _rows(path: Path, sid: str) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t} WHERE session_id = ?", (sid,)).fetchone()[0]
            for t in ("sessions", "runs", "events", "session_tags")
        }
    finally:
        conn.close()


@pytest.fixture
def two(real_events: list[ev.Event], tmp_path: Path) -> tuple[Path, str, str]:
    path = tmp_path / "h.sqlite3"
    recorded(path, real_events, copied(real_events, "second-session", days=1))
    sid = str(real_events[0].session_id)  # type: ignore[attr-defined]
    with HistoryDB(path) as db:
        db.mark(sid, name="old", tag=["gpu"])
        db.mark("second-session", tag=["gpu"])
    return path, sid, "second-session"


def test_delete_with_yes_removes_the_session_and_only_it(
    two: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, sid, other = two
    kept = _rows(path, other)
    assert _rows(path, sid)["events"] > 0
    code, out, err = cli(capsys, "history", sid[:8], "--db", str(path), "--delete", "--yes")
    assert (code, out) == (0, ""), err
    n_events = kept["events"]
    assert err.splitlines() == [f"Deleted session {sid} (4 runs, {n_events} events)."]
    assert _rows(path, sid) == {"sessions": 0, "runs": 0, "events": 0, "session_tags": 0}
    assert _rows(path, other) == kept
    assert [s["session_id"] for s in listed(capsys, path)] == [other]


def test_delete_without_a_terminal_needs_yes(
    two: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, sid, _ = two
    before = _rows(path, sid)
    code, out, err = cli(capsys, "history", sid, "--db", str(path), "--delete")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"qtui: error: delete: no terminal to ask 'Delete session {sid} (4 runs)?'; "
        "add --yes to delete without asking"
    ]
    assert _rows(path, sid) == before
    for flags, message in (
        (["--yes"], "--yes: answers --delete's question; give it with --delete"),
        (["--delete", "--yes", "--tag", "x"],
         "--delete: removes the session; give it without --name, --tag, --untag and --note"),
    ):
        code, out, err = cli(capsys, "history", sid, "--db", str(path), *flags)
        assert (code, err.splitlines()) == (2, [f"qtui: error: {message}"]), flags
    assert _rows(path, sid) == before


def test_a_session_still_recorded_is_not_deleted(
    real_events: list[ev.Event], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its qtui (this process) is alive and has not finished it: its next event would
    bring back runs without a session."""
    path = tmp_path / "h.sqlite3"
    db = HistoryDB(path)
    for e in real_events[:-1]:  # no session_finished
        db.record(e)
    sid = str(real_events[0].session_id)  # type: ignore[attr-defined]
    code, _, err = cli(capsys, "history", sid, "--db", str(path), "--delete", "--yes")
    assert code == 2
    assert err.splitlines() == [
        f"qtui: error: delete: session {sid} is still being recorded by the qtui running as "
        f"pid {os.getpid()} on {socket.gethostname()}: delete it once that session has ended"
    ]
    assert _rows(path, sid)["runs"] == 4
    db.record(real_events[-1])
    db.close()


def _on_a_terminal(argv: list[str], answer: bytes) -> tuple[int, str]:
    """``python -m qtui ARGV`` on a pseudo-terminal: wait for its question, answer it;
    its exit code and all it wrote."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qtui", *argv], stdin=slave, stdout=slave, stderr=slave,
        env=child_env(), close_fds=True,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while b"[y/N]" not in seen and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen += os.read(master, 4096)
        assert b"[y/N]" in seen, seen
        os.write(master, answer)
        code = proc.wait(timeout=60)
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its side
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, seen.decode().replace("\r\n", "\n")


def test_delete_on_a_terminal_asks_first(two: tuple[Path, str, str]) -> None:
    path, sid, _ = two
    before = _rows(path, sid)
    code, text = _on_a_terminal(["history", sid, "--db", str(path), "--delete"], b"\n")
    assert code == 1
    assert f"Delete session {sid} (4 runs)? [y/N] " in text and "Nothing deleted." in text, text
    assert _rows(path, sid) == before
    code, text = _on_a_terminal(["history", sid, "--db", str(path), "--delete"], b"y\n")
    assert code == 0, text
    assert f"Deleted session {sid} (4 runs," in text
    assert _rows(path, sid)["sessions"] == 0


# 2. filter ----------------------------------------------------------------------------


def test_the_filter_words_parse_once_for_the_cli_and_the_app() -> None:
    f = parse_filter("tag:gpu device:lightning.qubit since:2026-12-01 until:2026-12-31 Base")
    assert f == SessionFilter(
        tags=("gpu",), devices=("lightning.qubit",), since=dt.date(2026, 12, 1),
        until=dt.date(2026, 12, 31), words=("Base",),
    )
    assert f.text() == "tag:gpu device:lightning.qubit since:2026-12-01 until:2026-12-31 Base"
    assert parse_filter(f.text()) == f
    assert parse_filter("  ") == SessionFilter() and not SessionFilter().active
    assert filter_from_flags(tags=["gpu"], devices=["lightning.qubit"], methods=[],
                             since="2026-12-01", until="2026-12-31") == SessionFilter(
        tags=("gpu",), devices=("lightning.qubit",), since=dt.date(2026, 12, 1),
        until=dt.date(2026, 12, 31))
    words = ("use tag:TAG, device:NAME, method:NAME, since:YYYY-MM-DD, until:YYYY-MM-DD "
             "or plain words (found in the id, name, note or tags)")
    for text, message in (
        ("since:2026-13-01", "since: '2026-13-01' is not a date: use YYYY-MM-DD (2026-12-01)"),
        ("until:12/01/2026", "until: '12/01/2026' is not a date: use YYYY-MM-DD (2026-12-01)"),
        ("since:20261201", "since: '20261201' is not a date: use YYYY-MM-DD (2026-12-01)"),
        ("since:2026-12-02 until:2026-12-01",
         "since: 2026-12-02 is after until: 2026-12-01; no session can match"),
        ("tag:a/b", "tag: 'a/b' is not a tag: use letters, digits, '_', '.' and '-', "
                    "at most 40 characters"),
        ("device:", "device: give a name (device:lightning.qubit)"),
        ("colour:red", f"'colour:red' is not a filter word: {words}"),
    ):
        with pytest.raises(FilterError) as caught:
            parse_filter(text)
        assert str(caught.value) == message, text


@pytest.fixture
def three(real_events: list[ev.Event], tmp_path: Path) -> tuple[Path, str]:
    """The recorded session (tagged gpu), a copy 17 days earlier without its lightning
    run, and one 3 days later named 'Baseline run'."""
    path = tmp_path / "h.sqlite3"
    recorded(
        path, real_events,
        copied(real_events, "early", days=-17, drop_device="lightning.qubit"),
        copied(real_events, "later", days=3),
    )
    sid = str(real_events[0].session_id)  # type: ignore[attr-defined]
    with HistoryDB(path) as db:
        db.mark(sid, tag=["gpu"])
        db.mark("later", name="Baseline run", note="the one to beat")
    return path, sid


def test_filter_the_list_by_tag_device_method_date_and_words(
    three: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, sid = three
    day = dt.datetime.fromtimestamp(
        next(s["started_t"] for s in listed(capsys, path) if s["session_id"] == sid)
    ).date()

    def ids(*flags: str) -> list[str]:
        return [s["session_id"] for s in listed(capsys, path, *flags)]

    assert ids() == ["later", sid, "early"]
    assert ids("--tag", "gpu") == [sid]
    assert ids("--tag", "gpu", "--tag", "other") == []
    assert ids("--device", "lightning.qubit") == ["later", sid]
    assert ids("--method", "finite-diff") == ["later", sid, "early"]
    assert ids("--method", "adjoint", "--until", str(day)) == [sid]
    assert ids("--since", str(day)) == ["later", sid]
    assert ids("--since", str(day), "--until", str(day)) == [sid]
    assert ids("--until", str(day - dt.timedelta(days=1))) == ["early"]
    assert ids("--since", str(day), "-n", "1") == ["later"]
    code, out, err = cli(capsys, "history", "--db", str(path), "--tag", "nothing-here")
    assert code == 0 and "No session matches tag:nothing-here (3 recorded; " in out, out
    code, out, err = cli(capsys, "history", "--db", str(path), "--tag", "gpu")
    assert code == 0 and sid in out and "later" not in out and "tag:gpu" in out, out
    for flags, message in (
        (["--since", "2026-12"], "since: '2026-12' is not a date: use YYYY-MM-DD (2026-12-01)"),
        ([sid, "--device", "default.qubit"],
         "device: filters the list of sessions; give it without a SESSION_ID"),
        ([sid, "--until", "2026-12-01"],
         "until: filters the list of sessions; give it without a SESSION_ID"),
    ):
        code, out, err = cli(capsys, "history", "--db", str(path), *flags)
        assert (code, out, err.splitlines()) == (2, "", [f"qtui: error: {message}"]), flags


# 4. a comparison with itself ----------------------------------------------------------


class Host(App[None]):
    def __init__(self, screen: HistoryScreen) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


def _error(screen: HistoryScreen) -> str:
    return str(screen.query_one("#history-error", Static).render())


async def test_c_on_the_current_session_is_refused(
    one: tuple[Path, str], real_events: list[ev.Event]
) -> None:
    """The session under the cursor is the one running in this app: no table of +0.0 %."""
    path, sid = one
    current = fold(real_events)
    screen = HistoryScreen(lambda: HistoryDB(path), current=lambda: current)
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert screen.query_one(DataTable).row_count == 1
        await burst(pilot, "c")
        assert isinstance(app.screen, HistoryScreen)
        assert _error(screen) == (
            f"A and B are the same session ({sid}): a comparison with itself says nothing; "
            "pick another session"
        )


def test_compare_says_when_a_and_b_are_one_session(
    real_events: list[ev.Event], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``qtui compare a.json a.json`` (or two exports of one session) says so in one line
    before the comparison; it still compares (a first CI baseline is its own B)."""
    sid = str(real_events[0].session_id)  # type: ignore[attr-defined]
    a = tmp_path / "a.json"
    a.write_bytes(fold(real_events).dumps())
    later = tmp_path / "later.json"
    later.write_bytes(fold(real_events[:-1]).dumps())
    other = tmp_path / "other.json"
    other.write_bytes(fold(copied(real_events, "other-session")).dumps())
    for b in (a, later):
        code, out, err = cli(capsys, "compare", str(a), str(b))
        assert code == 0 and "default.qubit" in out
        assert err.splitlines() == [
            f"qtui: note: A and B are the same session ({sid}): it is compared with itself"
        ], b
    code, out, err = cli(capsys, "compare", str(a), str(other), "--json")
    assert code == 0 and err == ""


# the app's history screen: name, tag, note, filter, delete -----------------------------


def _cells(screen: HistoryScreen) -> dict[str, list[str]]:
    table = screen.query_one(DataTable)
    return {str(row.value): [str(c) for c in table.get_row(row)] for row in table.rows}


async def test_name_tag_and_note_in_the_app(one: tuple[Path, str]) -> None:
    path, sid = one
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert _cells(screen)[sid][1] == ""  # the Name column, empty
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SessionMarksScreen)
        assert app.focused is dialog.query_one("#marks-name", Input)
        await pilot.press(*"baseline", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert _cells(screen)[sid][1] == "baseline"
        await pilot.press("t")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#marks-tags", Input)
        await pilot.press(*"gpu v2", "enter")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#marks-note", Input)
        await pilot.press(*"the one to beat", "enter")
        await settle(pilot)
        assert _cells(screen)[sid][1] == "baseline #gpu #v2"
        assert "note: the one to beat" in str(screen.query_one("#history-note", Static).render())
        with HistoryDB(path) as db:
            s = db.session(sid)
        assert (s["name"], s["tags"], s["note"]) == ("baseline", ["gpu", "v2"], "the one to beat")
        # a bad tag is said in the dialog as it is typed, and enter does not save it
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*" a/b")
        await settle(pilot)
        error = str(app.screen.query_one("#marks-error", Static).render())
        assert error == ("tag: 'a/b' is not a tag: use letters, digits, '_', '.' and '-', "
                         "at most 40 characters"), error
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionMarksScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        with HistoryDB(path) as db:
            assert db.session(sid)["tags"] == ["gpu", "v2"]


async def test_slash_filters_the_list_with_the_cli_words(three: tuple[Path, str]) -> None:
    path, sid = three
    screen = HistoryScreen(lambda: HistoryDB(path))
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert list(_cells(screen)) == ["later", sid, "early"]
        await pilot.press("slash")
        await settle(pilot)
        field = screen.query_one("#history-filter", Input)
        assert field.display and app.focused is field
        await pilot.press(*"tag:gpu", "enter")
        await settle(pilot)
        assert list(_cells(screen)) == [sid]
        assert app.focused is screen.query_one(DataTable)
        assert "filter: tag:gpu (1 of 3)" in str(screen.query_one("#history-title", Static).render())
        # / opens the field on the filter it holds; plain words find the name; device:
        # as qtui history's --device
        await pilot.press("slash")
        await settle(pilot)
        assert field.value == "tag:gpu" and app.focused is field
        await pilot.press("escape")
        await pilot.press("slash", "ctrl+u", *"baseline", "enter")
        await settle(pilot)
        assert list(_cells(screen)) == ["later"]
        await pilot.press("slash", "ctrl+u", *"device:lightning.qubit", "enter")
        await settle(pilot)
        assert list(_cells(screen)) == ["later", sid]
        # a bad word: said in one line, the list as it was, the field kept for fixing
        await pilot.press("slash", "ctrl+u", *"since:2026-13-01", "enter")
        await settle(pilot)
        assert _error(screen) == "since: '2026-13-01' is not a date: use YYYY-MM-DD (2026-12-01)"
        assert list(_cells(screen)) == ["later", sid] and app.focused is field
        # an empty filter lists everything again; escape leaves the field
        await pilot.press("ctrl+u", "enter")
        await settle(pilot)
        assert list(_cells(screen)) == ["later", sid, "early"] and _error(screen) == ""
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert app.screen is screen and not field.display
        assert app.focused is screen.query_one(DataTable)


async def test_d_deletes_the_session_under_the_cursor_after_asking(
    two: tuple[Path, str, str], real_events: list[ev.Event]
) -> None:
    path, sid, other = two
    current = fold(copied(real_events, other))  # this app's session is the other one
    screen = HistoryScreen(lambda: HistoryDB(path), current=lambda: current)
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert list(_cells(screen)) == [other, sid]
        await pilot.press("d")  # on the first row: this app's session
        await settle(pilot)
        assert app.screen is screen
        assert _error(screen) == f"{other} is this app's session: it is not deleted while it is open"
        await pilot.press("down", "d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == f"Delete session {sid} (4 runs)?"
        await pilot.press("n")
        await settle(pilot)
        assert list(_cells(screen)) == [other, sid]
        await pilot.press("d", "y")
        await settle(pilot)
        assert list(_cells(screen)) == [other]
        assert _rows(path, sid) == {"sessions": 0, "runs": 0, "events": 0, "session_tags": 0}


def test_the_help_lists_the_history_keys() -> None:
    """``?`` reads them from the screen's bindings: the key as typed, the longer words."""
    keys = {(where, key): what for where, key, what in screen_keys()}
    for key, words in (("/", "Filter the list: tag:TAG device:NAME"), ("n", "Name the session"),
                       ("t", "Tag the session"), ("o", "A note on the session"),
                       ("d", "Delete the session, its runs and events (asks first)")):
        assert keys.get(("History", key), "").startswith(words), (key, keys)


async def test_the_history_keys_in_the_real_app_land_in_order(two: tuple[Path, str, str]) -> None:
    """In the app itself: ``t`` is the tag dialog there, not the theme picker; escape
    leaves the dialog and the filter field (not the app's field escape); a digit typed
    in the filter is the filter's; keys sent in one burst apply in order."""
    from test_ui_data import fixed_caps

    from qtui.ui.app import QtuiApp

    path, sid, other = two
    app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False,  # type: ignore[arg-type]
                  persist_theme=False, history_factory=lambda: HistoryDB(path))
    async with app.run_test(size=(120, 30)) as pilot:
        deadline = time.monotonic() + 60
        while not app.query("#start"):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await burst(pilot, "h")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await burst(pilot, "down", "t")
        assert isinstance(app.screen, SessionMarksScreen)
        assert app.screen.session["session_id"] == sid
        await burst(pilot, "escape")
        assert app.screen is screen
        await typed(pilot, "/2/")  # one read; the second / is the field's
        await burst(pilot, "escape")
        assert app.screen is screen and not screen.query_one("#history-filter", Input).display
        assert screen.query_one("#history-filter", Input).value == "2/"
        assert app.focused is screen.query_one(DataTable)
        await burst(pilot, "d", "y")
        assert list(_cells(screen)) == [other]
        assert _rows(path, sid)["sessions"] == 0


async def test_escape_then_a_digit_typed_fast_in_a_dialog_closes_it(one: tuple[Path, str]) -> None:
    """Escape then ``1`` typed fast arrives as alt+1 (ESC 1), which Textual reads as the
    Option character ``¡``: the tag dialog's field took it as text (``te¡w``, found in
    tmux at 80×24) where the user had pressed Escape.  Over the main screen an alt+digit
    is that Escape: the dialog closes as it was, nothing is typed or saved."""
    from test_ui_data import fixed_caps

    from qtui.ui.app import QtuiApp

    path, sid = one
    app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False,  # type: ignore[arg-type]
                  persist_theme=False, history_factory=lambda: HistoryDB(path))
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 60
        while not app.query("#start"):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await burst(pilot, "h")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await burst(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, SessionMarksScreen)
        tags = dialog.query_one("#marks-tags", Input)
        await typed(pilot, "te")
        await typed(pilot, "\x1b1")  # Escape then 1, in one read as a terminal sends them
        assert app.screen is screen, app.screen
        assert tags.value == "te"
        with HistoryDB(path) as db:
            assert db.session(sid)["tags"] == []
        await typed(pilot, "/\x1b2")  # the filter field: Escape then 2 leaves it, types nothing
        assert screen.query_one("#history-filter", Input).value == ""
        assert app.focused is screen.query_one(DataTable)
