"""``qtui history [SESSION_ID]``: past sessions and their runs, from the history database.

Without an id: sessions newest first (status, host, runs by state,
combinations).  With an id (any unique prefix): that session's runs.
``--json`` prints the same as JSON; ``--summary`` prints the session's full
summary JSON (schema ``qtui.summary``), ready for ``qtui report`` or
``qtui compare``; ``--import LOG.jsonl`` records an event log (e.g. one a
batch job wrote on another node) into the history.

With an id, ``--name TEXT``, ``--tag TAG`` (repeatable), ``--untag TAG`` and
``--note TEXT`` mark the session (``--name ""`` removes its name); ``--delete``
removes it, after asking (``--yes`` answers for a script).  Without an id,
``--tag``, ``--device``, ``--method``, ``--since`` and ``--until`` (YYYY-MM-DD)
filter the list, as the app's history filter does (``tag:gpu since:2026-12-01``).
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
from qtui.core.safe_text import json_text, one_line, visible
from qtui.core.summary_schema import Summary
from qtui.core.workload_groups import WorkloadGroups
from qtui.store.history_db import HistoryDB, HistoryError, delete_question, run_tally
from qtui.store.history_filter import FilterError, SessionFilter, filter_from_flags
from qtui.store.session_marks import MarkError, check_name, check_note, check_tags, marks_text


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
    marks = p.add_argument_group("name, tag, note or delete a session (with SESSION_ID)")
    marks.add_argument("--name", metavar="TEXT", help='name the session ("" removes the name)')
    marks.add_argument(
        "--tag", action="append", default=[], metavar="TAG",
        help="tag the session (repeatable); without SESSION_ID: list only sessions with this tag",
    )
    marks.add_argument(
        "--untag", action="append", default=[], metavar="TAG", help="remove a tag (repeatable)"
    )
    marks.add_argument("--note", metavar="TEXT", help='a note on the session ("" removes it)')
    marks.add_argument(
        "--delete", action="store_true",
        help="delete the session, its runs and events and its qtui exec output folder "
        "(asks first on a terminal)",
    )
    marks.add_argument("--yes", action="store_true", help="answer --delete's question with yes")
    only = p.add_argument_group("filter the list (without SESSION_ID; every one given must hold)")
    only.add_argument(
        "--device", action="append", default=[], metavar="NAME",
        help="only sessions with a run on this device (repeatable)",
    )
    only.add_argument(
        "--method", action="append", default=[], metavar="NAME",
        help="only sessions with a run with this diff method (repeatable)",
    )
    only.add_argument("--since", metavar="YYYY-MM-DD", help="only sessions started on or after this day")
    only.add_argument("--until", metavar="YYYY-MM-DD", help="only sessions started on or before this day")
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


def _writes(args: argparse.Namespace) -> list[str]:
    """The flags given that change the history (with a SESSION_ID)."""
    given = [("--name", args.name is not None), ("--tag", bool(args.tag)),
             ("--untag", bool(args.untag)), ("--note", args.note is not None),
             ("--delete", args.delete)]
    return [flag for flag, on in given if on]


def _check_flags(args: argparse.Namespace) -> str | None:
    """Why these flags do not go together, or None; read before the database is opened."""
    writes = _writes(args)
    if args.session is None:
        for flag, metavar in (("--name", "TEXT"), ("--note", "TEXT"), ("--untag", "TAG"),
                              ("--delete", ""), ("--yes", "")):
            if flag in writes or (flag == "--yes" and args.yes):
                usage = f"qtui history SESSION_ID {flag} {metavar}".rstrip()
                return f"{flag[2:]}: needs a SESSION_ID ({usage})"
        return None
    for flag in ("device", "method", "since", "until"):
        if getattr(args, flag):
            return f"{flag}: filters the list of sessions; give it without a SESSION_ID"
    for flag in ("json", "summary"):
        if writes and getattr(args, flag):
            return (f"--{flag}: prints; --name, --tag, --untag, --note and --delete change "
                    "the history: give one or the other")
    if args.delete and len(writes) > 1:
        return "--delete: removes the session; give it without --name, --tag, --untag and --note"
    if args.yes and not args.delete:
        return "--yes: answers --delete's question; give it with --delete"
    return None


def _check_marks(args: argparse.Namespace) -> str | None:
    """Why a name, tag or note given cannot be stored, or None."""
    try:
        if args.name is not None:
            check_name(args.name)
        if args.note is not None:
            check_note(args.note)
        if args.session is not None:
            check_tags(args.tag)
        check_tags(args.untag, "untag")
    except MarkError as exc:
        return str(exc)
    return None


def handler(args: argparse.Namespace) -> int:
    if args.limit < 1:
        return fail(f"limit: must be at least 1, got {args.limit}")
    if args.db is not None:
        problem = check_db_path(args.db)
        if problem:
            return fail(f"db: {problem}")
    problem = _check_flags(args) or _check_marks(args)
    if problem:
        return fail(problem)
    try:
        where = filter_from_flags(
            tags=args.tag if args.session is None else [], devices=args.device,
            methods=args.method, since=args.since, until=args.until,
        )
    except FilterError as exc:
        return fail(str(exc))
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
            return _list(db, args, where)
        try:
            sid = db.find_session(args.session)
        except HistoryError as exc:
            return fail(f"session: {exc}")
        if args.delete:
            return _delete(db, sid, args.yes)
        if _writes(args):
            return _mark(db, sid, args)
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


def _mark(db: HistoryDB, sid: str, args: argparse.Namespace) -> int:
    """Name, tag and note the session (one transaction); say what it now holds."""
    try:
        s = db.mark(sid, name=args.name, note=args.note, tag=args.tag, untag=args.untag)
    except MarkError as exc:
        return fail(str(exc))
    name = f"name '{s['name']}'" if s["name"] else "no name"
    tags = f"tags {', '.join(s['tags'])}" if s["tags"] else "no tags"
    note = f"note '{s['note']}'" if s["note"] else "no note"
    print(one_line(f"session {sid}: {name}; {tags}; {note}"), file=sys.stderr)
    return 0


def _delete(db: HistoryDB, sid: str, yes: bool) -> int:
    """Delete the session once the user said yes: asked on a terminal, ``--yes`` without
    one (a script's delete is written out, never assumed)."""
    session = db.session(sid)
    question = delete_question(session)
    if not yes:
        if not sys.stdin.isatty():
            return fail(f"delete: no terminal to ask '{question}'; add --yes to delete without asking")
        print(one_line(question) + " [y/N] ", end="", file=sys.stderr, flush=True)
        try:
            answer = sys.stdin.readline()
        except (KeyboardInterrupt, OSError, ValueError):
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.", file=sys.stderr)
            return 1
    try:
        deleted = db.delete_session(sid)
    except HistoryError as exc:
        return fail(f"delete: {exc}")
    print(one_line(deleted.line(sid)), file=sys.stderr)
    return 0


#: Skipped lines listed one by one on import; the rest are counted.
_SHOWN_PROBLEMS = 10


def _list(db: HistoryDB, args: argparse.Namespace, where: SessionFilter) -> int:
    sessions = db.sessions(limit=args.limit, where=where)
    if args.json:
        print(json.dumps(sessions, indent=2, default=str))
        return 0
    if not sessions and where.active:
        print(visible(f"No session matches {where.text()} ({db.count_sessions()} recorded; {db.path})."))
        return 0
    if not sessions:
        print(f"No sessions recorded yet ({db.path}).")
        return 0
    from rich.console import Console

    rows = []
    for s in sessions:
        runs = run_tally(s)
        rows.append([  # names and hosts from the recorded logs: control characters escaped
            visible(s["session_id"]), visible(marks_text(s)), _when(s["started_t"]),
            visible(s["status"]), visible(s.get("host") or "—"), runs,
            visible("\n".join(s["combos"])),
        ])
    console = Console()
    headers = ["Session", "Name", "Started", "Status", "Host", "Runs", "Combinations"]

    def width(*names: str) -> int:  # as fit_table counts it
        cols = [headers.index(n) for n in names]
        return sum(max(len(r[i]) for r in [headers, *rows]) + 3 for i in cols) + 1

    named = max((len(r[1]) for r in rows), default=0)
    # A name stays on one line: in its column when the table has the room, else under
    # the table (no empty column when no session is named or tagged).
    names_inline = bool(named) and console.width >= width("Session", "Name", "Started", "Status", "Runs")
    longest = max((len(c) for s in sessions for c in s["combos"]), default=0)
    # Names are never folded mid-word: one a line in their column when it has the
    # room, else listed under the table, wrapped between names.
    inline = console.width >= 72 + longest + (named + 3 if names_inline else 0)
    keep = [h for h in headers if (h != "Name" or names_inline) and (h != "Combinations" or inline)]
    rows = [[r[headers.index(h)] for h in keep] for r in rows]
    align = ["l"] * len(keep)
    title = f"qtui history ({db.path})" + (f": {where.text()}" if where.active else "")
    console.print(fit_table(console, visible(title), keep, rows, align, ("Host",)))
    if named and not names_inline:
        _under(console, "Names:", [(s, marks_text(s)) for s in sessions if marks_text(s)], named)
    if not inline:
        _under(console, "Combinations:", [(s, ", ".join(s["combos"])) for s in sessions], longest)
    return 0


def _under(console: Any, title: str, items: list[tuple[dict[str, Any], str]], longest: int) -> None:
    """What did not fit the table, under it: one session a paragraph, wrapped between
    words, never inside one."""
    import textwrap

    console.print(title, highlight=False)
    for s, text in items:
        console.print(
            textwrap.fill(
                visible(text), width=max(console.width, longest + 4),
                initial_indent=f"  {visible(s['session_id'])}: ", subsequent_indent="    ",
                break_long_words=False, break_on_hyphens=False,
            ),
            highlight=False, markup=False, soft_wrap=True,
        )


def _show(db: HistoryDB, sid: str, args: argparse.Namespace) -> int:
    runs = db.runs(sid)
    session = db.session(sid)
    if args.json:
        marks = {k: session[k] for k in ("name", "tags", "note")}
        print(json.dumps({"session_id": sid, **marks, "runs": runs}, indent=2, default=str))
        return 0
    from rich.console import Console

    summary = _summary(db, sid)
    labels = _run_labels(summary, runs)
    headers = ["Run", "Combination", "State", "Time", "Core-s", "Peak RSS", "Accuracy",
               "Loss", "Warnings", "Error"]
    rows = [
        [
            r["run_id"],
            labels[r["run_id"]],
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
    named = _named_metrics(summary)
    if any(named.values()):  # a workload's own metrics (mse, r2...), as every view names them
        headers.insert(7, "Metrics")
        for row, r in zip(rows, runs, strict=True):
            row.insert(7, visible(named.get(r["run_id"], "")))
    console = Console()
    for line in (marks_text(session), f"note: {session['note']}" if session["note"] else ""):
        if line:  # the name, tags and note given the session
            console.print(visible(line), highlight=False, markup=False, soft_wrap=True)
    align = ["l", "l", "l", "r", "r", "r", "r", "r", "r", "l"]
    if len(headers) > len(align):
        align.insert(7, "l")
    # A run's name is never folded (a script's is its command line): in its column when
    # the table keeps room for the columns it never drops and 20 cells of an error, else
    # under the table.
    drops = ("Loss", "Accuracy", "Core-s", "Warnings")
    kept = [i for i, h in enumerate(headers) if h not in (*drops, "Error")]
    error = min(20, max(len(x) for x in ["Error", *(r[-1] for r in rows)]))
    need = sum(max(len(x) for x in [headers[i], *(r[i] for r in rows)]) + 3 for i in kept) + error + 4
    inline = console.width >= need
    if not inline:
        keep = [i for i in range(len(headers)) if headers[i] != "Combination"]
        headers, align = [headers[i] for i in keep], [align[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
    table = fit_table(console, f"session {visible(sid)}", headers, rows, align, drops)
    if inline:  # whole: the error folds instead
        table.columns[1].no_wrap = True
        table.columns[1].min_width = max(len(r[1]) for r in rows)
    console.print(table)
    if not inline:
        named_runs = [({"session_id": r["run_id"]}, labels[r["run_id"]]) for r in runs]
        _under(console, "Combinations:", named_runs, max(len(x) for x in labels.values()))
    return 0


def _summary(db: HistoryDB, sid: str) -> Summary | None:
    """The session rebuilt from its events (the runs' parameters as they ran), or None."""
    try:
        return db.summary(sid)
    except HistoryError:
        return None


def _run_labels(summary: Summary | None, runs: list[dict[str, Any]]) -> dict[str, str]:
    """run_id -> its name as every view gives it (``core.workload_groups``): a script's
    run by its script, arguments and what it ran on (the runs table's own device
    column holds ``script`` for one), the swept values of its family."""
    by_id = {r.run_id: r for r in summary.runs} if summary is not None else {}
    groups = WorkloadGroups(list(by_id.values()))
    out = {}
    for r in runs:
        run = by_id.get(r["run_id"])
        params = run.parameters if run is not None else r["parameters"] or {
            "device": r["device"], "diff_method": r["diff_method"]}
        out[r["run_id"]] = groups.run_label(params, r["repeat_index"])
    return out


def _named_metrics(summary: Summary | None) -> dict[str, str]:
    """run_id -> ``mse 0.052 · r2 0.91``: a run's named metrics other than accuracy (the
    Accuracy column), from its recorded ``run_finished`` (the database keeps no column
    per metric); formatted by ``units.metric`` like the results model's metric cells."""
    if summary is None:
        return {}
    out: dict[str, str] = {}
    for run in summary.runs:
        metrics = run.result.metrics if run.result is not None else {}
        parts = [
            f"{name} {units.metric(m.value)}" for name, m in metrics.items() if name != "accuracy"
        ]
        out[run.run_id] = " · ".join(parts)
    return out
