"""Events the history could not take in time, kept in a file until it can.

When the database stays locked by another process past the end of a session
(``qtui.store.history_writer`` waits ``FLUSH_TIMEOUT_S``), what is left of the
session is written to ``<database>.pending/<session>-<random>.jsonl``: one header
line (the session, the recording process), then the events, encoded as in an
``--events`` log.  The writer's thread then folds the file in as soon as the
lock frees, for as long as this qtui runs; if qtui exits first, the next
``HistoryDB`` that opens the database folds it in.  A fold claims the file by
renaming it (one process wins), records it in one transaction (all or
nothing; on failure the file is put back), and deletes it.  A session whose
pending events end without ``session_finished`` keeps its original writer, so
it is closed as interrupted (runs ``lost``) once that writer is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from qtui.core import events as ev

HEADER_KEY = "qtui_pending_history"


class Folds(Protocol):
    """What folding needs of ``qtui.store.history_db.HistoryDB``."""

    path: Path

    def import_pending(self, header: dict[str, Any], events: list[ev.Event], busy_s: float) -> None: ...


def pending_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".pending")


def spill(db_path: Path, header: dict[str, Any], events: Iterable[ev.Event]) -> Path:
    """Write the header and ``events`` to a new pending file (0600, atomically); its path."""
    folder = pending_dir(db_path)
    folder.mkdir(mode=0o700, exist_ok=True)
    name = f"{header.get('session_id') or 'session'}-{uuid.uuid4().hex[:8]}.jsonl"
    target = folder / name
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(json.dumps({HEADER_KEY: 1, **header}).encode() + b"\n")
        for event in events:
            f.write(ev.encoded(event) + b"\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target


def waiting(path: Path) -> bool:
    """The pending file is still to be folded in (there, or claimed by a fold under way)."""
    return path.exists() or any(path.parent.glob(f".{path.name}.folding-*"))


def _read(path: Path) -> tuple[dict[str, Any], list[ev.Event]]:
    lines = path.read_bytes().splitlines()
    header = json.loads(lines[0]) if lines else {}
    if not isinstance(header, dict) or HEADER_KEY not in header:
        raise ValueError(f"{path} is not a pending-history file")
    events = []
    for line in lines[1:]:
        event, _ = ev.decode(line)
        if event is not None:
            events.append(event)
    return header, events


def fold(db: Folds, busy_s: float = 0.5, only: Path | None = None) -> int:
    """Record every pending file (or ``only``) into ``db``; the number folded in.

    A file whose fold fails (the database locked again) is put back for later;
    an unreadable one is renamed ``*.bad`` and left for a person to look at.
    """
    folder = pending_dir(db.path)
    if not folder.is_dir():
        return 0
    _unclaim_dead(folder)
    done = 0
    for path in sorted(folder.glob("*.jsonl")) if only is None else [only]:
        claimed = path.with_name(f".{path.name}.folding-{os.getpid()}")
        try:
            os.rename(path, claimed)  # one process wins the file
        except OSError:
            continue
        try:
            header, events = _read(claimed)
        except (OSError, ValueError, UnicodeDecodeError):
            with contextlib.suppress(OSError):
                os.rename(claimed, path.with_name(path.name + ".bad"))
            continue
        try:
            db.import_pending(header, events, busy_s)
        except (sqlite3.OperationalError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            # locked again, read-only, the connection closed: later, by whoever opens next
            with contextlib.suppress(OSError):
                os.rename(claimed, path)
            raise
        except Exception:  # noqa: BLE001 - events the database refuses: kept aside, not retried forever
            with contextlib.suppress(OSError):
                os.rename(claimed, path.with_name(path.name + ".bad"))
            continue
        with contextlib.suppress(OSError):
            os.unlink(claimed)
        done += 1
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty
    return done


def _unclaim_dead(folder: Path) -> None:
    """Put back files claimed by a fold whose process died before it finished."""
    for claimed in folder.glob(".*.folding-*"):
        name, _, pid = claimed.name.rpartition(".folding-")
        try:
            os.kill(int(pid), 0)
            continue  # still folding (or another user's: left alone)
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue
        with contextlib.suppress(OSError):
            os.rename(claimed, folder / name.removeprefix("."))
