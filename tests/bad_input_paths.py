"""Bad input, round two (issue 21): paths and files: special files, live files, readers, --json/--events/-o.

Rows for ``test_bad_input.py``'s table: each ``Bad`` must give exit 2, one
stderr line naming its field, nothing on stdout, no child and no file changed.
The sandbox holds what they name: ``fifo``, ``sock`` (a Unix socket),
``dangling.json`` (a symlink to nothing), ``link.json`` (to ``existing.json``),
``fifolink.json`` (to ``fifo``) and ``qtui-data`` (a symlink to the data
folder, ``$QTUI_DATA_DIR``, where the live history database and jobs folder
are).  ``/dev/null`` is used only where nothing would be written if it were
accepted (``run``/``sweep``/``exec`` are captured before they start).
"""

from __future__ import annotations

from pathlib import Path

from bad_input_types import Bad, Valid

SCRIPT = str(Path(__file__).resolve().parent / "scripts" / "hybrid_train.py")
ONLY = "regular files only"
DB = "qtui-data/history.sqlite3"

BAD: list[Bad] = [
    # --- names that are no file name ---
    Bad(("run", "--json", ""), "json", "needs a file name"),
    Bad(("run", "--events", ""), "events", "needs a file name"),
    Bad(("sweep", "--json", ""), "json", "needs a file name"),
    Bad(("exec", "--json", "", "--", SCRIPT), "json", "needs a file name"),
    Bad(("exec", "--events", "", "--", SCRIPT), "events", "needs a file name"),
    Bad(("run", "--json", "x.json/"), "json", "ends in /"),
    Bad(("run", "--events", "existing.json/"), "events", "ends in /"),
    Bad(("run", "--json", "folder/"), "json", "ends in /"),
    Bad(("run", "--json", "."), "json", "is a folder"),
    Bad(("run", "--json", ".."), "json", "is a folder"),
    # --- special files: refused, --force or not ---
    Bad(("run", "--json", "fifo"), "json", f"a FIFO: qtui writes {ONLY}"),
    Bad(("run", "--json", "fifo", "--force"), "json", "a FIFO"),
    Bad(("run", "--events", "fifo", "--force"), "events", "a FIFO"),
    Bad(("run", "--json", "/dev/null", "--force"), "json", f"a character device: qtui writes {ONLY}"),
    Bad(("run", "--events", "/dev/null", "--force"), "events", "a character device"),
    Bad(("run", "--json", "sock", "--force"), "json", "a socket"),
    Bad(("run", "--json", "fifolink.json", "--force"), "json", "a FIFO"),
    Bad(("sweep", "--json", "fifo", "--force"), "json", "a FIFO"),
    Bad(("sweep", "--events", "/dev/null", "--force"), "events", "a character device"),
    Bad(("exec", "--json", "fifo", "--force", "--", SCRIPT), "json", "a FIFO"),
    Bad(("exec", "--json", "/dev/null", "--force", "--", SCRIPT), "json", "a character device"),
    Bad(("exec", "--events", "sock", "--force", "--", SCRIPT), "events", "a socket"),
    Bad(("watch", "--jobs-dir", "folder", "--no-tui", "--json", "fifo", "--force"), "json", "a FIFO"),
    # --- dangling symlinks need --force ---
    Bad(("run", "--json", "dangling.json"), "json", "dangling symlink"),
    Bad(("run", "--events", "dangling.json"), "events", "pass --force"),
    Bad(("exec", "--events", "dangling.json", "--", SCRIPT), "events", "dangling symlink"),
    Bad(("run", "--json", "link.json"), "json", "already exists"),
    # --- qtui's own live files ---
    Bad(("run", "--json", DB, "--force"), "json", "qtui's history database"),
    Bad(("run", "--json", f"{DB}-wal", "--force"), "json", "history database (history.sqlite3-wal)"),
    Bad(("run", "--events", f"{DB}-shm", "--force"), "events", "history database"),
    Bad(("sweep", "--events", DB, "--force"), "events", "history database"),
    Bad(("run", "--events", "qtui-data/jobs/e.jsonl", "--force"), "events", "qtui's jobs folder"),
    Bad(("run", "--json", "qtui-data/summaries/s.json", "--force"), "json", "summaries folder"),
    # --- report -o ---
    Bad(("report", "good.json", "-o", "fifo", "-f", "md", "--force"), "fifo", f"a FIFO: qtui writes {ONLY}"),
    Bad(("report", "good.json", "-o", "sock", "-f", "json", "--force"), "sock", "a socket"),
    Bad(("report", "good.json", "-o", "fifolink.json", "--force"), "fifolink.json", "a FIFO"),
    Bad(("report", "good.json", "-o", "dangling.json"), "dangling.json", "dangling symlink"),
    Bad(("report", "good.json", "-o", "x.md/"), "x.md/", "ends in /"),
    Bad(("report", "good.json", "-o", DB, "-f", "json", "--force"), DB, "history database"),
    Bad(("report", "good.json", "-o", "-", "-f", "all"), "output", "give -o FOLDER, not -"),
    # --- readers: regular files only, never blocking ---
    Bad(("report", "fifo"), "fifo", f"a FIFO, not a summary file: qtui reads {ONLY}"),
    Bad(("report", "/dev/null"), "/dev/null", "a character device"),
    Bad(("report", "sock"), "sock", "a socket"),
    Bad(("report", "fifolink.json"), "fifolink.json", "a FIFO"),
    Bad(("report", "dangling.json"), "dangling.json", "no such file"),
    Bad(("compare", "fifo", "good.json"), "fifo", "a FIFO"),
    Bad(("compare", "good.json", "/dev/null"), "/dev/null", "a character device"),
    Bad(("watch", "--once", "fifo"), "fifo", "a FIFO, not an event log"),
    Bad(("watch", "--once", "/dev/null"), "/dev/null", "a character device"),
    Bad(("watch", "--no-tui", "fifo"), "fifo", ONLY),
    Bad(("watch", "sock"), "sock", "a socket"),
    Bad(("history", "--db", "hist.db", "--import", "fifo"), "fifo", "a FIFO"),
    Bad(("history", "--db", "hist.db", "--import", "/dev/null"), "/dev/null", "a character device"),
]

VALID: list[Valid] = [
    Valid(("report", "good.json", "-o", "-"), "-o - is stdout (Markdown by default), not a file "
          "named -", lambda specs, tmp: not (tmp / "-").exists()),
    Valid(("report", "good.json", "-o", "-", "-f", "html"), "-o - takes HTML too: asked for",
          lambda specs, tmp: not (tmp / "-").exists()),
    Valid(("report", "good.json", "-o", "link.json", "--force"),
          "--force writes through a symlink to a regular file, as a shell's > does: the link "
          "stays, its target is replaced",
          lambda specs, tmp: (tmp / "link.json").is_symlink()
          and (tmp / "existing.json").read_text().startswith("{")),
    Valid(("run", "--json", "dangling.json", "--force"),
          "--force writes through a dangling symlink too (the target is created)",
          lambda specs, tmp: len(specs) == 1),
]
