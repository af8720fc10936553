"""Enter on a run (queue) or a combination (results): everything known about its runs.

A failed run's reason is the thing a user most needs and the queue has room
for only its exception type, so this view shows the whole message, the end of
the traceback and of the child's stderr, beside the run's parameters, its
warnings and its resources.  Every figure is formatted by ``qtui.core.units``.

A ``qtui exec`` run adds its script's output under the detail: the file of one
stream at a time (``o`` switches), read as it grows while the run goes
(``qtui.ui.output_tail``), every line escaped.  Scroll keys act at once, each from
where the one before left the view, so keys that arrive together all count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Log, Static

from qtui.analysis.fold import RunRecord
from qtui.analysis.outcomes import describe_error
from qtui.core import device_counts, units
from qtui.core.cpu_fit import sentence as cpu_sentence
from qtui.core.job_words import job_words
from qtui.core.safe_text import visible, visible_rich
from qtui.report.results import asked_note, quantum, ran_on
from qtui.ui.output_tail import OutputTail

#: Lines kept from the end of a traceback or of stderr (the end says what went wrong).
TAIL_LINES = 15


def _tail(text: str, n: int = TAIL_LINES) -> list[str]:
    lines = str(text or "").rstrip().splitlines()
    return (["…"] + lines[-n:]) if len(lines) > n else lines


def quantum_text(rec: RunRecord) -> Text:
    """Device truth: what PennyLane executed (``qtui.engine.device_truth``), as the results say it."""
    t = Text()
    q = quantum(rec.result)
    if not q:
        return t
    t.append("\nWhat the devices executed\n", style="bold underline")
    t.append(f"  ran on {ran_on(q)}\n")
    if rec.asked:
        asked = f"{rec.asked.get('device')}+{rec.asked.get('diff_method')}"
        t.append(f"  {asked_note({'asked': asked})} (recorded under what ran)\n", style="yellow")
    steps = units.number(rec.result.get("steps"))
    total = units.number(q.get("execute_s"))
    per_step = total / steps if steps and total is not None else None
    counts = {c.key: units.per_step(q.get(c.field)) for c in device_counts.COUNTS}
    t.append(
        f"  per step: {device_counts.per_step_line(counts)} · "
        f"device time {units.seconds(per_step)} ({units.seconds(total)} in all)\n"
    )
    return t


#: Lines shown of a ``qtui exec`` script's stdout and stderr tails (a run recorded
#: before its output was kept in files: the tails are all it has).
SCRIPT_TAIL_LINES = 50
#: The streams of a script's output, in the order the pane offers them.
STREAMS = ("stdout", "stderr")
#: Lines the output pane holds per stream (the file holds all of them).
OUTPUT_LINES = 20_000
#: How often the pane reads the output files while they may grow.
POLL_S = 0.25


def script_text(rec: RunRecord) -> Text:
    """A ``qtui exec`` run: its command, what it asked for, its exit code, its output."""
    t = Text()
    script = rec.script or {}
    command = script.get("command") or rec.spec.get("command")
    if not command:
        return t
    t.append("\nScript (qtui exec)\n", style="bold underline")
    t.append(f"  {' '.join(str(w) for w in command)}\n")
    if script.get("exit_code") is not None:  # the script ended (else it was stopped)
        for what, asked_key, override_key in (
            ("device", "asked_devices", "device_override"),
            ("diff method", "asked_diff_methods", "diff_method_override"),
        ):
            asked = ", ".join(script.get(asked_key) or []) or "—"
            override = script.get(override_key)
            t.append(f"  {what}: the script asked for {asked}"
                     + (f", replaced by {override}" if override else "") + "\n")
        t.append(f"  exit code {script.get('exit_code')} · "
                 f"{units.count(script.get('loss_points'))} loss points\n")
    for name, values in rec.logged.items():
        t.append(f"  logged {str(name)[:30]}: {units.metric(values[-1] if values else None)}"
                 f" ({len(values)} values)\n")
    kept = {stream: script.get(f"{stream}_path") for stream in STREAMS}
    for stream, path in kept.items():  # the whole output: in the pane below, and here
        if path:
            t.append(f"  {stream} kept in {path}\n", style="dim")
    if script.get("output_note"):
        t.append(f"  {script['output_note']}\n", style="yellow")
    if any(kept.values()):
        return t
    for stream in STREAMS:
        lines = _tail("\n".join(script.get(f"{stream}_tail") or []), SCRIPT_TAIL_LINES)
        if lines:
            t.append(f"  {stream} (last lines):\n", style="dim")
            t.append("".join(f"    {ln}\n" for ln in lines))
    return t


def accounting_text(job: dict[str, Any]) -> Text:
    """A cluster job's accounting (``sacct``, once it ended), its attempts and its logs."""
    t = Text()
    figures = []
    if job.get("queue_wait_s") is not None:
        figures.append(f"queue wait {units.seconds(job['queue_wait_s'])}")
    if job.get("elapsed_s") is not None:
        figures.append(f"ran {units.seconds(job['elapsed_s'])} (sacct Elapsed)")
    if job.get("alloc_cpus") is not None:
        figures.append(f"{job['alloc_cpus']} CPU(s) allocated (AllocCPUS)")
    if int(job.get("attempts") or 0) > 1:
        figures.append(f"{job['attempts']} attempts (SLURM requeued it)")
    if figures:
        t.append("  " + " · ".join(figures) + "\n")
    for name, path in zip(("stdout", "stderr"), job.get("logs") or [], strict=False):
        t.append(f"  {name} {path}\n", style="dim")
    return t


