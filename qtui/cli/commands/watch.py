"""``qtui watch LOG.jsonl``: follow a run started elsewhere, live, like ``tail -f``.

A batch job on a compute node runs ``qtui run ... --events run.jsonl``; on a
login node (same shared file system) ``qtui watch run.jsonl`` opens the TUI
on that log: loss, per-core CPU and memory as the log recorded them,
warnings and results, as they arrive.  The log may not exist yet, may be
mid-line, truncated or rotated (see ``qtui.core.logtail``).

``--no-tui`` prints progress lines and, when the session finishes (or on
Ctrl+C), the results table: for a terminal that cannot host the TUI, for
scripts and for tests.  ``--once`` reads what is in the log now, prints the
table and exits.

``--jobs-dir DIR`` re-attaches to a cluster session (``--executor slurm``)
that qtui left running, from any login that sees the folder: DIR is the
session's folder (the one ``qtui run``/``sweep`` printed) or the jobs folder
above it (its latest session).  Every job's log is read from its start and
then followed, and the jobs still queued or running are watched until they
end, so the live panels, table, recommendation and crossovers read as if the
session had never been left.  It opens the TUI, where quitting asks again
whether to cancel the jobs or leave them; with ``--no-tui`` it prints
progress and the table instead (Ctrl-C asks), and ``--json`` saves the merged
summary.  The re-attached session is recorded in history as a session of its
own.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from qtui.analysis.fold import SessionSummary
from qtui.analysis.outcomes import describe_error
from qtui.analysis.summary_builder import document
from qtui.cli.commands.report import description
from qtui.cli.errors import fail
from qtui.core import events as ev
from qtui.core import units
from qtui.core.logtail import LogTail, log_problem
from qtui.core.safe_text import visible
from qtui.core.summary_schema import Summary
from qtui.report.analysis_report import print_analysis
from qtui.report.console_report import print_report

#: Seconds between progress lines for the same run (batches, samples).
PROGRESS_EVERY = 5.0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "watch",
        help="follow a run's JSONL event log live (from qtui run --events)",
        description=description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "log", metavar="LOG", nargs="?", help="event log written by qtui run --events"
    )
    p.add_argument(
        "--jobs-dir", metavar="DIR", default=None,
        help="re-attach to a cluster session (--executor slurm) in DIR, or the latest one under it",
    )
    p.add_argument(
        "--json", metavar="FILE", help="with --jobs-dir --no-tui: write the summary JSON to FILE"
    )
    p.add_argument("--force", action="store_true", help="with --json: overwrite FILE")
    p.add_argument("--no-tui", action="store_true", help="print progress lines, not the TUI")
    p.add_argument("--once", action="store_true", help="print the log's state now and exit")
    p.add_argument(
        "--interval", type=float, default=0.2, help="seconds between polls (default 0.2)"
    )
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    if args.jobs_dir is not None:
        if args.log is not None:
            return fail("jobs-dir: give a LOG or --jobs-dir, not both")
        if args.no_tui:
            from qtui.cli.commands.watch_jobs import reattach

            return reattach(args)
        if args.json is not None or args.force:
            return fail("json: with --jobs-dir needs --no-tui (in the TUI, e exports the summary)")
        return reattach_tui(args)
    if args.json is not None or args.force:
        return fail("json: needs --jobs-dir (a log's summary: qtui report LOG --format json)")
    if args.log is None:
        return fail("log: the event LOG to follow is required (or --jobs-dir DIR)")
    path = Path(args.log)
    if not 0.01 <= args.interval <= 10:
        return fail(f"interval: must be between 0.01 and 10 seconds, got {args.interval:g}")
    problem = log_problem(path, once=args.once)  # a folder, FIFO, device; unreadable
    if problem:
        return fail(problem)
    if args.once:
        return watch_console(path, once=True)
    if args.no_tui:
        return watch_console(path, interval=args.interval)
    try:
        from qtui.ui.app import run_app
    except ImportError as exc:
        return fail(f"the TUI is not available ({exc}); use --no-tui")
    rc = run_app(args, watch_path=path)
    return int(rc or 0)


def reattach_tui(args: argparse.Namespace) -> int:
    """``qtui watch --jobs-dir DIR``: the TUI, following the cluster session in DIR."""
    from qtui.cluster.jobs_folder import JobsFolderError, find_session, read_manifest

    try:
        folder = find_session(Path(args.jobs_dir).expanduser())
        if not read_manifest(folder).jobs:
            return fail(f"jobs-dir: {folder} holds no submitted runs")
    except JobsFolderError as exc:
        return fail(f"jobs-dir: {exc}")
    try:
        from qtui.ui.app import run_app
    except ImportError as exc:
        return fail(f"the TUI is not available ({exc}); use --no-tui")
    return int(run_app(args, reattach=folder) or 0)


class ProgressPrinter:
    """Turns events into short progress lines (throttled for batches and samples)."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.last: dict[tuple[str, str], float] = {}
        self.seen_warnings: set[tuple[str, tuple[Any, ...]]] = set()
        self.epochs: dict[str, int] = {}
        self.refusals: set[tuple[str, str]] = set()

    def refused(self, device: Any, diff_method: Any, reason: Any) -> None:
        if (str(device), str(diff_method)) not in self.refusals:
            self.refusals.add((str(device), str(diff_method)))
            self.line(f"refused {device}+{diff_method}: {reason}")

    def line(self, text: str, style: str | None = None) -> None:
        # text from the log (errors, warnings, names): its control characters escaped
        self.console.print(visible(text), style=style, markup=False, highlight=False, soft_wrap=True)

    def _due(self, run_id: str, kind: str, t: float) -> bool:
        last = self.last.get((run_id, kind))
        if last is not None and t - last < PROGRESS_EVERY:
            return False
        self.last[(run_id, kind)] = t
        return True

    def show(self, e: ev.Event, summary: SessionSummary) -> None:
        rid = getattr(e, "run_id", "")
        tag = f"[{rid}] " if rid else ""
        if isinstance(e, ev.SessionStarted):
            host = e.machine.get("hostname") or e.machine.get("node") or "?"
            combos = sorted({f"{r.get('device')}+{r.get('diff_method')}" for r in e.runs})
            self.line(
                f"session {e.session_id} on {host}: {len(e.runs)} run(s) planned"
                + (f" ({', '.join(combos)})" if combos else ""),
                "bold",
            )
            for r in e.refused:
                self.refused(r.get("device"), r.get("diff_method"), r.get("reason"))
            for spec in e.runs:
                self.epochs[str(spec.get("run_id"))] = int(spec.get("params", {}).get("epochs", 0))
        elif isinstance(e, ev.RunRefused):
            self.refused(e.device, e.diff_method, e.reason)
        elif isinstance(e, ev.RunStarted):
            self.epochs[rid] = int(e.spec.get("params", {}).get("epochs", 0))
            self.line(
                f"{tag}started {e.spec.get('device')}+{e.spec.get('diff_method')} "
                f"#{int(e.spec.get('repeat_index', 0)) + 1} (pid {e.pid} on {e.host}; "
                f"imports {e.import_s:.1f} s, build {e.build_s:.1f} s)",
                "cyan",
            )
        elif isinstance(e, ev.Batch):
            if self._due(rid, "batch", e.t):
                self.line(f"{tag}epoch {e.epoch} batch {e.batch}: batch loss {units.loss(e.loss)}")
        elif isinstance(e, ev.Epoch):
            total = self.epochs.get(rid) or "?"
            self.line(
                f"{tag}epoch {e.epoch}/{total}: epoch mean loss {units.loss(e.mean_loss)} "
                f"({units.seconds(e.elapsed_s)})"
            )
            self.last[(rid, "batch")] = e.t
        elif isinstance(e, ev.WarningSeen):
            key = (rid, e.key)
            if key not in self.seen_warnings:
                self.seen_warnings.add(key)
                self.line(
                    f"{tag}warning {e.category}: {e.message.strip().splitlines()[0] if e.message.strip() else ''} "
                    f"({e.filename}:{e.lineno})",
                    "yellow",
                )
        elif isinstance(e, ev.Sample):
            if self._due(rid, "sample", e.t):
                self.line(
                    f"{tag}RSS {units.memory(e.rss)} (peak {units.memory(e.peak_rss)}), "
                    f"{units.cores(e.cores_in_use)} cores, {e.threads} threads"
                    + _gpu_text(e),
                    "dim",
                )
        elif isinstance(e, ev.RunFinished):
            named = ", ".join(
                f"{k} {units.metric(m.value)}" for k, m in e.metrics.items() if k != "accuracy"
            )
            scores = (f"accuracy {units.percent(e.accuracy)}, " if e.accuracy is not None or not named
                      else "") + (f"{named}, " if named else "")
            self.line(
                f"{tag}finished in {units.seconds(e.train_s)}: {scores}"
                f"loss {units.loss(e.final_loss)}, {units.cores(e.cores_in_use)} cores, "
                f"peak RSS {units.memory(e.peak_rss)}, {e.warnings} warning(s)",
                "green",
            )
        elif e.type in ev.TERMINAL_TYPES:
            rec = summary.runs.get(rid)
            why = describe_error(rec.error_record() if rec else None, rec.state if rec else None)
            self.line(f"{tag}{why or e.type}", "red")
        elif isinstance(e, ev.LogNote):
            self.line(f"note: {e.message}", "yellow")
        elif isinstance(e, ev.SessionFinished):
            self.line(
                f"session {e.session_id} {'interrupted' if e.interrupted else 'finished'}", "bold"
            )


