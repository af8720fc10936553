"""Bad input, round two (issue 21): nothing lost: refused databases and imports write nothing.

Rows for ``test_bad_input.py``'s table: each ``Bad`` must give exit 2, one
stderr line naming its field, nothing on stdout, no child and no file changed.
Relative names are the sandbox's files (``notjson.json``, ``good.json``,
``existing.json``, ``folder``, ``fifo``, ``hist.db``); a ``new.db`` named by a
refused import must not be left behind, nor the data folder's default
database.  The databases and logs qtui must refuse are made once here, in a
folder of their own (``FILES``): ``test_history_refusal.py`` checks that a refusal
leaves their bytes and their folder unchanged (no ``-wal``/``-shm``, which the
table's folder check does not count).
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

from bad_input_types import Bad, Valid

from qtui.core import events as ev

FILES = Path(tempfile.mkdtemp(prefix="qtui-bad-dbs-"))
atexit.register(shutil.rmtree, FILES, True)


def _db(name: str, *sql: str) -> str:
    conn = sqlite3.connect(FILES / name)
    for stmt in sql:
        conn.execute(stmt)
    conn.commit()
    conn.close()
    return str(FILES / name)


FOREIGN = _db("foreign.db", "CREATE TABLE notes (x)")
FOREIGN_V1 = _db("foreign-v1.db", "CREATE TABLE sessions (x)", "PRAGMA user_version = 1")
EMPTY_V1 = _db("empty-v1.db", "PRAGMA user_version = 1")
FUTURE = _db("future.db", "CREATE TABLE sessions (x)", "PRAGMA user_version = 7")
NOT_SQLITE = str(FILES / "text.db")
(FILES / "text.db").write_text("not a database\n" * 100)
HALF_QTUI = _db("half.db", "CREATE TABLE sessions (session_id TEXT)", "CREATE TABLE runs (x)",
                "CREATE TABLE events (x)", "PRAGMA user_version = 1")
DATABASES = [FOREIGN, FOREIGN_V1, EMPTY_V1, FUTURE, NOT_SQLITE, HALF_QTUI]

NOTES_ONLY = str(FILES / "notes.jsonl")
(FILES / "notes.jsonl").write_bytes(ev.encoded(ev.LogNote(message="only a note")) + b"\n")
EMPTY_LOG = str(FILES / "empty.jsonl")
(FILES / "empty.jsonl").write_bytes(b"")
VALID_LOG = str(FILES / "valid.jsonl")
(FILES / "valid.jsonl").write_bytes(
    ev.encoded(ev.SessionStarted(session_id="imp1", machine={}, qtui_version="t")) + b"\n"
    + ev.encoded(ev.SessionFinished(session_id="imp1")) + b"\n"
)
NOT_QTUI = "not a qtui history database"
NOTHING = "nothing was written to it"

BAD: list[Bad] = [
    # --- a database that is not this qtui's: refused before anything is written ---
    Bad(("history", "--db", FOREIGN), "db", NOT_QTUI),
    Bad(("history", "--db", FOREIGN), "db", NOTHING),
    Bad(("history", "--db", FOREIGN_V1), "db", "missing runs, events"),
    Bad(("history", "--db", EMPTY_V1), "db", "tables: none"),
    Bad(("history", "--db", HALF_QTUI), "db", "missing sessions.argv"),
    Bad(("history", "--db", FUTURE), "db", "from a newer qtui (schema v7"),
    Bad(("history", "--db", NOT_SQLITE), "db", "not a SQLite database"),
    Bad(("history", "--db", FOREIGN, "--json"), "db", NOT_QTUI),
    Bad(("history", "--db", FOREIGN, "-n", "3"), "db", NOT_QTUI),
    Bad(("history", "--db", FOREIGN_V1, "abc"), "db", NOT_QTUI),
    Bad(("history", "--db", FOREIGN_V1, "--summary", "abc"), "db", NOT_QTUI),
    Bad(("history", "--db", FUTURE, "--json"), "db", "newer qtui"),
    Bad(("history", "--db", FOREIGN, "--import", VALID_LOG), "db", NOT_QTUI),
    Bad(("history", "--db", FUTURE, "--import", VALID_LOG), "db", "newer qtui"),
    Bad(("history", "--db", NOT_SQLITE, "--import", VALID_LOG), "db", "not a SQLite database"),
    # --- an import that records nothing leaves no database behind ---
    Bad(("history", "--import", "notjson.json"), "notjson.json", "holds no qtui events"),
    Bad(("history", "--import", "good.json"), "good.json", "holds no qtui events"),
    Bad(("history", "--import", "existing.json"), "existing.json", "holds no qtui events"),
    Bad(("history", "--import", NOTES_ONLY), NOTES_ONLY, "holds no qtui events; nothing recorded"),
    Bad(("history", "--import", EMPTY_LOG), EMPTY_LOG, "is empty"),
    Bad(("history", "--db", "new.db", "--import", "notjson.json"), "notjson.json", "no qtui events"),
    Bad(("history", "--db", "new.db", "--import", NOTES_ONLY), NOTES_ONLY, "nothing recorded"),
    Bad(("history", "--db", "new.db", "--import", EMPTY_LOG), EMPTY_LOG, "is empty"),
    Bad(("history", "--db", "hist.db", "--import", NOTES_ONLY), NOTES_ONLY, "nothing recorded"),
    Bad(("history", "--db", FOREIGN, "--import", NOTES_ONLY), NOTES_ONLY, "nothing recorded"),
    Bad(("history", "--import", "missing.jsonl"), "missing.jsonl", "no such"),
    Bad(("history", "--db", "new.db", "--import", "folder"), "folder", "is a folder"),
]
VALID: list[Valid] = []
