"""The qtui monitor: wiring between the form, the session controller and the live panels.

Data flow (memray's live TUI is the model): the session controller's thread
(``qtui.session.control``: supervisor, or the log follower in watch mode)
calls ``EventFeed.push`` for every event; a timer on the UI thread drains the
feed ~15 times a second, folds the whole batch into ``LiveState`` and asks each
registered panel to ``sync``: a panel redraws itself from the state when the
versions it watches moved (``qtui.ui.panel``).  So a burst of events costs one
redraw, the producer never waits on the UI, and the plots redraw at a bounded
rate.  Keys, footer, palette and help come from one table (``qtui.ui.actions``).

The UI process never imports torch or pennylane: the capability probe and the
runs are children (``--isolation thread`` is the labelled exception, where the
training runs in a thread of this process).
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import TabbedContent

from qtui.session.control import SessionController, exit_lines, history_enabled
from qtui.ui import actions, key_order, layout, messages
from qtui.ui import themes as theme_store
from qtui.ui.end_bell import EndBell
from qtui.ui.handlers import ActionHandlers
from qtui.ui.state import EventFeed, LiveState
from qtui.ui.widgets.key_footer import KeyFooter
from qtui.ui.widgets.run_form import RunForm
from qtui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from textual.widgets import DataTable

    from qtui.core import events as ev
    from qtui.ui.panel import LivePanel

#: How often the feed is drained and panels synced (Hz): live, yet not a redraw per event.
TICK_HZ = 15


class QtuiApp(key_order.KeyOrder, ActionHandlers, App[int]):
    """The monitor.  Everything external can be injected, so tests and snapshots
    drive it deterministically: ``capabilities`` (skip the probe), ``events``
    (pre-folded data), ``gpu`` (False: never a GPU tab; True: from the start;
    None: once a sample carries GPU figures)."""

    CSS_PATH = "app.tcss"
    TITLE = "qtui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = actions.bindings()  # type: ignore[assignment]

    def __init__(
        self,
        *,
        theme: str | None = None,
        isolation: str = "process",
        executor: Any = None,  # the caller's, shared by every start and never closed (tests)
        watch_path: Path | None = None,
        reattach: Path | None = None,
        capabilities: Any = None,
        capabilities_loader: Callable[[bool], Any] | None = None,
        events: Iterable[ev.Event] = (),
        gpu: bool | None = None,
        record_history: bool | None = None,
        history_factory: Callable[[], Any] | None = None,
        persist_theme: bool = True,
        prewarm: bool = False,  # start the fork server after the first frame (``qtui``)
        bell: bool = True,  # a long session's end rings while the terminal is not focused
    ) -> None:
        super().__init__()
        self.end_bell = EndBell(bell)
        self.isolation = isolation
        self.watch_path = watch_path
        self.reattach_folder = reattach  # a cluster session to re-attach to on mount
        self.left_running: list[str] = []  # jobs folders left running at quit (exit lines)
        self.exit_notes: list[str] = []  # printed after the exit summary
        self.feed = EventFeed()
        self.state = LiveState()
        self.state.apply_batch(events)
        self._caps = capabilities
        self.probe_error: str | None = None
        self._caps_loader = capabilities_loader
        self._gpu = gpu
        # None: record unless QTUI_NO_HISTORY is set (as `qtui run` does)
        self.record_history = history_enabled() if record_history is None else record_history
        self.history_factory = history_factory
        self.persist_theme = persist_theme
        self.paused = False
        self.control = SessionController(
            self.feed.push,
            isolation=isolation, executor=executor,
            record=self._recording if self.record_history else None,
            on_launch=lambda batch: self.post_message(messages.SessionLaunched(batch.interval)),
            on_finished=lambda e: self.post_message(
                messages.SessionDone(None if e is None else f"{type(e).__name__}: {e}")
            ),
            first_run=len(self.state.runs()),
            keep_warm=True, prewarm=prewarm,  # the fork server lives until quit: every ctrl+r starts warm
            # one app session is one session: every Start adds to it, in the history and
            # the export alike (issue 23, item 5); a re-attach keeps its own
            supervisor_options={"session_id": os.urandom(6).hex()},  # 12 hex digits
        )
        self.panels: list[LivePanel] = []
        self.form_valid = False
        self.exported: list[Path] = []
        self.tab_focus: dict[str, Widget] = {}  # pane id -> what last had focus there
        self.qtui_themes, self._theme_problems = theme_store.install(self, theme, persist_theme)
        # its variables in the CSS's first parse: no second parse before the first frame
        self._css_vars: dict[str, str] | None = self.get_css_variables()
        self.stylesheet.set_variables(self._css_vars)
        self.state.set_palette(self.series_colors())

    # themes -----------------------------------------------------------------------
    def series_colors(self) -> list[str]:
        qt = self.qtui_themes.get(self.theme)
        return qt.series if qt else list(theme_store.DEFAULT_SERIES)

    def _theme_changed(self, theme: Any) -> None:
        if self.persist_theme:
            theme_store.save_setting("theme", theme.name)
        self.state.set_palette(self.series_colors())
        for panel in self.panels:
            panel.invalidate()  # styles from the old theme are baked into their text
        self.call_after_refresh(self._redraw, True)

    def refresh_css(self, animate: bool = True) -> None:
        """Textual's, less the one the theme set in ``__init__`` queued: the CSS's first parse
        had its variables; parsing, styling and laying out again was 7 % of the first frame."""
        first, self._css_vars = self._css_vars, None
        if first is None or first != self.get_css_variables():
            super().refresh_css(animate)

    # layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield from layout.tabs(
            initial="monitor"
            if (self.watch_path or self.reattach_folder or self.state.runs())
            else "setup",
            watching=self.watch_path is not None,
            thread_mode=self.isolation == "thread",
        )
        yield KeyFooter(compact=True)

    @property
    def capabilities(self) -> Any:
        """The probe's answer once it arrived (a lazily mounted form reads it)."""
        return self._caps

    async def _add_gpu_tab(self) -> None:
        await self.query_one(TabbedContent).add_pane(layout.gpu_pane(), after="warnings")
        self.refresh_bindings()

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.watch(self.screen, "focused", self._focus_moved)
        self.query_one(StatusLine).set(
            mode=self.isolation,
            watch_path=str(self.watch_path) if self.watch_path else None,
            interval=self.control.interval,
        )
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", timeout=8)
        self.set_interval(1 / TICK_HZ, self._tick)
        # ``qtui`` starts with the collector off (qtui.cli.main): on after the first frame.
        # Once every tab is mounted, the app's long-lived objects leave its reach: a full
        # collection of Textual's widget graph stalled the loop 110-180 ms (ui_lag_cores.py).
        self.call_after_refresh(gc.enable)
        self.set_timer(1.5, gc.freeze)
        if self.reattach_folder is not None:
            self.call_after_refresh(self.reattach, self.reattach_folder)
        if self.watch_path is not None:
            self.control.follow(self.watch_path, lambda e: self.post_message(messages.WatchDone(e)))
        elif self._caps is not None:
            self.post_message(messages.CapabilitiesReady(self._caps))
        else:
            # after the first frame: reading the probe cache hashes package
            # metadata, which would otherwise delay the first paint
            self.call_after_refresh(self._probe, False)
        if self._gpu:
            self.call_after_refresh(self._add_gpu_tab)
        self._redraw()

    # capabilities -----------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="probe")
    def _probe(self, refresh: bool) -> None:
        try:
            if self._caps_loader is not None:
                caps = self._caps_loader(refresh)
            else:
                from qtui.session.capabilities import load_capabilities

                caps = load_capabilities(refresh=refresh)
        except Exception as exc:  # noqa: BLE001 - boundary: shown in the form (CapabilitiesFailed)
            self.post_message(messages.CapabilitiesFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(messages.CapabilitiesReady(caps))

    @on(messages.CapabilitiesReady)
    async def _caps_ready(self, message: messages.CapabilitiesReady) -> None:
        self._caps = message.capabilities
        self.probe_error = None
        for form in self.query(RunForm):
            await form.set_capabilities(message.capabilities)

    @on(messages.CapabilitiesFailed)
    async def _caps_failed(self, message: messages.CapabilitiesFailed) -> None:
        self.probe_error = message.error
        for form in self.query(RunForm):
            await form.set_probe_failed(message.error)

    @on(messages.FormValidity)
    def _validity(self, message: messages.FormValidity) -> None:
        self.form_valid = message.valid
        self.refresh_bindings()

    # the event pump -----------------------------------------------------------------
    def register_panel(self, panel: LivePanel) -> None:
        """Called by a panel mounting on the main screen (``LivePanel._on_mount``)."""
        self.panels.append(panel)

    def unregister_panel(self, panel: LivePanel) -> None:
        with contextlib.suppress(ValueError):
            self.panels.remove(panel)

    def _tick(self) -> None:
        """Drain the feed, fold the batch, let the panels redraw (at most TICK_HZ/s)."""
        events = self.feed.drain()
        if events:
            self.state.apply_batch(events)
        if self._gpu is None and self.state.gpu is not None:
            self._gpu = True  # the first sample with GPU figures: show them
            self.call_later(self._add_gpu_tab)
        if not self.paused:
            self._redraw()

    def _redraw(self, force: bool = False) -> None:
        now = time.monotonic()
        for panel in list(self.panels):
            try:
                panel.sync(self.state, now, force)
            except NoMatches:
                # A panel between mount and compose (Lazy), or being torn down
                # while the app exits: its parts are not there this tick.
                panel.invalidate()

    def panels_drawn(self) -> bool:
        """True when every main panel is mounted and shows the latest data (tests, snapshots)."""
        kinds = layout.main_panels()
        mounted = all(any(isinstance(p, kind) for p in self.panels) for kind in kinds)
        return mounted and all(p.is_current(self.state) for p in self.panels)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """A run highlighted in a focused queue is the one the phases panel details
        (by its name, not ``@on``: DataTable's module loads with the first table)."""
        from qtui.ui.widgets.run_queue import RunQueue

        table = event.data_table
        if isinstance(table, RunQueue) and table.has_focus and event.row_key.value:
            self.state.pick_phases(str(event.row_key.value))

    # starting runs --------------------------------------------------------------------
    @on(messages.StartRequested)
    def _start_requested(self, message: messages.StartRequested) -> None:
        planner = None
        if message.auto_repeat:
            from qtui.session.adaptive import AdaptiveRepeats

            planner = AdaptiveRepeats(message.specs)
        # The command that reopens this app as it was started: plain `qtui` is the TUI
        # (there is no `tui` subcommand), so a report's command line can be pasted.
        argv = ["qtui", f"--isolation={self.isolation}"]
        executor = None
        if message.slurm is not None:
            from qtui.cluster.slurm_executor import SlurmExecutor

            executor = SlurmExecutor(message.slurm, argv=argv)  # one job array for the batch
        started = self.control.start(
            message.specs,
            interval=message.interval,
            refused=message.refused,
            argv=argv,
            planner=planner,
            executor=executor,
        )
        if not started.specs:
            return
        if started.queued:
            self.notify(f"{len(started.specs)} run(s) queued after the current ones")
        # Leave the form: with focus still in the (now hidden) setup pane, Textual
        # moves focus to the next widget there and the setup tab comes back.
        self.set_focus(None)
        self.action_tab("monitor")

    def reattach(self, folder: Path) -> bool:
        """Follow a cluster session again (``qtui watch --jobs-dir``, history's ``a``)."""
        from qtui.ui.reattach import follow

        return follow(self, folder)

    @on(messages.Notice)
    def _notice(self, message: messages.Notice) -> None:
        self.notify(message.text, severity=message.severity)  # type: ignore[arg-type]

    @on(messages.SessionLaunched)
    def _session_launched(self, message: messages.SessionLaunched) -> None:
        self.end_bell.started()
        self._status().set(interval=message.interval)
        self.refresh_bindings()

    @on(messages.SessionDone)
    def _session_done(self, message: messages.SessionDone) -> None:
        self.end_bell.ended(self, len(self.state.runs()))
        if message.error:
            from qtui.ui.screens.message import MessageScreen

            self.push_screen(MessageScreen("The supervisor stopped with an error", message.error))
        self.refresh_bindings()

    @on(messages.WatchDone)
    def _watch_done(self, message: messages.WatchDone) -> None:
        if message.error:
            self.notify(f"stopped following the log: {message.error}", severity="error")

    # actions ------------------------------------------------------------------------------
    def _action_context(self) -> actions.Context:
        return actions.Context(
            tab=self._active_tab(),
            watching=self.watch_path is not None,
            runs_busy=self.control.busy,
            form_valid=self.form_valid,
            has_gpu=bool(self._gpu),
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enable/disable actions, and choose what the footer shows under 120 columns."""
        if self._exit:  # quitting: keys sent after q (one read over SSH) start nothing
            return False
        if self.screen is not self.screen_stack[0]:  # a dialog's Escape is the dialog's
            return actions.on_other_screen(action, parameters)
        return actions.check(action, parameters, self._action_context(), self.size.width)

    def _active_tab(self) -> str:
        with contextlib.suppress(NoMatches):
            return str(self.screen_stack[0].query_one(TabbedContent).active)
        return ""

    def _status(self) -> StatusLine:
        return self.screen_stack[0].query_one(StatusLine)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        if event.pane.id:  # reached by the tab bar too (tab, ←/→, a click)
            self.call_after_refresh(self.restore_focus, event.pane.id)

    def stop_everything(self, timeout: float = 5.0) -> None:
        """End every child and the follower; used on exit whatever the path out."""
        self.control.stop(timeout)
        # fold what arrived in the meantime so the exit summary includes it
        self.state.apply_batch(self.feed.drain())

    def on_unmount(self) -> None:
        self.stop_everything()


def run_app(args: Any, watch_path: Path | None = None, reattach: Path | None = None) -> int:
    """``qtui``, ``qtui watch FILE``, ``qtui watch --jobs-dir DIR`` (``reattach``: a cluster session)."""
    app = QtuiApp(
        theme=getattr(args, "theme", None),
        isolation=getattr(args, "isolation", None) or "process",
        watch_path=watch_path,
        reattach=reattach,
        prewarm=watch_path is None and reattach is None,  # runs will start from here
        bell=not getattr(args, "no_bell", False),
    )
    try:
        code = app.run()
    finally:
        app.stop_everything()
    recorded = app.record_history and app.watch_path is None
    for line in exit_lines(app.state.summary, recorded=recorded, exported=app.exported):
        print(line)
    left = [f"qtui: the jobs go on without qtui; re-attach with: qtui watch --jobs-dir {f}" for f in app.left_running]
    for note in left + app.exit_notes:
        print(note)
    return int(code or 0)

