"""The qtui monitor: a form to pick runs, a supervisor in a worker thread, live panels.

Data flow (memray's live TUI is the model): the supervisor's thread, or the log
follower in watch mode, calls ``EventFeed.push`` for every event; a timer on
the UI thread drains the feed ~15 times a second, folds the whole batch into
``LiveState`` and redraws only the panels whose data changed.  So a burst of
events costs one redraw, the producer never waits on the UI, and the plots
redraw at a bounded rate.

The UI process never imports torch or pennylane: the capability probe and the
runs are children (``--isolation thread`` is the labelled exception, where the
training runs in a thread of this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, TabbedContent, TabPane

from qtui import events as ev
from qtui.config import RunSpec
from qtui.ui import themes as theme_store
from qtui.ui.messages import (
    CapabilitiesFailed,
    CapabilitiesReady,
    FormValidity,
    SessionDone,
    StartRequested,
    WatchDone,
)
from qtui.ui.screens.confirm import ConfirmScreen
from qtui.ui.screens.export import ExportScreen
from qtui.ui.screens.help import HelpScreen
from qtui.ui.screens.message import MessageScreen
from qtui.ui.state import EventFeed, LiveState
from qtui.ui.widgets.cpu_panel import CpuPanel
from qtui.ui.widgets.loss_panel import LossPanel
from qtui.ui.widgets.memory_panel import MemoryPanel
from qtui.ui.widgets.phases_panel import PhasesPanel, phase_rows
from qtui.ui.widgets.recommend_panel import RecommendationPanel
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_form import RunForm
from qtui.ui.widgets.run_queue import RunQueue
from qtui.ui.widgets.status_line import StatusLine
from qtui.ui.widgets.sweep_panel import SweepPanel
from qtui.ui.widgets.threadpools_panel import ThreadPoolsPanel
from qtui.ui.widgets.warnings_panel import WarningsPanel

W = TypeVar("W", bound=Widget)

#: Sampling intervals offered by + and - (seconds).
INTERVAL_STEPS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
#: How often the feed is drained and panels redrawn (Hz).  High enough to feel
#: live, low enough that a fast run cannot make the UI redraw per event.
TICK_HZ = 15
#: Each panel redraws at most this often; its data keeps folding in between.
MAX_PANEL_HZ = 4
TABS = ("setup", "monitor", "results", "warnings", "gpu", "phases", "sweep")

#: Under 120 columns the footer shows only these per tab (the rest still work).
FOOTER_BY_TAB: dict[str, set[str]] = {
    "setup": {"start", "sweep_mode", "export", "history", "change_theme"},
    "monitor": {"toggle_pause", "interval", "cancel_selected", "cancel_all", "loss_mode"},
    "results": {"cancel_selected", "cancel_all", "export", "history", "change_theme"},
    "warnings": {"toggle_pause", "export", "history", "change_theme"},
    "gpu": {"toggle_pause", "export", "history", "change_theme"},
    "phases": {"toggle_pause", "cancel_selected", "cancel_all", "export", "history"},
    "sweep": {"sweep_mode", "sweep_axis", "cancel_all", "export", "history"},
}
_FOOTER_MANAGED = set().union(*FOOTER_BY_TAB.values())

#: Actions that only make sense with a supervisor (hidden in watch mode).
_RUN_ACTIONS = {"start", "cancel_selected", "cancel_all", "interval", "reprobe", "sweep_mode"}


class QtuiApp(App[int]):
    """The monitor.  Everything external can be injected, so tests and snapshots
    drive it deterministically: ``capabilities`` (skip the probe), ``events``
    (pre-folded data), ``gpu`` (force the GPU panel off/on)."""

    CSS_PATH = "app.tcss"
    TITLE = "qtui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+r", "start", "Start runs", priority=True),
        Binding("space,p", "toggle_pause", "Pause", key_display="p"),
        Binding("plus,equals_sign", "interval(1)", "Sampling", key_display="+/-"),
        Binding("minus", "interval(-1)", "Sample faster", show=False),
        Binding("c", "cancel_selected", "Cancel"),
        Binding("C", "cancel_all", "Cancel all", key_display="C"),
        Binding("b", "loss_mode", "Loss view"),
        Binding("w", "sweep_mode", "Sweep form"),
        Binding("x", "sweep_axis", "Sweep axis"),
        Binding("e", "export", "Export"),
        Binding("h", "history", "History"),
        Binding("t", "change_theme", "Theme"),
        # The same keys again, never shown: under 120 columns the footer shows
        # only the current tab's keys (FOOTER_BY_TAB), but every key works on
        # every tab.  ``?`` and the palette list them all.
        Binding("space,p", "key('toggle_pause')", show=False),
        Binding("plus,equals_sign", "key('interval', 1)", show=False),
        Binding("minus", "key('interval', -1)", show=False),
        Binding("c", "key('cancel_selected')", show=False),
        Binding("C", "key('cancel_all')", show=False),
        Binding("b", "key('loss_mode')", show=False),
        Binding("w", "key('sweep_mode')", show=False),
        Binding("x", "key('sweep_axis')", show=False),
        Binding("e", "key('export')", show=False),
        Binding("h", "key('history')", show=False),
        Binding("t", "key('change_theme')", show=False),
        Binding("1", "tab('setup')", "Setup tab", show=False),
        Binding("2", "tab('monitor')", "Monitor tab", show=False),
        Binding("3", "tab('results')", "Results tab", show=False),
        Binding("4", "tab('warnings')", "Warnings tab", show=False),
        Binding("5", "tab('gpu')", "GPU tab", show=False),
        Binding("6", "tab('phases')", "Phases tab", show=False),
        Binding("7", "tab('sweep')", "Sweep tab", show=False),
    ]

    def __init__(
        self,
        *,
        theme: str | None = None,
        isolation: str = "process",
        watch_path: Path | None = None,
        capabilities: Any = None,
        capabilities_loader: Callable[[bool], Any] | None = None,
        events: Iterable[ev.Event] = (),
        gpu: bool | None = None,
        record_history: bool = True,
        history_factory: Callable[[], Any] | None = None,
        persist_theme: bool = True,
    ) -> None:
        super().__init__()
        self.isolation = isolation
        self.watch_path = watch_path
        self.feed = EventFeed()
        self.state = LiveState()
        self.state.apply_batch(events)
        self._caps = capabilities
        self.probe_error: str | None = None
        self._caps_loader = capabilities_loader
        self._gpu = gpu
        self.record_history = record_history
        self.history_factory = history_factory
        self.persist_theme = persist_theme
        self.paused = False
        self.interval = 0.1
        self._drawn: dict[str, int] = {}
        self._drawn_at: dict[str, float] = {}
        self._force = False
        self._widgets: dict[type, Widget] = {}
        self._queue_cache: list[RunQueue] = []
        self._supervisor: Any = None
        self._sup_thread: threading.Thread | None = None
        self._sup_done = threading.Event()
        self._sup_done.set()
        self._pending: list[tuple[list[RunSpec], float, list[dict[str, str]]]] = []
        self._run_counter = len(self.state.summary.runs)
        self._phases_pick: str | None = None
        self._analysis_version = -1
        self._analysis: tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]] = ([], {}, {})
        self._stop_watch = threading.Event()
        self._last_elapsed_tick = 0.0
        self.tick_count = 0
        self.form_valid = False
        self.exported: list[Path] = []
        self._theme_problems: list[str] = []
        self._register_themes(theme)

    # themes -----------------------------------------------------------------------
    def _register_themes(self, requested: str | None) -> None:
        loaded, self._theme_problems = theme_store.load_themes()
        self.qtui_themes = loaded
        for qt in loaded.values():
            self.register_theme(qt.theme)
        wanted = requested or theme_store.saved_theme() or theme_store.DEFAULT_THEME
        if wanted not in self.available_themes:
            if requested:
                self._theme_problems.append(
                    f"unknown theme {requested!r}; available: {', '.join(sorted(loaded))}"
                )
            wanted = (
                theme_store.DEFAULT_THEME if theme_store.DEFAULT_THEME in loaded else "textual-dark"
            )
        self.theme = wanted
        if requested and self.persist_theme and wanted == requested:
            theme_store.save_setting("theme", wanted)

    def series_colors(self) -> list[str]:
        qt = self.qtui_themes.get(self.theme)
        return qt.series if qt else list(theme_store.DEFAULT_SERIES)

    def _theme_changed(self, theme: Any) -> None:
        if self.persist_theme:
            theme_store.save_setting("theme", theme.name)
        self._drawn.clear()  # every panel redraws with the new colours
        self.call_after_refresh(self._redraw, True)

    # layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        initial = "monitor" if (self.watch_path or self.state.summary.runs) else "setup"

        def lazy(tab: str, widget: Widget) -> Widget:
            """Panes not shown first mount after the first frame (first frame < 1 s)."""
            return widget if tab == initial else Lazy(widget)

        with TabbedContent(initial=initial, id="tabs"):
            if self.watch_path is None:
                with TabPane("1 Setup", id="setup"):
                    yield lazy("setup", RunForm(id="form"))
            with TabPane("2 Monitor", id="monitor"), lazy("monitor", Horizontal(id="monitor-body")):
                with Vertical(id="mon-left"):
                    yield _titled(LossPanel(id="loss"), "Loss")
                    yield _titled(RunQueue(id="mon-queue"), "Runs")
                with Vertical(id="mon-right"):
                    with _titled(Vertical(id="cpu-box"), "CPU per core (node, 0–100 %)"):
                        yield CpuPanel(id="cpu")
                        yield ThreadPoolsPanel(thread_mode=self.isolation == "thread", id="pools")
                    yield _titled(
                        MemoryPanel(thread_mode=self.isolation == "thread", id="memory"),
                        "Memory — thread mode: figures cover the whole UI process"
                        if self.isolation == "thread"
                        else "Memory of the run's child process",
                    )
            with TabPane("3 Results", id="results"), lazy("results", Vertical()):
                yield _titled(
                    RunQueue(id="queue"), "Run queue (c cancels the highlighted run, C all)"
                )
                yield _titled(
                    ResultsTable(id="results-table"),
                    "Results per combination (s sorts, ★ best, ! > 1.5 cores busy)",
                )
                with _titled(
                    VerticalScroll(id="recommend-box"),
                    "Recommendation for this workload on this machine",
                ):
                    yield RecommendationPanel(id="recommend")
            with TabPane("4 Warnings", id="warnings"):
                yield lazy(
                    "warnings",
                    _titled(WarningsPanel(id="warnings-panel"), "Warnings (deduplicated)"),
                )
            with TabPane("6 Phases", id="phases"), lazy(
                "phases",
                _titled(VerticalScroll(id="phases-box"), "Where a training step's time goes"),
            ):
                yield PhasesPanel(id="phases-panel")
            with TabPane("7 Sweep", id="sweep"):
                yield lazy(
                    "sweep",
                    _titled(
                        SweepPanel(id="sweep-panel"),
                        "Sweep: per training step against the swept value",
                    ),
                )
        yield Footer(compact=True)

    @property
    def capabilities(self) -> Any:
        """The probe's answer once it arrived (a lazily mounted form reads it)."""
        return self._caps

    def _has_gpu(self) -> bool:
        return bool(self._gpu)

    @work(thread=True, exit_on_error=False, group="gpu")
    def _detect_gpu(self) -> None:
        """NVML start-up costs ~0.3 s even without a GPU: done after the first frame."""
        from qtui.ui.widgets.gpu_panel import gpu_available

        found = gpu_available()
        self.call_from_thread(self._gpu_detected, found)

    def _gpu_detected(self, found: bool) -> None:
        self._gpu = found
        if found:
            self.call_later(self._add_gpu_tab)

    async def _add_gpu_tab(self) -> None:
        from qtui.ui.widgets.gpu_panel import GpuPanel

        panel = GpuPanel(id="gpu-panel")
        panel.border_title = "GPU (NVML)"
        await self.query_one(TabbedContent).add_pane(
            TabPane("5 GPU", panel, id="gpu"), after="warnings"
        )

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        status = self.query_one(StatusLine)
        status.set(
            mode=self.isolation,
            watch_path=str(self.watch_path) if self.watch_path else None,
            interval=self.interval,
        )
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", timeout=8)
        self.set_interval(1 / TICK_HZ, self._tick)
        if self.watch_path is not None:
            self._follow(self.watch_path)
        elif self._caps is not None:
            self.post_message(CapabilitiesReady(self._caps))
        else:
            # after the first frame: reading the probe cache hashes package
            # metadata, which would otherwise delay the first paint
            self.call_after_refresh(self._probe, False)
        if self._gpu is None:
            self.call_after_refresh(self._detect_gpu)
        elif self._gpu:
            self.call_after_refresh(self._add_gpu_tab)
        self._redraw()

    # capabilities -----------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="probe")
    def _probe(self, refresh: bool) -> None:
        try:
            if self._caps_loader is not None:
                caps = self._caps_loader(refresh)
            else:
                from qtui.capabilities import load_capabilities

                caps = load_capabilities(refresh=refresh)
        except Exception as exc:  # noqa: BLE001 - shown in the form
            self.post_message(CapabilitiesFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(CapabilitiesReady(caps))

    @on(CapabilitiesReady)
    async def _caps_ready(self, message: CapabilitiesReady) -> None:
        self._caps = message.capabilities
        self.probe_error = None
        for form in self.query(RunForm):
            await form.set_capabilities(message.capabilities)

    @on(CapabilitiesFailed)
    async def _caps_failed(self, message: CapabilitiesFailed) -> None:
        self.probe_error = message.error
        for form in self.query(RunForm):
            await form.set_probe_failed(message.error)

    @on(FormValidity)
    def _validity(self, message: FormValidity) -> None:
        self.form_valid = message.valid
        self.refresh_bindings()

    # the event pump -----------------------------------------------------------------
    def _tick(self) -> None:
        """Drain the feed, fold the batch, redraw what changed (at most TICK_HZ/s)."""
        self.tick_count += 1
        events = self.feed.drain()
        if events:
            self.state.apply_batch(events)
        if not self.paused:
            try:
                self._redraw()
            except NoMatches:
                # A panel between mount and compose (Lazy), or being torn down
                # while the app exits: its parts are not there this tick.  Forget
                # what was drawn so the next tick redraws everything.
                self._drawn.clear()
                self._widgets.clear()

    def _redraw(self, force: bool = False) -> None:
        self._force = force
        v = self.state.versions
        now = time.monotonic()
        active = bool(self.state.active_runs())
        colors = self.series_colors()

        def changed(name: str, version: int, widget: object = True) -> bool:
            # a lazily mounted panel that is not there yet stays "not drawn"
            if widget is None or self._drawn.get(name) == version:
                return False
            # each panel redraws at most MAX_PANEL_HZ: a burst of batches or
            # samples costs one redraw, and the next tick catches up
            if now - self._drawn_at.get(name, 0.0) < 1 / MAX_PANEL_HZ and not self._force:
                return False
            self._drawn[name] = version
            self._drawn_at[name] = now
            return True

        loss = self._maybe(LossPanel)
        if changed("loss", v.loss, loss) and loss is not None:
            runs = [
                (
                    rec,
                    self.state.run_label(rec),
                    colors[self.state.colors.get(rec.run_id, 0) % len(colors)],
                )
                for rec in self.state.runs()
                if rec.batch_losses or rec.epoch_losses or rec.state == "running"
            ]
            loss.update_data(runs)
        cpu = self._maybe(CpuPanel)
        if changed("cpu", v.cpu, cpu) and cpu is not None:
            cpu.update_data(self.state.percpu, self.state.cpu_history)
        pools = self._maybe(ThreadPoolsPanel)
        if changed("pools", v.memory, pools) and pools is not None:
            rec = self.state.memory_run()
            pools.update_data(rec, self.state.threads.get(rec.run_id) if rec else None)
        memory = self._maybe(MemoryPanel)
        if changed("memory", v.memory, memory) and memory is not None:
            rec = self.state.memory_run()
            rid = rec.run_id if rec else ""
            memory.update_data(
                rec,
                self.state.run_label(rec) if rec else "",
                self.state.rss_history.get(rid, []),
                self.state.threads.get(rid),
                self.state.cores.get(rid),
                colors[self.state.colors.get(rid, 0) % len(colors)],
            )
        queues = self._queues()
        tick_elapsed = active and now - self._last_elapsed_tick >= 1.0
        if (changed("runs", v.runs, queues or None) or tick_elapsed) and queues:
            self._last_elapsed_tick = now
            for q in queues:
                q.update_data(self.state)
        if self._drawn.get("status") != v.runs:
            self._drawn["status"] = v.runs
            counts: dict[str, int] = {}
            for rec in self.state.runs():
                counts[rec.state] = counts.get(rec.state, 0) + 1
            self._status().set(counts=counts)
        results = self._maybe(ResultsTable)
        if changed("results", v.results, results) and results is not None:
            results.update_data(self.analysis()[0])
        recommend = self._maybe(RecommendationPanel)
        if changed("recommend", v.results, recommend) and recommend is not None:
            combos, rec_dict, _ = self.analysis()
            recommend.update_data(rec_dict, combos)
        sweep = self._maybe(SweepPanel)
        if changed("sweep", v.results, sweep) and sweep is not None:
            sweep.update_data(self.analysis()[2], colors)
        phases = self._maybe(PhasesPanel)
        if changed("phases", v.phases + v.results, phases) and phases is not None:
            self._draw_phases(phases, colors)
        warnings = self._maybe(WarningsPanel)
        if changed("warnings", v.warnings, warnings) and warnings is not None:
            warnings.update_data(self.state)
        if self._drawn.get("warn-tab") != v.warnings:
            self._drawn["warn-tab"] = v.warnings
            n = len(self.state.warnings)
            with contextlib.suppress(Exception):
                tab = self.query_one(TabbedContent).get_tab("warnings")
                tab.label = f"4 Warnings ({n})" if n else "4 Warnings"

    def analysis(self) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        """``results[]``, recommendation and sweep of the session, as in ``to_dict()``;
        recomputed once per finished run, not per panel or per tick."""
        version = self.state.versions.results
        if self._analysis_version != version:
            from qtui.recommend import recommend
            from qtui.sweep import analyse

            combos = self.state.summary.combos()
            finished = [c for c in combos if c.get("mean") is not None]
            self._analysis = (combos, recommend(finished), analyse(finished))
            self._analysis_version = version
        return self._analysis

    def _draw_phases(self, panel: PhasesPanel, colors: list[str]) -> None:
        rec = self.state.phases_run(self._phases_pick)
        title, method, seconds, steps = "", "", {}, None
        if rec is not None:
            mark = {"running": "▶ ", "finished": "✓ "}.get(rec.state, "")
            title = f"{mark}{rec.run_id} {self.state.run_label(rec)}"
            method = str(rec.started.get("resolved_diff_method") or rec.diff_method)
            seconds = rec.phases
            steps = rec.result.get("steps") if rec.result else None
        panel.update_data(title, method, seconds, steps, phase_rows(self.analysis()[0]), colors)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """A run highlighted in a focused queue is the one the phases panel details."""
        table = event.data_table
        if isinstance(table, RunQueue) and table.has_focus and event.row_key.value:
            self._phases_pick = str(event.row_key.value)
            self._drawn.pop("phases", None)

    def _queues(self) -> list[RunQueue]:
        if len(self._queue_cache) < 2:
            found = [q for q in self.query(RunQueue) if q.is_mounted]
            if len(found) > len(self._queue_cache):
                self._drawn.pop("runs", None)  # a queue mounted late (Lazy) fills in now
            self._queue_cache = found
        return self._queue_cache

    def panels_drawn(self) -> bool:
        """True when every mounted panel shows the latest data (tests, snapshots)."""
        v = self.state.versions
        want = {
            "loss": v.loss,
            "cpu": v.cpu,
            "memory": v.memory,
            "results": v.results,
            "warnings": v.warnings,
            "phases": v.phases + v.results,
            "sweep": v.results,
            "recommend": v.results,
        }
        return all(self._drawn.get(k) == n for k, n in want.items())

    def _maybe(self, kind: type[W]) -> W | None:
        """The main screen's only widget of ``kind``, or None while it is not mounted."""
        cached = self._widgets.get(kind)
        if cached is not None:
            return cached  # type: ignore[return-value]
        # A DOM query walks every node and matches selectors: far too slow to do
        # for each panel at every tick, so a mounted panel is looked up once.
        found = self.screen_stack[0].query(kind) if self.screen_stack else None
        widget = found.first() if found else None
        if widget is not None and widget.is_mounted:
            self._widgets[kind] = widget
            return widget
        return None

    # starting runs --------------------------------------------------------------------
    @on(StartRequested)
    def _start_requested(self, message: StartRequested) -> None:
        specs = []
        for spec in message.specs:
            self._run_counter += 1
            specs.append(spec.with_id(f"r{self._run_counter}"))
        if not specs:
            return
        if self._supervisor_active():
            # Show them as pending now; they start when the current session ends.
            self._pending.append((specs, message.interval, message.refused))
            for s in specs:
                self.feed.push(ev.RunQueued(run_id=s.run_id, spec=s.to_dict()))
            self.notify(f"{len(specs)} run(s) queued after the current ones")
        else:
            self._launch(specs, message.interval, message.refused)
        # Leave the form: with focus still in the (now hidden) setup pane, Textual
        # moves focus to the next widget there and the setup tab comes back.
        self.set_focus(None)
        self.action_tab("monitor")

    def _launch(self, specs: list[RunSpec], interval: float, refused: list[dict[str, str]]) -> None:
        from qtui.engine.supervisor import Supervisor

        self.interval = interval
        self._phases_pick = None  # the phases panel follows the new runs
        self._status().set(interval=interval)
        on_event: Callable[[ev.Event], None] = self.feed.push
        if self.record_history:
            on_event = self._recording(on_event)
        self._supervisor = Supervisor(
            specs,
            on_event,
            interval=interval,
            isolation=self.isolation,  # type: ignore[arg-type]
            refused=refused,
            argv=["qtui", "tui", f"--isolation={self.isolation}"],
        )
        self._sup_done.clear()
        self._drive(self._supervisor)

    def _recording(self, on_event: Callable[[ev.Event], None]) -> Callable[[ev.Event], None]:
        try:
            from qtui.history_db import HistoryDB, recording

            db = self.history_factory() if self.history_factory else HistoryDB()
        except Exception as exc:  # noqa: BLE001 - history is a convenience, runs go on
            self.notify(f"history not recorded: {exc}", severity="warning")
            return on_event
        return recording(on_event, db)  # type: ignore[no-any-return]

    @work(thread=True, exit_on_error=False, group="supervisor")
    def _drive(self, supervisor: Any) -> None:
        self._sup_thread = threading.current_thread()
        error = None
        try:
            supervisor.run()
        except Exception as exc:  # noqa: BLE001 - reported, the UI stays up
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._sup_done.set()
            self.post_message(SessionDone(error))

    def _supervisor_active(self) -> bool:
        return not self._sup_done.is_set()

    @on(SessionDone)
    def _session_done(self, message: SessionDone) -> None:
        if message.error:
            self.push_screen(MessageScreen("The supervisor stopped with an error", message.error))
        if self._pending and not self._supervisor_active():
            specs, interval, refused = self._pending.pop(0)
            self._launch(specs, interval, refused)
        self.refresh_bindings()

    # watch mode -------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="watch")
    def _follow(self, path: Path) -> None:
        from qtui.logtail import follow

        error = None
        try:
            follow(path, self.feed.push, self._stop_watch)
        except Exception as exc:  # noqa: BLE001
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(WatchDone(error))

    @on(WatchDone)
    def _watch_done(self, message: WatchDone) -> None:
        if message.error:
            self.notify(f"stopped following the log: {message.error}", severity="error")

    # actions ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enable/disable actions, and choose what the footer shows under 120 columns."""
        if action == "key":
            name = str(parameters[0])
            return bool(self._enabled(name, parameters[1:]))
        enabled = self._enabled(action, parameters)
        if enabled is False:
            return False
        if self.size.width >= 120 or action not in _FOOTER_MANAGED:
            return enabled
        if action in FOOTER_BY_TAB.get(self._active_tab(), set()):
            return enabled
        return False  # hidden here; the key(...) alias binding still runs it

    def _enabled(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.screen is not self.screen_stack[0]:
            return True
        if action in _RUN_ACTIONS and self.watch_path is not None:
            return False
        tab = self._active_tab()
        if action == "start":
            if tab != "setup":
                return False
            return True if self.form_valid else None
        if action in ("cancel_selected", "cancel_all"):
            return self._supervisor_active() or bool(self._pending)
        if action == "tab":
            return parameters[0] != "gpu" or self._has_gpu()
        return True

    def action_key(self, name: str, *args: Any) -> None:
        """Run ``action_<name>`` for a hidden alias binding."""
        getattr(self, f"action_{name}")(*args)

    def _active_tab(self) -> str:
        tabs = self._maybe(TabbedContent)
        return str(tabs.active) if tabs is not None else ""

    def _status(self) -> StatusLine:
        status = self._maybe(StatusLine)
        return status if status is not None else self.query_one(StatusLine)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        with contextlib.suppress(Exception):
            tabs.active = tab

    def action_start(self) -> None:
        forms = self.query(RunForm)
        if forms:
            forms.first().request_start()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(list(self.BINDINGS)))  # type: ignore[arg-type]

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._status().set(paused=self.paused)
        if not self.paused:
            self._redraw(True)

    def action_interval(self, direction: int) -> None:
        steps = INTERVAL_STEPS
        current = min(range(len(steps)), key=lambda i: abs(steps[i] - self.interval))
        new = steps[max(0, min(len(steps) - 1, current + direction))]
        self.interval = new
        if self._supervisor is not None and self._supervisor_active():
            self._supervisor.set_interval(new)
        for form in self.query(RunForm):
            form.set_value("interval", f"{new:g}")
        self._status().set(interval=new)
        self.notify(f"sampling every {new:g} s", timeout=2)

    def action_loss_mode(self) -> None:
        panel = self._maybe(LossPanel)
        if panel is None:
            return
        mode = panel.toggle_mode()
        self._drawn.pop("loss", None)
        self._redraw(True)
        self.notify(f"loss view: {'per batch' if mode == 'batch' else 'per-epoch mean'}", timeout=2)

    def action_sweep_mode(self) -> None:
        """Switch the setup form between single runs and a sweep (and show it)."""
        self.action_tab("setup")
        forms = self.query(RunForm)
        if not forms:
            return
        form = forms.first()
        form.set_mode(not form.sweep)  # the form's title and Start button say which

    def action_sweep_axis(self) -> None:
        panel = self._maybe(SweepPanel)
        axis = panel.cycle_axis() if panel is not None else None
        if axis is None:
            self.notify("nothing swept yet", severity="warning", timeout=2)
        else:
            self.notify(f"sweep chart against {axis.replace('_', ' ')}", timeout=2)

    def _selected_run(self) -> str | None:
        """The queue row under the cursor when a queue has focus, else the running run."""
        focused = self.focused
        if isinstance(focused, RunQueue) and focused.selected_run:
            return focused.selected_run
        running = [r.run_id for r in self.state.runs() if r.state == "running"]
        return running[-1] if running else None

    def action_cancel_selected(self) -> None:
        run_id = self._selected_run()
        rec = self.state.run(run_id)
        if run_id is None or rec is None:
            self.notify("no active run to cancel", severity="warning")
            return
        if rec.state not in ("queued", "running"):
            self.notify(f"{run_id} already {rec.state}", severity="warning")
            return
        for specs, _, _ in self._pending:
            if any(s.run_id == run_id for s in specs):
                specs[:] = [s for s in specs if s.run_id != run_id]
                self.feed.push(ev.RunCancelled(run_id=run_id, reason="cancelled before it started"))
                self._pending = [p for p in self._pending if p[0]]
                return
        if self._supervisor is not None:
            self._supervisor.cancel(run_id)
            self.notify(f"cancelling {run_id} ({rec.combo})")

    def action_cancel_all(self) -> None:
        for specs, _, _ in self._pending:
            for s in specs:
                self.feed.push(ev.RunCancelled(run_id=s.run_id, reason="not started: cancelled"))
        self._pending.clear()
        if self._supervisor is not None and self._supervisor_active():
            self._supervisor.cancel_all()
            self.notify("cancelling every run")

    async def action_quit(self) -> None:
        active = len(self.state.active_runs())
        if self._supervisor_active() or self._pending:

            def answer(yes: bool | None) -> None:
                if yes:
                    self.run_worker(self._shutdown_and_exit(), exclusive=True, group="quit")

            self.push_screen(
                ConfirmScreen(
                    f"{active} run(s) still active.\n\nQuit anyway? Every child process is "
                    "ended; results gathered so far are kept (history, and the summary "
                    "printed on exit)."
                ),
                answer,
            )
            return
        self.exit(0)

    async def _shutdown_and_exit(self) -> None:
        self._status().set(message="ending runs…")
        self.action_cancel_all()
        await asyncio.to_thread(self._sup_done.wait, 5.0)
        self._tick()
        self.exit(0)

    def stop_everything(self, timeout: float = 5.0) -> None:
        """End every child and the follower; used on exit whatever the path out."""
        self._stop_watch.set()
        self._pending.clear()
        if self._supervisor is not None and self._supervisor_active():
            self._supervisor.cancel_all()
            self._sup_done.wait(timeout)
        # fold what arrived in the meantime so the exit summary includes it
        self.state.apply_batch(self.feed.drain())

    def on_unmount(self) -> None:
        self.stop_everything()

    def action_history(self) -> None:
        from qtui.ui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen(self.history_factory, current=self.state.summary.to_dict))

    def action_export(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        default = str(Path.cwd() / f"qtui-export-{stamp}")

        def chosen(result: tuple[str, bool] | None) -> None:
            if result is not None:
                self.call_after_refresh(self.export_to, Path(result[0]), result[1])

        self.push_screen(ExportScreen(default), chosen)

    def export_to(self, folder: Path, force: bool = False) -> list[Path]:
        """Write the session summary (every exporter) and an SVG of the screen."""
        from qtui.export import write_all

        folder = folder.expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            summary = self.state.summary.to_dict()
            paths = list(write_all(summary, folder, force))
            stem = paths[0].stem if paths else "qtui-screen"
            svg = folder / f"{stem}.svg"
            if svg.exists() and not force:
                raise FileExistsError(f"{svg} already exists; tick 'overwrite' to replace it")
            paths.append(Path(self.save_screenshot(filename=svg.name, path=str(folder))))
        except Exception as exc:  # noqa: BLE001 - the user needs to read why
            self.push_screen(MessageScreen("Export failed", str(exc)))
            return []
        self.exported = paths
        self.push_screen(
            MessageScreen(f"Exported {len(paths)} files", "\n".join(str(p) for p in paths))
        )
        return paths

    async def action_reprobe(self) -> None:
        for form in self.query(RunForm):
            await form.set_probing()
        self._caps = None
        self._probe(True)

    # command palette ---------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        run_cmds = self.watch_path is None
        if run_cmds:
            yield SystemCommand(
                "Start runs", "Start the runs selected in the form (ctrl+r)", self.action_start
            )
            yield SystemCommand(
                "Cancel run",
                "Cancel the highlighted or running run (c)",
                self.action_cancel_selected,
            )
            yield SystemCommand(
                "Cancel all runs", "End every run; the session is kept (C)", self.action_cancel_all
            )
            yield SystemCommand(
                "Sampling: slower", "Sample the run less often (+)", lambda: self.action_interval(1)
            )
            yield SystemCommand(
                "Sampling: faster",
                "Sample the run more often (-)",
                lambda: self.action_interval(-1),
            )
            yield SystemCommand(
                "Sweep form / single runs",
                "Switch the setup form between single runs and a sweep (w)",
                self.action_sweep_mode,
            )
            yield SystemCommand(
                "Re-probe devices",
                "Run the capability probe again, ignoring the cache",
                self.action_reprobe,
            )
        yield SystemCommand(
            "Pause / resume live view",
            "Freeze the panels; data keeps arriving (space / p)",
            self.action_toggle_pause,
        )
        yield SystemCommand(
            "Loss: per batch / per epoch", "Toggle the loss plot (b)", self.action_loss_mode
        )
        yield SystemCommand(
            "Export session",
            "Summary (JSON, Markdown, CSV, HTML) and an SVG screenshot into a folder (e)",
            self.action_export,
        )
        yield SystemCommand(
            "Sweep chart: next axis",
            "Draw the sweep against the next swept variable (x)",
            self.action_sweep_axis,
        )
        yield SystemCommand("History", "Past sessions and their results (h)", self.action_history)
        yield SystemCommand("Help", "Every key (?)", self.action_help)
        for key, tab in zip("1234567", TABS, strict=True):
            if tab == "setup" and self.watch_path is not None:
                continue
            if tab == "gpu" and not self._gpu:
                continue
            yield SystemCommand(
                f"Show {tab} tab",
                f"Switch to the {tab} tab ({key})",
                lambda t=tab: self.action_tab(t),
            )  # type: ignore[misc]
        for name in sorted(self.qtui_themes):
            yield SystemCommand(
                f"Theme: {name}",
                f"Use the {name} theme (remembered)",
                lambda n=name: setattr(self, "theme", n),
            )  # type: ignore[misc]


def _titled(widget: W, title: str) -> W:
    widget.border_title = title
    return widget


def run_app(args: Any, watch_path: Path | None = None) -> int:
    """Entry point used by ``qtui`` (no subcommand) and ``qtui watch FILE``."""
    app = QtuiApp(
        theme=getattr(args, "theme", None),
        isolation=getattr(args, "isolation", None) or "process",
        watch_path=watch_path,
    )
    try:
        code = app.run()
    finally:
        app.stop_everything()
    _print_exit_summary(app)
    return int(code or 0)


def _print_exit_summary(app: QtuiApp) -> None:
    """After the screen is restored: what ran, so quitting never hides results."""
    runs = app.state.runs()
    if not runs:
        return
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.state] = counts.get(r.state, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in counts.items())
    print(f"qtui: {len(runs)} run(s): {parts}")
    for c in app.state.summary.combos():
        if c.get("mean") is not None:
            label = c.get("label") or c["command"]
            print(f"  {label:<36} {c['mean']:.3f} s  (x{(c.get('relative') or 1):.2f})")
    if app.record_history and app.watch_path is None:
        print("  recorded in the history: `qtui history` lists sessions")
    for p in app.exported:
        print(f"  exported {p}")