def _gpu_text(e: ev.Sample) -> str:
    """``, GPU 87.0 % 1.5 GiB`` per GPU, and the run's own GPU memory, when NVML saw one."""
    if not e.gpu_util and not e.gpu_mem_used:
        return ""
    parts = [
        f"GPU{i} {units.percent(u / 100 if u == u else None)} {units.memory(m)}"
        for i, (u, m) in enumerate(zip(e.gpu_util, e.gpu_mem_used, strict=False))
    ]
    if e.run_gpu_mem is not None:
        parts.append(f"run GPU mem {units.memory(e.run_gpu_mem)}")
    return ", " + ", ".join(parts)


def print_results(console: Any, summary: Summary) -> None:
    """The whole report, as ``qtui run`` ends with it: results, then the analysis
    (recommendation, sweep, notes, environment, command line)."""
    if not summary.results:
        console.print("No results yet.", markup=False)
        return
    print_report(summary, console)
    print_analysis(summary, console)


def watch_console(path: Path, interval: float = 0.2, once: bool = False) -> int:
    """Follow ``path`` printing progress; returns 0 when the session finished, 130 on Ctrl+C."""
    from rich.console import Console

    console = Console()
    printer = ProgressPrinter(console)
    summary = SessionSummary()
    tail = LogTail(path, max_bytes=None if once else 4 * 1024 * 1024)
    announced = False
    rc = 0
    try:
        while True:
            events = tail.poll(final=once)
            if tail.waiting and not announced and not once:
                printer.line(f"waiting for {path} to appear ...", "dim")
                announced = True
            for e in events:
                summary.apply(e)
                if not once:
                    printer.show(e, summary)
            if once or summary.finished:
                break
            if not tail.behind:
                time.sleep(interval)
    except KeyboardInterrupt:
        rc = 130
    finally:
        tail.close()
    if once:
        for rec in summary.ordered_runs():
            if rec.state in ("queued", "running"):
                where = f"epoch {rec.epoch} batch {rec.batch}" if rec.step else "not started"
                loss = f", last batch loss {units.loss(rec.last_loss)}" if rec.last_loss is not None else ""
                printer.line(f"[{rec.run_id}] {rec.combo}: {rec.state} ({where}{loss})")
        for note in summary.notes:
            printer.line(f"note: {note}", "yellow")
    print_results(console, document(summary))
    return rc
