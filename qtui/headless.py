"""Headless sessions: live progress with rich, a hyperfine-style table at the end.

``run_session`` drives a ``Supervisor`` from a worker thread while the main
thread shows progress and handles Ctrl-C (and SIGTERM): the first one cancels
every run, and the session still prints the table and saves what finished.
Everything shown comes from ``qtui.summary.SessionSummary``, the same fold of
the event stream the TUI and the exporters use.

No torch or pennylane here: this runs in the CLI process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from qtui import events as ev
from qtui.analysis_report import print_analysis
from qtui.config import RunSpec
from qtui.session_control import SessionController
from qtui.summary import RunRecord, SessionSummary

EXIT_OK = 0
EXIT_RUNS_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


# --- formatting helpers ---------------------------------------------------------------


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1:
        return f"{s * 1000:.1f} ms"
    if s < 100:
        return f"{s:.3f} s"
    return f"{s:.1f} s"


def fmt_bytes(n: float | None) -> str:
    if not n:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit in ("B", "KiB") or n >= 100 else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def fmt_num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def run_label(rec: RunRecord) -> str:
    """``device+method #k`` (k = 1-based repeat), as the one-line reasons say it."""
    return f"{rec.combo} #{int(rec.spec.get('repeat_index', 0)) + 1}"


def outcome_text(rec: RunRecord) -> str:
    """One line saying how a run that did not finish ended."""
    e = rec.error or {}
    if rec.state == "crashed":
        if e.get("signal"):
            return f"crashed, {e['signal']}"
        return f"crashed, exit code {e.get('exit_code')}"
    if rec.state == "failed":
        msg = str(e.get("message", "")).strip().splitlines()
        return f"failed, {e.get('exc_type', 'error')}" + (f": {msg[0][:120]}" if msg else "")
    if rec.state == "timed_out":
        return f"timed out after {float(e.get('timeout_s') or 0):g} s"
    if rec.state == "cancelled":
        return str(e.get("reason") or "cancelled")
    return rec.state


# --- live progress --------------------------------------------------------------------


class Progress:
    """Thread-safe progress state; ``on_event`` runs on the supervisor's thread."""

    def __init__(self, specs: list[RunSpec], console: Console, live: bool) -> None:
        self.summary = SessionSummary()
        self.order = [s.run_id for s in specs]
        self.total = len(specs)
        self.console = console
        self.live = live
        self.lock = threading.Lock()
        self.current: str | None = None
        self.t_run: float | None = None

    def index(self, run_id: str) -> int:
        return self.order.index(run_id) + 1 if run_id in self.order else 0

    def on_event(self, event: ev.Event) -> None:
        with self.lock:
            rec = self.summary.apply(event)
        if rec is None:
            if isinstance(event, ev.LogNote):
                self._print(f"note: {event.message}", style="yellow")
            return
        i = self.index(rec.run_id)
        head = f"[{i}/{self.total}] {run_label(rec)}"
        if isinstance(event, ev.RunStarted):
            with self.lock:
                self.current, self.t_run = rec.run_id, time.monotonic()
            extra = []
            if event.resolved_diff_method and event.resolved_diff_method != rec.diff_method:
                extra.append(f"best → {event.resolved_diff_method}")
            if event.split_batch:
                extra.append("batch split")
            note = f" ({', '.join(extra)})" if extra else ""
            self._print(f"{head}: started{note}, imports {event.import_s:.1f} s")
        elif isinstance(event, ev.RunFinished):
            acc = "-" if event.accuracy is None else f"{event.accuracy * 100:.1f} %"
            self._clear(rec.run_id)
            self._print(
                f"{head}: finished in {fmt_seconds(event.train_s)}, loss {event.final_loss:.4f},"
                f" accuracy {acc}, peak RSS {fmt_bytes(event.peak_rss)},"
                f" {event.cores_in_use:.2f} cores",
                style="green",
            )
        elif event.type in ("run_failed", "run_crashed", "run_timed_out", "run_cancelled"):
            self._clear(rec.run_id)
            self._print(f"{head}: {outcome_text(rec)}", style="red")

    def _clear(self, run_id: str) -> None:
        with self.lock:
            if self.current == run_id:
                self.current = None

    def _print(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(text, style=style or ""), highlight=False)

    def __rich__(self) -> RenderableType:
        with self.lock:
            rec = self.summary.runs.get(self.current) if self.current else None
            done = sum(
                1 for r in self.summary.runs.values() if r.state not in ("queued", "running")
            )
            if rec is None:
                return Text(f"{done}/{self.total} runs done", style="dim")
            s = rec.last_sample
            bpe = int(rec.started.get("batches_per_epoch") or 0)
            epochs = int(rec.spec.get("params", {}).get("epochs", 0) or 0)
            elapsed = time.monotonic() - (self.t_run or time.monotonic())
            line = Text()
            line.append(f"run {self.index(rec.run_id)}/{self.total} ", style="bold")
            line.append(run_label(rec), style="cyan")
            line.append(f"  epoch {rec.epoch}/{epochs or '?'}")
            line.append(f"  batch {rec.batch}/{bpe or '?'}")
            line.append(f"  loss {fmt_num(rec.last_loss, 4)}")
            line.append(f"  {elapsed:.1f} s")
            res = Text("  ")
            res.append(f"RSS {fmt_bytes(s.get('rss'))}  threads {s.get('threads', '-')}")
            res.append(f"  cores in use {fmt_num(s.get('cores_in_use'))}")
            percpu = s.get("percpu") or []
            if percpu:
                res.append("  cpu ", style="dim")
                for p in percpu[:48]:
                    res.append(_bar(float(p)), style="green" if p < 70 else "yellow")
            return Group(line, res)