def run_text(rec: RunRecord, label: str, elapsed: float | None) -> Text:
    """One run's detail: what it ran, how it ended and why, warnings, resources."""
    t = Text()
    state = rec.state.replace("_", " ")
    t.append(f"{rec.run_id}  {label}  ", style="bold")
    t.append(state + "\n", style="bold red" if rec.error and rec.state != "cancelled" else "bold")

    t.append("\nParameters\n", style="bold underline")
    resolved = rec.started.get("resolved_diff_method")
    method = rec.diff_method + (f" (resolved: {resolved})" if resolved and resolved != rec.diff_method else "")
    t.append(f"  device {rec.device} · diff method {method}\n")
    params = rec.spec.get("params") or {}
    shown = [f"{k}={v}" for k, v in params.items() if v not in (None, "", 0) or k == "seed"]
    t.append("  " + " · ".join(shown) + "\n")
    limits = f"  repeat #{int(rec.spec.get('repeat_index') or 0) + 1}"
    if rec.spec.get("timeout_s"):
        limits += f" · timeout {units.seconds(rec.spec['timeout_s'])}"
    t.append(limits + "\n")
    t.append_text(quantum_text(rec))
    t.append_text(script_text(rec))

    if rec.job:  # a cluster run: its job, in the scheduler's words
        job = rec.job
        t.append("\nCluster job\n", style="bold underline")
        t.append(f"  {job.get('executor') or 'cluster'} job {job.get('job_id') or '?'}")
        if job.get("array_task_id"):
            t.append(f" (array task {job['array_task_id']})")
        t.append(f" · {job_words(job)}\n")
        cpu = (job.get("machine") or {}).get("cpu_model")
        if job.get("node") or cpu:
            t.append(f"  node {job.get('node') or '?'}" + (f" · {cpu}" if cpu else "") + "\n")
        t.append_text(accounting_text(job))

    if rec.error:
        t.append("\nWhy it did not finish\n", style="bold underline")
        t.append(f"  {describe_error(rec.error_record(), rec.state)}\n", style="bold")
        detail = str(rec.error.get("detail") or "").strip()  # a cluster job's end in SLURM's words
        if detail:
            t.append("  " + detail.replace("\n", "\n  ") + "\n")
        message = str(rec.error.get("message") or "").strip()
        if message and ("\n" in message or len(message) > 200):
            t.append("  " + message.replace("\n", "\n  ") + "\n")
        trace = _tail(str(rec.error.get("traceback") or ""))
        if trace and trace != ["..."]:
            t.append("  traceback (end):\n", style="dim")
            t.append("".join(f"    {ln}\n" for ln in trace))
        stderr = _tail(str(rec.error.get("stderr_tail") or ""))
        if stderr:
            t.append("  stderr (last lines):\n", style="dim")
            t.append("".join(f"    {ln}\n" for ln in stderr))
        if rec.error.get("exit_code") is not None:
            t.append(f"  exit code {rec.error['exit_code']}\n")

    t.append("\nWarnings\n", style="bold underline")
    if rec.warnings:
        for w in rec.warnings.values():
            where = units.source_location(w.get("filename"), w.get("lineno"))
            t.append(f"  {w.get('count')}× {w.get('category')}: {w.get('message')}\n")
            t.append(f"     at {where}\n", style="dim")
    else:
        t.append("  none\n", style="dim")

    t.append("\nResources\n", style="bold underline")
    r = rec.result
    sample = rec.last_sample
    rows = [
        ("training time", units.seconds(r.get("train_s"))),
        ("elapsed", units.seconds(elapsed)),
        ("peak memory", units.memory(r.get("peak_rss") or sample.get("peak_rss"))),
        ("cores in use", units.cores(r.get("cores_in_use", sample.get("cores_in_use")))),
        ("core-seconds", units.core_seconds(r.get("core_s"))),
        ("peak threads", units.count(r.get("peak_threads") or sample.get("peak_threads"))),
        ("final loss", units.loss(r.get("final_loss"))),
        ("last batch loss", units.loss(rec.last_loss)),
    ]
    metrics = r.get("metrics")
    metrics = metrics if isinstance(metrics, dict) else {}
    if r.get("accuracy") is not None or not metrics:
        rows.insert(6, ("accuracy", units.percent(r.get("accuracy"))))
    for name, m in metrics.items():
        if name == "accuracy" or not isinstance(m, dict):
            continue
        better = "higher" if m.get("higher_is_better", True) else "lower"
        rows.append((str(name)[:15], f"{units.metric(m.get('value'))} ({better} is better)"))
    if rec.validation_losses:
        rows.append(("validation loss", units.loss(rec.validation_losses[-1])))
    cpus = rec.cpus()
    if cpus is not None:  # the CPUs it could get, and whether its pools fit (cpu_fit)
        rows.append(("CPUs", cpu_sentence(cpus)))
    for name, value in rows:
        t.append(f"  {name:<16}{value}\n")
    return t


