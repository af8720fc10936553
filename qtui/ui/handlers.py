"""What each action of ``qtui.ui.actions.ACTIONS`` does: the ``action_*`` methods of the app.

Kept apart from the app's wiring (``qtui.ui.app``): each handler is a few lines
over the session controller, the state or one widget.  ``ActionHandlers`` is a
mixin of ``QtuiApp``; the attributes it reads are declared below.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from qtui.ui import actions
from qtui.ui.messages import Notice
from qtui.ui.widgets.run_form import RunForm

# The panels of tabs not shown first, and the dialogs, load with the action that needs
# them: none is imported before the first frame (tests/test_app_lightness.py).
if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import DataTable

    from qtui.core import events as ev
    from qtui.session.control import SessionController
    from qtui.ui.state import LiveState
    from qtui.ui.widgets.status_line import StatusLine

    _Base = App[int]
else:
    _Base = object

#: Sampling intervals offered by + and - (seconds).
INTERVAL_STEPS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


class ActionHandlers(_Base):
    """The ``action_*`` methods; mixed into ``QtuiApp``."""

    control: SessionController
    state: LiveState
    paused: bool
    history_factory: Callable[[], Any] | None
    tab_focus: dict[str, Widget]
    qtui_themes: dict[str, Any]
    exported: list[Path]
    left_running: list[str]
    exit_notes: list[str]
    _caps: Any
    _gpu: Any

    def refresh_bindings(self) -> None:
        """The footer follows the state; a message handled while the app shuts down
        (a session's end, a tab change) finds its screens gone and nothing to refresh."""
        if self.screen_stack:
            super().refresh_bindings()

    if TYPE_CHECKING:  # provided by QtuiApp

        def _redraw(self, force: bool = False) -> None: ...
        def _tick(self) -> None: ...
        def _status(self) -> StatusLine: ...
        def _probe(self, refresh: bool) -> Any: ...
        def _action_context(self) -> actions.Context: ...
        def reattach(self, folder: Path) -> bool: ...
        def wait_for(self, landed: Callable[[], bool]) -> None: ...

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a queue row: that run's detail (issue 10, item 4)."""
        from qtui.ui.widgets.run_queue import RunQueue

        if isinstance(event.data_table, RunQueue) and event.row_key.value:
            self.show_runs(str(event.row_key.value), [str(event.row_key.value)])

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        """Enter on a results row: the detail of every run of that combination."""
        from qtui.core.parameters import combo_key, combo_parameters
        from qtui.ui.widgets.results_table import ResultsTable

        table = event.data_table
        if isinstance(table, ResultsTable) and table.screen is self.screen_stack[0]:
            row = table.row_at(event.coordinate.row)
            if row is not None:
                key = combo_key(row.result.parameters)
                ids = [
                    r.run_id for r in self.state.runs()
                    if r.spec.get("device") and combo_key(combo_parameters(r.spec)) == key
                ]
                self.show_runs(row.label, ids)

    def show_runs(self, title: str, run_ids: list[str]) -> None:
        from qtui.ui.screens.run_detail import RunDetailScreen, detail_runs

        self.push_screen(RunDetailScreen(title, detail_runs(self.state, run_ids)))

    def action_help(self) -> None:
        from qtui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen(has_gpu=bool(self._gpu)))

    def action_key(self, name: str, *args: Any) -> None:
        """Run ``action_<name>`` for a hidden alias binding."""
        getattr(self, f"action_{name}")(*args)

    def action_leave_field(self) -> None:
        """Escape in a text field: focus the grid on the setup tab, else the tab bar, so
        the digits switch tabs again (issue 23, item 3).  Elsewhere it does nothing."""
        from textual.widgets import Input, Tabs

        from qtui.ui.widgets.combo_grid import ComboGrid

        if not isinstance(self.focused, Input):
            return
        screen = self.screen_stack[0]
        grids = screen.query(ComboGrid)
        cell = grids.first().cursor_cell() if grids else None
        # set_focus now, not focus() (queued): a digit sent in the same burst must
        # find the field already left
        if screen.query_one(TabbedContent).active == "setup" and cell is not None:
            screen.set_focus(cell)
        else:
            screen.set_focus(screen.query_one(Tabs))

    def action_tab(self, tab: str) -> None:
        """Show ``tab`` and give focus back to what had it there (issue 10, items 1, 9).

        Focus leaves the current pane first: a focused widget that is hidden by the
        switch makes Textual focus the next one in the same pane, and
        ``TabbedContent`` then switches back to that pane.
        """
        tabs = self.screen_stack[0].query_one(TabbedContent)
        if tabs.active == tab:
            # alt+digit from a field of the tab shown (Escape then the digit, typed fast,
            # arrives as one): out of the field, as Escape would, so the next key is a key
            self.action_leave_field()
            return
        if not tabs.query(f"TabPane#{tab}"):
            self.notify(f"no {tab} tab here", severity="warning", timeout=3)
            return
        self.screen_stack[0].set_focus(None)
        tabs.active = tab
        # focus now, not after the next refresh: a key sent with the tab's key (``3 enter``,
        # one read over SSH) is for the tab's widget (issue 23, item 2)
        if not self.restore_focus(tab):  # its content is still being built
            self.wait_for(lambda: self._tab_ready(tab))  # the next key waits for it

    def _tab_ready(self, tab: str) -> bool:
        """Focus in ``tab`` once its content is built (after the first frame,
        ``qtui.ui.later``), its panels drawn (else at the next tick): False until then."""
        if not self.restore_focus(tab):
            return False
        if not self.paused:
            self._redraw(True)
        return True

    def restore_focus(self, tab: str) -> bool:
        """Focus what last had focus in ``tab``, else its first focusable widget; False
        while its content is still being built (nothing there to focus yet)."""
        from qtui.ui.later import Later

        screen = self.screen_stack[0]
        tabs = screen.query_one(TabbedContent)
        if tabs.active != tab:
            return True  # another tab's keys now
        focused = screen.focused
        pane = tabs.query_one(f"TabPane#{tab}")
        if focused is not None and pane in focused.ancestors:
            return True
        last = self.tab_focus.get(tab)
        if last is not None and last.is_attached and last.focusable and pane in last.ancestors:
            screen.set_focus(last)
            return True
        if pane.query(Later) or not all(w.is_mounted for w in pane.query("*")):
            return False
        for widget in pane.query("*"):
            if widget.focusable:
                screen.set_focus(widget)
                return True
        return True

    def action_start(self) -> None:
        forms = self.query(RunForm)
        if forms:
            forms.first().request_start()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._status().set(paused=self.paused)
        if not self.paused:
            self._redraw(True)

    def action_interval(self, direction: int) -> None:
        steps = INTERVAL_STEPS
        current = min(range(len(steps)), key=lambda i: abs(steps[i] - self.control.interval))
        new = steps[max(0, min(len(steps) - 1, current + direction))]
        self.control.set_interval(new)
        for form in self.query(RunForm):
            form.set_value("interval", f"{new:g}")
        self._status().set(interval=new)
        self.notify(f"sampling every {new:g} s", timeout=2)

    def action_loss_mode(self) -> None:
        from qtui.ui.widgets.loss_panel import LossPanel

        for panel in self.query(LossPanel):
            mode = panel.toggle_mode()
            self._redraw(True)
            self.notify(f"loss view: {'per batch' if mode == 'batch' else 'per-epoch mean'}", timeout=2)

    def action_sweep_mode(self) -> None:
        """Switch the setup form between single runs and a sweep (and show it)."""
        self.action_tab("setup")
        for form in self.query(RunForm):
            form.set_mode(not form.sweep)  # the form's title and Start button say which

    def action_sweep_axis(self) -> None:
        from qtui.ui.widgets.sweep_panel import SweepPanel

        panels = self.query(SweepPanel)
        axis = panels.first().cycle_axis() if panels else None
        if axis is None:
            self.notify("nothing swept yet", severity="warning", timeout=2)
        else:
            self.notify(f"sweep chart against {axis.replace('_', ' ')}", timeout=2)

    def _selected_run(self) -> str | None:
        """The queue row under the cursor when a queue has focus, else the running run."""
        from qtui.ui.widgets.run_queue import RunQueue

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
        elif rec.state not in ("queued", "running"):
            self.notify(f"{run_id} already {rec.state}", severity="warning")
        elif self.control.cancel(run_id) == "asked":
            self.notify(f"cancelling {run_id} ({rec.combo})")

    def action_cancel_all(self) -> None:
        if self.control.cancel_all():
            self.notify("cancelling every run")

    async def action_quit(self) -> None:
        from qtui.ui.screens.confirm import ConfirmScreen

        if not self.control.busy:
            self.exit(0)
            return
        cluster = self.control.cluster_executor
        if cluster is not None and not cluster.detached:
            self._ask_about_jobs(cluster)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._shutdown_and_exit(), exclusive=True, group="quit")

        self.push_screen(
            ConfirmScreen(
                f"Runs not finished: {self._unfinished()}.\n\nQuit anyway? Every "
                "child process is ended; results gathered so far are kept (history, and the "
                "summary printed on exit)."
            ),
            answer,
        )

    def _unfinished(self) -> str:
        """``1 running, 2 queued``: what quitting would end."""
        states = [r.state for r in self.state.active_runs()]
        parts = [f"{states.count(s)} {s}" for s in ("running", "queued") if states.count(s)]
        return ", ".join(parts) or "none yet (the session is starting)"

    def _ask_about_jobs(self, executor: Any) -> None:
        """Quit with cluster jobs in flight: cancel them, leave them running, or stay."""
        from qtui.ui.screens.jobs_quit import LEAVE, JobsQuitScreen

        folder = str(executor.folder or self._jobs_dir() or "?")
        jobs: dict[str, int] = {}
        for rec in self.state.active_runs():
            word = str(rec.job.get("state") or "PENDING").lower()
            jobs[word] = jobs.get(word, 0) + 1
        unfinished = ", ".join(f"{n} {w}" for w, n in jobs.items()) or "being submitted"

        def answer(choice: str | None) -> None:
            if choice is None:
                return
            leave = choice == LEAVE
            if leave:
                self.left_running.append(folder)
            # scancel, then the scheduler's word and the log's end: give it time
            wait = 5.0 if leave else 30.0
            self.run_worker(
                self._shutdown_and_exit(leave_running=leave, wait=wait), exclusive=True, group="quit"
            )

        self.push_screen(JobsQuitScreen(unfinished, folder), answer)

    def _jobs_dir(self) -> str | None:
        executor = self.state.summary.session.get("executor") or {}
        return executor.get("jobs_dir") if isinstance(executor, dict) else None

    async def _shutdown_and_exit(self, leave_running: bool = False, wait: float = 5.0) -> None:
        if leave_running:
            self._status().set(message="leaving the jobs running…")
        else:
            self._status().set(message="ending runs…")
        cluster = self.control.cluster_executor
        self.control.cancel_all(leave_running=leave_running)
        idle = await asyncio.to_thread(self.control.wait, wait)
        if not idle and cluster is not None and not leave_running:
            folder = cluster.folder or self._jobs_dir() or "?"
            self.exit_notes.append(
                f"qtui: the cancelled jobs had not ended after {wait:g} s; see where they stand "
                f"with: qtui watch --jobs-dir {folder}"
            )
        self._tick()
        self.exit(0)

    def action_history(self) -> None:
        from qtui.ui.screens.history import HistoryScreen

        self.push_screen(
            HistoryScreen(
                self.history_factory, current=self.state.document, reattach=self._reattach_from_history
            )
        )

    def _reattach_from_history(self, folder: Path) -> bool:
        return self.reattach(folder)

    def action_export(self) -> None:
        from qtui.core.paths import default_export_folder
        from qtui.ui.screens.export import ExportScreen

        default = str(default_export_folder())

        def chosen(result: tuple[str, bool] | None) -> None:
            if result is not None:
                self.call_after_refresh(self.export_to, Path(result[0]), result[1])

        self.push_screen(ExportScreen(default), chosen)

    def export_to(self, folder: Path, force: bool = False) -> list[Path]:
        """Write the session summary (every exporter), an SVG of the screen and one of
        each tab's whole content (drawn off-screen: a few seconds)."""
        from qtui.ui.screens.export import export_session
        from qtui.ui.screens.message import MessageScreen

        try:
            from qtui.ui.tab_images import write_tab_images

            paths = export_session(
                self.state.document(), folder, force,
                lambda name, where: self.save_screenshot(filename=name, path=where),
                lambda where, stem: write_tab_images(self, where, stem, force),
            )
        except Exception as exc:  # noqa: BLE001 - boundary: shown in a MessageScreen; the app goes on
            self.push_screen(MessageScreen("Export failed", str(exc)))
            return []
        self.exported = paths
        where = paths[0].parent if paths else folder
        self.push_screen(
            MessageScreen(
                f"Exported {len(paths)} files to {where}",
                "\n".join(str(p) for p in paths),
            )
        )
        return paths

    async def action_reprobe(self) -> None:
        for form in self.query(RunForm):
            await form.set_probing()
        self._caps = None
        self._probe(True)

    # focus, history, palette ----------------------------------------------------------
    def _focus_moved(self, widget: Widget | None) -> None:
        """Remember the focused widget of each tab, so returning to it restores focus."""
        pane = next((a for a in widget.ancestors if isinstance(a, TabPane)), None) if widget else None
        if pane is not None and pane.id:
            self.tab_focus[pane.id] = widget  # type: ignore[assignment]

    def _recording(self, on_event: Callable[[ev.Event], None]) -> Callable[[ev.Event], None]:
        """Tee a session's events into the history (on the controller's thread)."""
        try:
            from qtui.store.history_db import HistoryDB, recording

            db = self.history_factory() if self.history_factory else HistoryDB()
        except Exception as exc:  # noqa: BLE001 - boundary: a warning Notice says so; runs go on unrecorded
            self.post_message(Notice(f"history not recorded: {exc}", "warning"))
            return on_event
        return recording(on_event, db)  # type: ignore[no-any-return]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: App's commands, every action of the table, the themes."""
        yield from super().get_system_commands(screen)  # type: ignore[misc]
        for a in actions.palette(self._action_context()):
            yield SystemCommand(
                a.palette or a.description, a.palette_help,
                lambda a=a: self.call_later(self.run_action, a.action),  # type: ignore[misc]
            )
        for name in sorted(self.qtui_themes):
            yield SystemCommand(
                f"Theme: {name}",
                f"Use the {name} theme (remembered)",
                lambda n=name: setattr(self, "theme", n),
            )  # type: ignore[misc]