def _bar(pct: float) -> str:
    blocks = " ▁▂▃▄▅▆▇█"
    return blocks[min(8, max(0, round(pct / 12.5)))]


# --- the result table -----------------------------------------------------------------


def _combo_label(c: dict[str, Any]) -> Text:
    label = Text(str(c.get("label") or c["command"]))
    params = c.get("parameters", {})
    extra = []
    resolved = c.get("resolved_diff_method")
    if resolved and resolved != params.get("diff_method"):
        extra.append(f"→ {resolved}")
    if c.get("split_batch"):
        extra.append("split batch")
    if extra:
        label.append("\n" + ", ".join(extra), style="dim")
    runs = c.get("runs", {})
    if runs.get("finished", 0) != runs.get("total", 0):
        label.append(f"\n{runs.get('finished', 0)}/{runs.get('total', 0)} finished", style="red")
    return label


def _new_table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
    )


#: Below this many columns the table is split into timing and resources.
WIDE = 150


def results_tables(summary: SessionSummary, width: int = 80) -> list[Table]:
    """hyperfine's columns plus the resources beside them, one row per combination.

    One table when the console is wide enough, else two (timing; resources),
    so it stays readable at 80 columns.
    """
    wide = width >= WIDE
    timing = _new_table("Results" if wide else "Results: training time")
    timing.add_column("Combination", no_wrap=True)
    for name in ("Time (mean ± σ)", "Min", "Max", "Relative"):
        timing.add_column(name, justify="right", no_wrap=True)
    resources = timing if wide else _new_table("Results: resources and outcome")
    if not wide:
        resources.add_column("Combination", no_wrap=True)
    names = ("Peak RSS", "Cores", "Core-s", "Threads", "Accuracy", "Final loss", "Warnings")
    if not wide:
        names = ("Peak RSS", "Cores", "Core-s", "Thr.", "Acc.", "Loss", "Warn.")
    for name in names:
        resources.add_column(name, justify="right", no_wrap=True)
    for c in summary.combos():
        label = _combo_label(c)
        mean, sd = c.get("mean"), c.get("stddev")
        time_text = "-" if mean is None else fmt_seconds(mean)
        if mean is not None and sd is not None:
            time_text += f" ± {fmt_seconds(sd)}"
        rel = c.get("relative")
        t_cells: list[Any] = [
            time_text,
            fmt_seconds(c.get("min")),
            fmt_seconds(c.get("max")),
            "-" if rel is None else f"{rel:.2f}",
        ]
        res = c.get("resources", {})
        acc = c.get("accuracy")
        warn = int(c.get("warning_count") or 0)
        r_cells: list[Any] = [
            fmt_bytes(res.get("peak_rss_bytes")),
            fmt_num(res.get("cores_in_use")),
            fmt_num(res.get("core_s")),
            "-" if res.get("peak_threads") is None else str(res.get("peak_threads")),
            "-" if acc is None else f"{acc * 100:.1f} %",
            fmt_num(c.get("final_loss"), 4),
            Text(str(warn), style="yellow" if warn else ""),
        ]
        if wide:
            timing.add_row(label, *t_cells, *r_cells)
        else:
            timing.add_row(label, *t_cells)
            resources.add_row(label.copy(), *r_cells)
    return [timing] if wide else [timing, resources]


def unfinished(summary: SessionSummary) -> list[RunRecord]:
    return [r for r in summary.runs.values() if r.state != "finished"]


def print_report(summary: SessionSummary, console: Console) -> None:
    if any(r.state == "finished" for r in summary.runs.values()):
        for table in results_tables(summary, console.width):
            console.print(table)
    else:
        console.print("No run finished.")
    bad = unfinished(summary)
    if bad:
        console.print("Did not finish:", style="bold red")
        for r in bad:
            console.print(f"  {run_label(r)} ({r.run_id}): {outcome_text(r)}", highlight=False)
    if summary.refused:
        console.print("Refused by PennyLane (not run):", style="bold")
        for item in summary.refused:
            console.print(
                f"  {item['device']}+{item['diff_method']}: {item['reason']}", highlight=False
            )
    warned = [c for c in summary.combos() if c.get("warnings")]
    if warned:
        console.print("Warnings:", style="bold yellow")
        for c in warned:
            for w in c["warnings"][:5]:
                console.print(
                    f"  {c['command']}: {w['count']}× {w['category']}: {w['message'][:100]}"
                    f" ({Path(str(w['filename'])).name}:{w['lineno']})",
                    highlight=False,
                )