if TYPE_CHECKING:
    _ScrollBase = Widget
else:  # a plain mixin at run time: Textual reads CSS and can_focus from the widget base
    _ScrollBase = object


class _BurstScroll(_ScrollBase):
    """Scroll keys applied at once, each from where the previous one left the view.
    Textual's own defer the scroll until the next refresh, so twelve Downs read in one
    go all started from the same line and moved the view by one or two."""

    def _to(self, *, x: float | None = None, y: float | None = None) -> None:
        self.scroll_to(x=x, y=y, animate=False, immediate=True)

    def _vertical(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()

    def action_scroll_up(self) -> None:
        self._vertical()
        self._to(y=self.scroll_target_y - 1)

    def action_scroll_down(self) -> None:
        self._vertical()
        self._to(y=self.scroll_target_y + 1)

    def action_page_up(self) -> None:
        self._vertical()
        self._to(y=self.scroll_target_y - self.scrollable_content_region.height)

    def action_page_down(self) -> None:
        self._vertical()
        self._to(y=self.scroll_target_y + self.scrollable_content_region.height)

    def action_scroll_home(self) -> None:
        self._vertical()
        self._to(y=0)

    def action_scroll_end(self) -> None:
        self._vertical()
        self._to(y=self.max_scroll_y)

    def action_scroll_left(self) -> None:
        if not self.allow_horizontal_scroll:
            raise SkipAction()
        self._to(x=self.scroll_target_x - 1)

    def action_scroll_right(self) -> None:
        if not self.allow_horizontal_scroll:
            raise SkipAction()
        self._to(x=self.scroll_target_x + 1)


class DetailScroll(_BurstScroll, VerticalScroll):
    """The run's detail, scrolled by keys that may arrive together."""


class OutputLog(_BurstScroll, Log):
    """The script's output, one stream at a time; it follows the end while you are there."""


class _Stream:
    """One stream of a script's output: its file as read so far (the last lines)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tail: OutputTail | None = None
        self.lines: deque[str] = deque(maxlen=OUTPUT_LINES)
        self.count = 0  # lines read in all

    def read(self, rec: RunRecord, ended: bool) -> list[str]:
        """New lines of the stream's file (once the run has ended, its last partial line)."""
        if self.tail is None:
            path = rec.script.get(f"{self.name}_path")
            if not path:
                return []
            self.tail = OutputTail(str(path))
        new = self.tail.poll()
        if ended and self.tail.caught_up:
            new += self.tail.rest()
        self.lines.extend(new)
        self.count += len(new)
        return new

    def done(self, ended: bool) -> bool:
        """Nothing more will come: the run ended and the file is read to its end."""
        return ended and (self.tail is None or self.tail.caught_up or bool(self.tail.note)
                          or not self.tail.opened)


def output_record(runs: Sequence[tuple[RunRecord, str, float | None]]) -> RunRecord | None:
    """The run whose output the pane shows: the first ``qtui exec`` run that keeps it."""
    for rec, _, _ in runs:
        if rec.spec.get("command") and (rec.spec.get("output_dir") or rec.script.get("stdout_path")):
            return rec
    return None


class RunDetailScreen(ModalScreen[None]):
    """The detail of one run, or of every run of one combination."""

    DEFAULT_CSS = """
    RunDetailScreen { align: center middle; }
    RunDetailScreen > Vertical { width: 110; max-width: 98%; height: 90%;
                                 border: thick $primary; background: $surface; padding: 0 1; }
    RunDetailScreen #detail-title { text-style: bold; height: 1; }
    RunDetailScreen #detail-scroll { height: 1fr; }
    RunDetailScreen #output-head { height: 1; text-style: bold; text-wrap: nowrap;
                                   text-overflow: ellipsis; }
    RunDetailScreen #detail-output { height: 2fr; }
    RunDetailScreen #detail-foot { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("o", "other_stream", "stdout/stderr", show=False,
                tooltip="a qtui exec run's output: show its stdout / its stderr"),
    ]

    def __init__(self, title: str, runs: Sequence[tuple[RunRecord, str, float | None]]) -> None:
        super().__init__()
        self.title_text = title
        self.runs = list(runs)
        self.output_rec = output_record(self.runs)
        self.streams = [_Stream(name) for name in STREAMS]
        self.shown = 0  # index in streams
        self._chosen = False  # the user picked a stream (or the pane picked one)
        self._states = self._run_states()

    def text(self) -> Text:
        out = Text()
        for i, (rec, label, elapsed) in enumerate(self.runs):
            if i:
                out.append("\n" + "─" * 40 + "\n\n", style="dim")
            out.append_text(run_text(rec, label, elapsed))
        if not self.runs:
            out.append("no run yet", style="dim")
        return out

    def compose(self) -> ComposeResult:
        with Vertical():
            # a run's text (errors, tracebacks, stderr, warnings): control characters escaped
            yield Static(visible(self.title_text), id="detail-title", markup=False)
            with DetailScroll(id="detail-scroll"):
                yield Static(visible_rich(self.text()), id="detail-body")
            if self.output_rec is not None:
                yield Static("", id="output-head", markup=False)
                yield OutputLog(id="detail-output", max_lines=OUTPUT_LINES, auto_scroll=False)
                foot = "escape closes · arrows scroll · tab detail/output · o stdout/stderr"
            else:
                foot = "enter / escape closes · arrows scroll"
            yield Static(foot, id="detail-foot")

    def on_mount(self) -> None:
        if self.output_rec is None:
            self.query_one("#detail-scroll").focus()
            return
        self.query_one(OutputLog).focus()
        self._head()
        self.call_after_refresh(self._poll)  # once the pane has its size: it follows the end
        self._timer = self.set_interval(POLL_S, self._poll)

    def on_unmount(self) -> None:
        for stream in self.streams:
            if stream.tail is not None:
                stream.tail.close()

    def _run_states(self) -> list[str]:
        return [rec.state for rec, _, _ in self.runs]

    def _poll(self) -> None:
        """Read what the output files gained; redraw the detail when a run's state moved."""
        rec = self.output_rec
        if rec is None:
            return
        ended = rec.state not in ("queued", "running")
        log = self.query_one(OutputLog)
        for i, stream in enumerate(self.streams):
            new = stream.read(rec, ended)
            if new and i == self.shown:
                log.write_lines(new, scroll_end=log.is_vertical_scroll_end)
        out, err = self.streams
        if not self._chosen and (out.count or err.count):
            self._chosen = True
            if not out.count:  # stdout first, unless only stderr has anything
                self._show(1)
        states = self._run_states()
        if states != self._states:
            self._states = states
            self.query_one("#detail-body", Static).update(visible_rich(self.text()))
        self._head()
        if all(s.done(ended) for s in self.streams):
            self._timer.stop()

    def _head(self) -> None:
        rec = self.output_rec
        if rec is None:
            return
        shown, other = self.streams[self.shown], self.streams[1 - self.shown]
        if shown.tail is None and other.tail is None:
            why = rec.script.get("output_note") or (
                "waiting for the script to start" if rec.state in ("queued", "running")
                else "no output file was kept")
            text = f"Output of {rec.run_id}: {why}"
        else:
            note = shown.tail.note if shown.tail is not None else ""
            if shown.tail is not None and not shown.tail.opened and rec.state not in (
                    "queued", "running"):
                note = note or f"{shown.tail.path} is not on this machine"
            text = (f"Output of {rec.run_id} · {shown.name}, {units.count(shown.count)} lines"
                    f" · o: {other.name}, {units.count(other.count)} lines"
                    + (f" · {note}" if note else ""))
        self.query_one("#output-head", Static).update(visible(text))

    def _show(self, index: int) -> None:
        self.shown = index
        log = self.query_one(OutputLog)
        log.clear()
        log.write_lines(list(self.streams[index].lines), scroll_end=True)
        self._head()

    def action_other_stream(self) -> None:
        if self.output_rec is None:
            return
        self._chosen = True
        self._show(1 - self.shown)

    def action_close(self) -> None:
        self.dismiss(None)


def detail_runs(state: Any, run_ids: Sequence[str]) -> list[tuple[RunRecord, str, float | None]]:
    """(record, label, elapsed) of each run the state knows, in the given order."""
    out = []
    for run_id in run_ids:
        rec = state.run(run_id)
        if rec is not None:
            out.append((rec, state.run_label(rec), state.elapsed(rec)))
    return out
