"""One line at the top: mode, isolation, sampling interval, live/paused, run counts.

Thread mode is labelled here (and in the memory panel) because its memory and
thread figures silently include the UI itself; a user comparing numbers must
not miss that.

A cluster session (``--executor slurm``) says so in place of the isolation
mode, with its unfinished jobs in SLURM's words: ``slurm 1 RUNNING · 2 PENDING
(Priority)``; each run's own job is in the run queue's Job column.

While a run waits for the fork server to import torch and pennylane (the first
ctrl+r before the app's background start is done), it says ``starting:
importing torch, pennylane… 3 s``, counting up: the session controller knows
since when (``starting_since``), and a timer redraws the line while runs are
queued or running, since no event comes in that wait (issue 24).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from qtui.core import units
from qtui.core.job_words import jobs_tally
from qtui.core.safe_text import visible_rich
from qtui.ui.panel import LivePanel
from qtui.ui.state import LiveState


def job_counts(state: LiveState) -> str:
    """``1 RUNNING · 2 PENDING (Priority)``: the jobs of the runs not finished yet."""
    return jobs_tally(rec.job for rec in state.active_runs())


#: What a run waiting for the fork server's imports is said to wait for.
STARTING = "starting: importing torch, pennylane…"
#: How often the line looks whether a run waits for the server (while runs are active).
STARTING_CHECK_S = 0.25

def run_counts(counts: dict[str, int]) -> str:
    """``1 running · 2 queued · 3 done · 1 failed · 2 cancelled``: each end in the word
    the run queue uses for it (the header said "stopped" where the queue said
    "cancelled"); waiting runs are not active ones."""
    if not any(counts.values()):
        return ""
    # here, not at the top: the first frame (no runs yet) loads no event schema
    from qtui.core.run_states import LEFT_RUNNING, STATE_WORDS

    #: How a run that did not finish ended, in the order the header lists them.
    ends = ("failed", "crashed", "timed_out", "cancelled", LEFT_RUNNING)
    parts = [
        f"{n} {word}"
        for n, word in (
            (counts.get("running", 0), "running"),
            (counts.get("queued", 0), "queued"),
            (counts.get("finished", 0), "done"),
            *((counts.get(s, 0), STATE_WORDS.get(s, s)) for s in ends),
        )
        if n or word in ("running", "done")
    ]
    return " · ".join(parts)


class StatusLine(LivePanel, Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.mode = "process"
        self.watch_path: str | None = None
        self.interval = 0.1
        self.paused = False
        self.counts: dict[str, int] = {}
        self.message = ""
        self.cluster: str | None = None  # "slurm" with its job counts, for a cluster session
        self.starting: float | None = None  # seconds a run has waited for the server's imports
        self._starting_timer: Timer | None = None

    watches = ("runs",)
    max_hz = 1000.0  # one line: no need to hold it back

    def on_mount(self) -> None:
        self._starting_timer = self.set_interval(STARTING_CHECK_S, self._check_starting, pause=True)

    def _check_starting(self) -> None:
        """Whether a run waits for the fork server now, and for how long (the controller's)."""
        control = getattr(self.app, "control", None)
        since = control.starting_since() if control is not None else None
        waited = None if since is None else max(0.0, time.monotonic() - since)
        if (waited is None) != (self.starting is None) or (
            waited is not None and units.wait(waited) != units.wait(self.starting)
        ):
            self.set(starting=waited)

    def refresh_from(self, state: LiveState) -> None:
        counts: dict[str, int] = {}
        for rec in state.runs():
            counts[rec.state] = counts.get(rec.state, 0) + 1
        executor = state.session_info().get("executor") or {}
        name = executor.get("name") if isinstance(executor, dict) else None
        cluster = None
        if name and name != "local":
            jobs = job_counts(state)
            cluster = f"{name} {jobs}" if jobs else str(name)
            if state.outage_since is not None:  # said where the eye is, not only in a note
                at = time.strftime("%H:%M:%S", time.localtime(state.outage_since))
                cluster += f" · scheduler unreachable since {at}; jobs keep running"
        self.set(counts=counts, cluster=cluster)
        if self._starting_timer is not None:  # looked at only while runs wait or go
            if counts.get("queued") or counts.get("running"):
                self._starting_timer.resume()
            else:
                self._starting_timer.pause()
                self._check_starting()

    def set(self, **kwargs: object) -> None:
        """Painted again only when a field moved: the line watches ``runs``, bumped by
        every batch, and a dirty row 0 with a panel lower down made Textual repaint the
        whole box between them at every frame (issue 24: lag while training)."""
        changed = False
        for k, v in kwargs.items():
            if getattr(self, k) != v:
                setattr(self, k, v)
                changed = True
        if changed:
            self.refresh()

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" qtui ", style="bold reverse")
        t.append(" ")
        if self.watch_path:
            t.append(f"watching {self.watch_path}", style="bold")
        elif self.cluster:
            t.append(self.cluster, style="bold")
        elif self.mode == "thread":
            t.append(
                "THREAD MODE: memory and thread figures cover the whole UI process",
                style="bold reverse",
            )
        else:
            t.append("process isolation")
        if not self.watch_path:  # a watched log's sampling is set by its writer
            t.append(f" · sample {self.interval:g}s")
        t.append(" · ")
        if self.paused:  # short: at 80 columns the counts after it were cut off
            t.append("⏸ PAUSED", style="bold reverse")
        else:
            t.append("▶ live")
        counts = run_counts(self.counts)
        if counts:
            t.append(f" · {counts}")
        if self.starting is not None:
            t.append(f" · {STARTING} {units.wait(self.starting)}", style="bold")
        if self.message:
            t.append(" · " + self.message, style="italic")
        return visible_rich(t)  # a path, a cluster's or a run's words: control characters escaped
