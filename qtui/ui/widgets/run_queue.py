"""The run queue: every run of the session with its state and progress.

The row under the cursor is what "cancel selected" (``c``) acts on.  States
carry a symbol as well as a colour, so they read the same with ``NO_COLOR``.

Elapsed comes right after the state, before the columns whose width depends on
what a run says (its progress, an error's name, its job): at 80 columns a
contended run's ``✓ finished ⚠ contended`` pushed a last-but-one Elapsed off the
edge as ``Elap`` (issue 23, item 7).  The last batch's loss comes last.

A contended run (it trained while other processes kept the node busy) carries
``⚠`` after its state, and the word is said once, in a legend on the queue's
bottom border (``CONTENDED_LEGEND``), not on every row: ``✓ finished ⚠
contended`` on each such row cut the Progress column at 80 columns (``ep 6/6 b
40/``; issue 23, "tables that keep their names", as issue 23 item 6 asks of the
report's tables: say it once, with a legend).  That leaves a contended row as wide
as a finished one: Run, Combination, State, Elapsed and Progress are whole at 80
columns (the results tab) and in the monitor's two thirds of 120.

While a run trains, its counts are as wide as their totals (``ep  3/40 b  9/20``): a
Progress column that narrowed and widened with each tenth batch laid the whole screen
out again each time (issue 24: lag while a run trains).  A finished run's reads as
before (``ep 6/6 b 40/40``).

A cluster session (``--executor slurm``) adds a Job column after Elapsed, from
the ``job_state`` events: the job id and SLURM's word for where it stands
(``PENDING (Priority)``, ``RUNNING on node12``, ``TIMEOUT``, ``LOST``).  A
cluster run is followed in order, so a run still "pending" for qtui may
already be running (or done) on its node: the Job column says so.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets._data_table import SegmentLines

from qtui.analysis.fold import RunRecord
from qtui.core.job_words import JOB_FAILED, job_words
from qtui.core.run_states import STATE_WORDS
from qtui.core.safe_text import visible
from qtui.core.units import loss as fmt_loss
from qtui.report.results import CONTENDED_MARK, CONTENDED_NOTE
from qtui.ui.panel import LivePanel
from qtui.ui.state import LiveState
from qtui.ui.widgets.loss_panel import STATE_MARK

STATE_STYLE = {
    "queued": "dim",
    "running": "bold",
    "finished": "green",
    "failed": "red",
    "crashed": "bold red",
    "timed_out": "yellow",
    "cancelled": "yellow",
    "left_running": "cyan",
}
#: A cluster job's states before it has a node (SLURM's words): its run waits, not imports.
WAITING_JOB = frozenset({"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "UNKNOWN"})
STATE_WORD = {**STATE_WORDS, "queued": "pending"}
#: The contention mark's legend, on the bottom border while a listed run carries it:
#: the report's note up to its parenthesis (one wording; the note itself is too long).
CONTENDED_LEGEND = CONTENDED_NOTE.partition(" (")[0]


def fmt_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}" if m else f"{seconds:.1f}s"


class RunQueue(LivePanel, DataTable[Text]):
    DEFAULT_CSS = """
    RunQueue { height: 1fr; }
    """

    COLS = (
        ("id", "Run"),
        ("combo", "Combination"),
        ("state", "State"),
        ("elapsed", "Elapsed"),
        ("progress", "Progress"),
        ("loss", "Batch loss"),  # the last batch's loss (issue 8: each loss says what it is)
    )

    slot = 3  # its turn while a run trains (``qtui.ui.panel.SLOTS``)

    #: Added after Elapsed once a run has a cluster job (at ``JOB_AT``).
    JOB_COL = ("job", "Job")
    JOB_AT = 4

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.cols: tuple[tuple[str, str], ...] = self.COLS
        self._cells_drawn: dict[Hashable, SegmentLines] = {}

    # drawing --------------------------------------------------------------------
    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """A cell drawn again only when what it shows, its style or its width changed.

        Textual keys its cell cache on the table's count of updates, so the progress of
        one batch drew every cell of the queue again: 4 ms a redraw at 200×50, four
        times a second while a run trains (``benchmarks/ui_lag.py --frames``)."""
        try:
            column_key = self._column_locations.get_key(column_index)
            row_key = (
                self._header_row_key if row_index == -1 else self._row_locations.get_key(row_index)
            )
            if column_key is None or row_key is None:
                raise KeyError(column_index)
            value: object = (
                self.columns[column_key].label if row_index == -1 else self._data[row_key][column_key]
            )
        except (AttributeError, KeyError):  # not a table as this Textual keeps it
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        shown = (value.plain, value.style, tuple(value.spans)) if isinstance(value, Text) else value
        key = (
            row_index, column_index, row_key, column_key, shown, base_style, width, cursor,
            hover, self._show_hover_cursor, self.show_cursor, self._pseudo_class_state,
        )
        lines = self._cells_drawn.get(key)
        if lines is None:
            if len(self._cells_drawn) > 2000:  # cells of values long gone
                self._cells_drawn.clear()
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cells_drawn[key] = lines
        return lines

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cells_drawn = {}

    def notify_style_update(self) -> None:
        super().notify_style_update()  # a theme, a focus: every cell again, as Textual does
        self._cells_drawn = {}

    def on_mount(self) -> None:
        for key, label in self.cols:
            self.add_column(Text(label), key=key)  # a str title loads rich's emoji table (0.9 MB)

    def _show_jobs(self) -> None:
        """The first cluster run: the columns again, with Job after Elapsed."""
        self.cols = (*self.COLS[: self.JOB_AT], self.JOB_COL, *self.COLS[self.JOB_AT :])
        self.clear(columns=True)
        for key, label in self.cols:
            self.add_column(Text(label), key=key)

    @property
    def selected_run(self) -> str | None:
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return str(key.value) if key.value is not None else None

    def version(self, state: LiveState) -> tuple[int, int]:
        """Runs changed, or another second went by while one is active (elapsed)."""
        ticking = int(time.monotonic()) if state.active_runs() else 0
        return (state.versions.runs, ticking)

    def refresh_from(self, state: LiveState) -> None:
        self.update_data(state)

    def update_data(self, state: LiveState) -> None:
        runs = state.runs()
        if len(self.cols) == len(self.COLS) and any(r.job for r in runs):
            self._show_jobs()
        for rec in runs:
            cells = self._cells(state, rec)
            if len(self.cols) > len(self.COLS):
                cells.insert(self.JOB_AT, _job_cell(rec))
            if rec.run_id in self.rows:
                for (key, _), cell in zip(self.cols, cells, strict=True):
                    old = self.get_cell(rec.run_id, key)
                    if _same(old, cell):
                        continue  # a changed cell redraws the whole table: only what moved
                    # measuring the column again is for a cell of another width only
                    wider = not isinstance(old, Text) or old.cell_len != cell.cell_len
                    self.update_cell(rec.run_id, key, cell, update_width=wider)
            else:
                self.add_row(*cells, key=rec.run_id)
        contended = any(rec.result.get("contended") for rec in runs)
        self.border_subtitle = CONTENDED_LEGEND if contended else ""

    def _cells(self, state: LiveState, rec: RunRecord) -> list[Text]:
        style = STATE_STYLE.get(rec.state, "")
        word = STATE_WORD.get(rec.state, rec.state)
        queued_job = rec.state == "running" and not rec.started and (
            str(rec.job.get("state") or "") in WAITING_JOB
        )
        if queued_job:  # launched by qtui, but its cluster job has no node yet
            style, word = STATE_STYLE["queued"], STATE_WORD["queued"]
        epochs = int((rec.spec.get("params") or {}).get("epochs", 0) or 0)
        bpe = int(rec.started.get("batches_per_epoch", 0) or 0)
        params = rec.spec.get("params") or {}
        steps = int(params.get("steps", 0) or 0)
        warmup = int(params.get("warmup", 0) or 0)
        if queued_job:
            progress = "waiting in the queue"
        elif rec.state == "running" and not rec.started:
            progress = "starting: imports"
        elif steps and (rec.state == "running" or rec.step):
            # a sweep point: step-limited, the first warm-up steps unmeasured
            total = warmup + steps  # counts as wide as the total: the column keeps its width
            progress = f"step {rec.step:>{len(str(total))}}/{total}"
            if rec.step <= warmup and rec.state == "running":
                progress += " warm-up"
        elif rec.state == "running" or (rec.state != "queued" and rec.epoch):
            progress = f"ep {rec.epoch:>{len(str(epochs))}}/{epochs or '?'} b {rec.batch:>{len(str(bpe))}}/{bpe or '?'}"
        elif rec.state == "queued":
            progress = ""
        else:
            progress = ""
        if rec.state in ("failed", "crashed", "timed_out", "cancelled") and rec.error:
            detail = rec.error.get("exc_type") or rec.error.get("signal") or rec.error.get("reason")
            if detail:
                progress = visible(str(detail))[:28]  # a run's text: control characters escaped
        loss = fmt_loss(rec.last_loss) if rec.last_loss is not None else ""
        mark = Text(f"{STATE_MARK.get('queued' if queued_job else rec.state, '?')} {word}", style=style)
        if rec.result.get("contended"):
            # trained while other processes kept the node busy: its time is unreliable
            # (the word is in the legend on the border)
            mark.append(f" {CONTENDED_MARK}", style="bold yellow")
        return [
            Text(rec.run_id),
            Text(visible(state.run_label(rec))),
            mark,
            Text(fmt_elapsed(state.elapsed(rec))),
            Text(progress),
            Text(loss),
        ]


def _same(old: object, new: Text) -> bool:
    """The cell shows the same (``Text`` compares its characters and spans, not its style)."""
    return isinstance(old, Text) and old == new and old.style == new.style


def _job_cell(rec: RunRecord) -> Text:
    """``12_3 RUNNING on node12``: the job id and SLURM's word (empty: a local run)."""
    words = job_words(rec.job)
    if not words:
        return Text("")
    state = str(rec.job.get("state") or "")
    job_id = str(rec.job.get("job_id") or "")
    if rec.state not in ("queued", "running") and state in ("PENDING", "RUNNING"):
        # the run's result is in and its job is exiting; the scheduler's last word
        # (read before the session ended) would say it still runs
        node = str(rec.job.get("node") or "")
        return Text(f"{job_id} on {node}" if node else job_id, style="dim")
    if state in ("CANCELLED", "TIMEOUT"):
        style = "yellow"
    else:
        style = "red" if state in JOB_FAILED else ("bold" if state == "RUNNING" else "dim")
    return Text(f"{job_id} {words}".strip(), style=style)
