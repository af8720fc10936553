"""``qtui history [SESSION_ID]``: past sessions and their runs, from the history database.

Without an id: sessions newest first (status, host, runs by state,
combinations).  With an id (any unique prefix): that session's runs.
``--json`` prints the same as JSON; ``--summary`` prints the session's full
summary JSON (schema ``qtui.summary``), ready for ``qtui report`` or
``qtui compare``; ``--import LOG.jsonl`` records an event log (e.g. one a
batch job wrote on another node) into the history.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

from qtui.analysis.fold import error_record
from qtui.analysis.outcomes import describe_error
from qtui.cli.commands.report import description, fit_table
from qtui.cli.errors import fail
from qtui.core import units
from qtui.core.parameters import run_label
from qtui.core.safe_text import json_text, one_line, visible
from qtui.store.history_db import HistoryDB, HistoryError, run_tally


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "history",
        help="list past sessions, or one session's runs",
        description=description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("session", nargs="?", metavar="SESSION_ID", help="a session id or prefix")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--summary", action="store_true", help="print the session's summary JSON (needs SESSION_ID)"
    )
    p.add_argument("-n", "--limit", type=int, default=50, help="sessions to list (default 50)")
    p.add_argument(
        "--db", metavar="PATH",
        help="history database (default: qtui's data folder); its folder must exist",
    )
    p.add_argument("--import", dest="import_log", metavar="LOG", help="record an event log")
    p.set_defaults(func=handler)


def check_db_path(text: str) -> str | None:
    """Why ``--db`` cannot be used, or None.  Its folder must exist: a mistyped path is
    refused rather than created (the default data folder is created as needed)."""
    path = Path(text).expanduser()
    if not text.strip() or path.is_dir():
        return f"{text!r} is a folder; give the database file"
    if not path.parent.is_dir():
        return f"folder {path.parent} does not exist (qtui creates the database, not its folder)"
    return None


def _when(t: float | None) -> str:
    if t is None:
        return "—"
    return _dt.datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def handler(args: argparse.Namespace) -> int:
    if args.limit < 1:
        return fail(f"limit: must be at least 1, got {args.limit}")
    if args.db is not None:
        problem = check_db_path(args.db)
        if problem:
            return fail(f"db: {problem}")
    if args.import_log:
        return _import(args.db, args.import_log)
    try:
        db = HistoryDB(args.db)
    except HistoryError as exc:
        return fail(f"db: {exc}" if args.db is not None else str(exc))
    try:
        if args.session is None:
            if args.summary:
                return fail("--summary needs a SESSION_ID")
            return _list(db, args)
        try:
            sid = db.find_session(args.session)
        except HistoryError as exc:
            return fail(f"session: {exc}")
        if args.summary:
            print(json_text(db.summary(sid).dumps().decode()), end="")
            return 0
        return _show(db, sid, args)
    except HistoryError as exc:
        return fail(str(exc))
    finally:
        db.close()


def _import(db_path: str | None, path: str) -> int:
    """Record an event log in one transaction; bad lines are listed and skipped.

    The log is read before the database is opened, and a database this import
    created is removed again when nothing was recorded: a refused import leaves
    nothing behind."""
    from qtui.store.history_db import default_path
    from qtui.store.loading import LoadError, load_events

    try:
        log = load_events(path)
    except LoadError as exc:
        return fail(str(exc))
    for problem in log.problems[:_SHOWN_PROBLEMS]:
        print(one_line(f"qtui: {path}: {problem} (skipped)"), file=sys.stderr)
    if log.skipped > _SHOWN_PROBLEMS:
        print(f"qtui: {path}: {log.skipped - _SHOWN_PROBLEMS} more line(s) skipped", file=sys.stderr)
    if not any(e.type != "note" for e in log.events):
        return fail(f"{path} holds no qtui events; nothing recorded")
    target = Path(db_path) if db_path is not None else default_path()
    new = not target.exists()
    try:
        db = HistoryDB(target)
    except HistoryError as exc:
        return fail(f"db: {exc}" if db_path is not None else str(exc))
    try:
        code = _record(db, path, log.events)
    finally:
        db.close()
    if code and new:  # created for this import: leave no empty database
        for name in (target.name, f"{target.name}-wal", f"{target.name}-shm"):
            with contextlib.suppress(OSError):
                (target.parent / name).unlink()
    return code


def _record(db: HistoryDB, path: str, events: list[Any]) -> int:
    import sqlite3

    try:
        n = db.import_events(events)
    except (sqlite3.Error, OverflowError) as exc:
        return fail(f"{path}: nothing recorded, the history database refused it ({exc})")
    if db.session_id is None:
        return fail(f"{path} holds no qtui events")
    print(f"recorded {n} events as session {db.session_id}", file=sys.stderr)
    return 0


#: Skipped lines listed one by one on import; the rest are counted.
_SHOWN_PROBLEMS = 10


def _list(db: HistoryDB, args: argparse.Namespace) -> int:
    sessions = db.sessions(limit=args.limit)
    if args.json:
        print(json.dumps(sessions, indent=2, default=str))
        return 0
    if not sessions:
        print(f"No sessions recorded yet ({db.path}).")
        return 0
    from rich.console import Console

    rows = []
    for s in sessions:
        runs = run_tally(s)
        rows.append([  # names and hosts from the recorded logs: control characters escaped
            visible(s["session_id"]), _when(s["started_t"]), visible(s["status"]),
            visible(s.get("host") or "—"), runs, visible("\n".join(s["combos"])),
        ])
    console = Console()
    headers = ["Session", "Started", "Status", "Host", "Runs", "Combinations"]
    longest = max((len(c) for s in sessions for c in s["combos"]), default=0)
    # Names are never folded mid-word: one a line in their column when it has the
    # room, else listed under the table, wrapped between names.
    inline = console.width >= 72 + longest
    if not inline:
        headers, rows = headers[:-1], [r[:-1] for r in rows]
    align = ["l"] * len(headers)
    console.print(fit_table(console, f"qtui history ({db.path})", headers, rows, align, ("Host",)))
    if not inline:
        import textwrap

        console.print("Combinations:", highlight=False)
        for s in sessions:
            console.print(
                textwrap.fill(
                    visible(", ".join(s["combos"])), width=max(console.width, longest + 4),
                    initial_indent=f"  {visible(s['session_id'])}: ", subsequent_indent="    ",
                    break_long_words=False, break_on_hyphens=False,
                ),
                highlight=False, markup=False, soft_wrap=True,
            )
    return 0


def _show(db: HistoryDB, sid: str, args: argparse.Namespace) -> int:
    runs = db.runs(sid)
    if args.json:
        print(json.dumps({"session_id": sid, "runs": runs}, indent=2, default=str))
        return 0
    from rich.console import Console

    headers = ["Run", "Combination", "State", "Time", "Core-s", "Peak RSS", "Accuracy",
               "Loss", "Warnings", "Error"]
    rows = [
        [
            r["run_id"],
            run_label(
                {"device": r["device"], "diff_method": r["diff_method"]}, r["repeat_index"]
            ),
            r["state"],
            units.seconds(r["train_s"]),
            units.core_seconds(r["core_s"]),
            units.memory(r["peak_rss"]),
            units.percent(r["accuracy"]),
            units.loss(r["final_loss"]),
            units.count(r["warnings"]),
            describe_error(error_record(r["error"]) if r["error"] else None, r["state"])
            if r["state"] != "finished" else "",
        ]
        for r in runs
    ]
    rows = [[visible(cell) for cell in row] for row in rows]  # a run's text, escaped
    named = _named_metrics(db, sid)
    if any(named.values()):  # a workload's own metrics (mse, r2...), as every view names them
        headers.insert(7, "Metrics")
        for row, r in zip(rows, runs, strict=True):
            row.insert(7, visible(named.get(r["run_id"], "")))
    console = Console()
    align = ["l", "l", "l", "r", "r", "r", "r", "r", "r", "l"]
    if len(headers) > len(align):
        align.insert(7, "l")
    console.print(
        fit_table(console, f"session {visible(sid)}", headers, rows, align,
                  ("Loss", "Accuracy", "Core-s", "Warnings"))
    )
    return 0


def _named_metrics(db: HistoryDB, sid: str) -> dict[str, str]:
    """run_id -> ``mse 0.052 · r2 0.91``: a run's named metrics other than accuracy (the
    Accuracy column), from its recorded ``run_finished`` (the database keeps no column
    per metric); formatted by ``units.metric`` like the results model's metric cells."""
    try:
        summary = db.summary(sid)
    except HistoryError:
        return {}
    out: dict[str, str] = {}
    for run in summary.runs:
        metrics = run.result.metrics if run.result is not None else {}
        parts = [
            f"{name} {units.metric(m.value)}" for name, m in metrics.items() if name != "accuracy"
        ]
        out[run.run_id] = " · ".join(parts)
    return out
