"""Refusing a database writes nothing to it (issue 21, item 5).

A future-schema, foreign or non-SQLite file given as the history is refused
by reading only: its bytes, its journal mode and its folder are as they were
(no ``-wal``/``-shm`` beside it).  The databases are ``bad_input_lost``'s.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import bad_input_lost
import pytest

from qtui.cli.main import main
from qtui.store.history_db import HistoryDB, HistoryError


def _state(path: Path) -> tuple[str, list[str], str]:
    """The file's bytes (hashed), its folder's names, and its journal mode as stored."""
    data = path.read_bytes()
    mode = "not sqlite"
    if data.startswith(b"SQLite format 3\0"):
        mode = "wal" if data[18:20] == b"\x02\x02" else "rollback"  # header bytes 18-19
    return hashlib.sha256(data).hexdigest(), sorted(os.listdir(path.parent)), mode


@pytest.mark.parametrize("name", bad_input_lost.DATABASES, ids=lambda p: Path(p).name)
def test_a_refused_database_is_not_written(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(name)
    before = _state(path)
    with pytest.raises(HistoryError):
        HistoryDB(path)
    assert main(["history", "--db", str(path)]) == 2
    assert _state(path) == before
    assert before[2] != "wal"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("qtui: error: db: "), err


def test_a_foreign_v1_database_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Schema v1 by its number, another program's ``sessions`` table: it used to open,
    gain a column, and fail listing with a traceback."""
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sessions (id INTEGER, name TEXT)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = _state(path)
    assert main(["history", "--db", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"qtui: error: db: {path} is not a qtui history database (schema v1, tables: sessions; "
        "missing runs, events); nothing was written to it"
    ]
    assert _state(path) == before
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(sessions)")]
    assert columns == ["id", "name"]  # no writer_started added


def test_a_real_history_still_opens_and_an_empty_file_is_a_new_one(tmp_path: Path) -> None:
    HistoryDB(tmp_path / "h.db").close()
    HistoryDB(tmp_path / "h.db").close()
    (tmp_path / "empty.db").write_bytes(b"")
    with HistoryDB(tmp_path / "empty.db") as db:
        assert db.sessions() == []