def exit_reason(summary: SessionSummary) -> str | None:
    """``N of M runs did not finish (a: crashed, SIGKILL; ...)`` or None."""
    bad = unfinished(summary)
    if not bad:
        return None
    shown = "; ".join(f"{run_label(r)}: {outcome_text(r)}" for r in bad[:3])
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    return f"{len(bad)} of {len(summary.runs)} runs did not finish ({shown}{more})"


# --- saving -----------------------------------------------------------------------------


def save_summary(data: dict[str, Any], path: str, force: bool) -> str:
    """Write the JSON summary atomically; returns where it went."""
    try:
        from qtui import export
    except ImportError:
        export = None  # type: ignore[assignment]
    writer = getattr(export, "write_summary", None) if export is not None else None
    if writer is not None:
        return str(writer(data, path, "json", force))
    target = Path(path).expanduser()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
    os.replace(tmp, target)
    return str(target)


# --- the session ------------------------------------------------------------------------


@contextlib.contextmanager
def _signals(on_signal: Any) -> Iterator[None]:
    """Route SIGINT/SIGTERM to ``on_signal`` while the session runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in saved:
        signal.signal(s, on_signal)
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def _with_history(on_event: Any, err: Console) -> Any:
    """Tee events into the history database; a database problem never stops a run."""
    if os.environ.get("QTUI_NO_HISTORY"):
        return on_event
    try:
        from qtui.history_db import HistoryDB, HistoryError, recording

        db = HistoryDB()
    except (HistoryError, OSError, sqlite3.Error) as exc:
        err.print(f"qtui: warning: history is not recorded ({exc})", highlight=False)
        return on_event
    return recording(on_event, db)


def run_session(
    specs: list[RunSpec],
    *,
    refused: list[dict[str, Any]] | None = None,
    interval: float = 0.1,
    events_path: str | None = None,
    json_path: str | None = None,
    force: bool = False,
    argv: list[str] | None = None,
    out: Console | None = None,
    err: Console | None = None,
) -> int:
    """Run ``specs``, show progress, print the table, save ``--json``; returns the exit code."""
    out = out or Console()
    err = err or Console(stderr=True)
    live_mode = err.is_terminal
    progress_ref: list[Progress] = []
    control = SessionController(
        lambda e: progress_ref[0].on_event(e), record=lambda f: _with_history(f, err)
    )
    specs = control.number(specs)  # the ids progress shows, before any event arrives
    progress = Progress(specs, err, live_mode)
    progress_ref.append(progress)
    if refused:
        err.print("Refused by PennyLane (not run):", style="bold")
        for item in refused:
            err.print(f"  {item['device']}+{item['diff_method']}: {item['reason']}", highlight=False)
    err.print(f"Running {len(specs)} run(s), one at a time.", highlight=False)

    received: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        if not received:
            err.print(
                "\nInterrupted: cancelling runs (the table and --json keep what finished)...",
                style="yellow",
            )
        received.append(signum)
        control.cancel_all()

    with _signals(on_signal):
        live_ctx = (
            Live(progress, console=err, refresh_per_second=4, transient=True)
            if live_mode
            else contextlib.nullcontext()
        )
        with live_ctx:
            control.start(
                specs,
                interval=interval,
                refused=refused or [],
                events_path=events_path,
                argv=argv,
                renumber=False,
            )
            while control.active:
                try:
                    control.wait(0.2)
                except KeyboardInterrupt:  # when no handler could be installed
                    on_signal(signal.SIGINT, None)
    if control.error is not None:
        raise control.error

    summary = progress.summary
    out.print()
    print_report(summary, out)
    data = summary.to_dict()
    print_analysis(data, out)
    code = EXIT_OK
    if json_path:
        try:
            where = save_summary(data, json_path, force)
            err.print(f"Summary written to {where}", highlight=False)
        except Exception as exc:  # noqa: BLE001 - keep the data: write it beside
            fallback = f"{json_path}.{summary.session.get('session_id', os.getpid())}.json"
            save_summary(data, fallback, True)
            err.print(f"qtui: could not write {json_path} ({exc}); saved {fallback} instead")
            code = EXIT_RUNS_FAILED
    if events_path:
        err.print(f"Events written to {events_path}", highlight=False)
    if received:
        err.print("qtui: interrupted; the runs that had not finished were cancelled")
        return EXIT_TERMINATED if received[0] == signal.SIGTERM else EXIT_INTERRUPTED
    reason = exit_reason(summary)
    if reason:
        err.print(f"qtui: {reason}", highlight=False)
        return EXIT_RUNS_FAILED
    return code
