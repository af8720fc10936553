"""The ``--json`` summary, kept current while a session runs.

Like hyperfine's exports, the file is rewritten (atomically: temporary file,
then rename) after every run that ends, so a session killed with SIGKILL, a
closed terminal or a node failure keeps everything that had finished.  The
path was checked before the session started (``qtui.core.paths``); if
writing fails anyway (the folder vanished, the disk filled), the summary goes
to the user data folder and the session says where, instead of losing it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from qtui.core import events as ev
from qtui.core.paths import fallback_path
from qtui.core.summary_schema import Summary


class SummaryFile:
    """Rewrite ``path`` from ``build()`` whenever a run ends; ``final()`` at the end."""

    def __init__(self, path: str, build: Callable[[], Summary]) -> None:
        self.path = path
        self.build = build
        self.error: str | None = None  # the last write failure, if any
        self._lock = threading.Lock()

    def on_event(self, event: ev.Event) -> None:
        """Call after the event is folded: a run's end rewrites the file."""
        if event.type in ev.TERMINAL_TYPES:
            self.write()

    def write(self, data: Summary | None = None) -> str | None:
        """Write ``data`` (else ``build()``) now; returns where it went (None when it
        failed: see ``error``)."""
        from qtui.report.export import ExportError, write_summary

        with self._lock:
            doc = self.build() if data is None else data  # a failure here is a bug: raised
            try:
                where = str(write_summary(doc, self.path, "json", force=True))
            except (OSError, ExportError) as exc:  # kept, reported by final()
                self.error = str(exc)
                return None
            self.error = None
            return where

    def final(self, session_id: str | None, data: Summary) -> tuple[str, str | None]:
        """The last write of ``data``: ``(where it went, why the asked path failed or None)``."""
        where = self.write(data)
        if where is not None:
            return where, None
        why = self.error
        name = f"{Path(self.path).stem}.{session_id or 'session'}.json"
        from qtui.report.export import write_summary

        with self._lock:
            target = write_summary(data, fallback_path(name), "json", force=True)
        return str(target), why
