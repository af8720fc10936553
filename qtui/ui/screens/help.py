"""``?``: every key of the app, built from ``qtui.ui.actions.ACTIONS`` (the table the
bindings, the footer and the palette come from), so it cannot drift from what
the keys actually do."""

from __future__ import annotations

import os

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from qtui.ui.actions import ACTIONS, Action

#: Keys handled by widgets rather than app bindings.
WIDGET_KEYS: tuple[tuple[str, str, str], ...] = (
    ("Form", "tab / shift+tab", "next / previous field"),
    ("Form", "arrows", "move within the combination grid"),
    ("Form", "tab (in the grid)", "leave the grid for the first field"),
    ("Form", "space / enter", "toggle the focused combination"),
    ("Form", "enter (in a field)", "start the runs"),
    ("Results", "s", "sort by the column under the cursor (again: reverse)"),
    ("Queue", "enter", "the run's detail: parameters, why it failed, warnings, resources"),
    ("Results", "enter", "the detail of every run of the combination"),
    ("Tables", "arrows / pgup / pgdn", "move the cursor"),
    ("Anywhere", "ctrl+p", "command palette: every action, themes, export, history"),
)


def screen_keys() -> list[tuple[str, str, str]]:
    """(where, key, what) for the keys of the screens and dialogs, read from their own
    ``BINDINGS`` so they cannot drift (history's ``c`` and ``a`` were missing)."""
    from qtui.ui.screens.confirm import ConfirmScreen
    from qtui.ui.screens.history import HistoryScreen
    from qtui.ui.screens.jobs_quit import JobsQuitScreen
    from qtui.ui.screens.run_detail import RunDetailScreen

    out = []
    for where, screen in (
        ("History", HistoryScreen), ("Run detail", RunDetailScreen),
        ("Quit with jobs", JobsQuitScreen), ("Quit", ConfirmScreen),
    ):
        for b in screen.BINDINGS:
            if isinstance(b, Binding) and not b.key.startswith("escape"):
                key = b.key_display or b.key.replace(",", " / ")
                out.append((where, key, b.tooltip or b.description))  # the longer one
    return out


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 84; max-width: 98%; height: 90%; border: thick $primary;
                            background: $surface; }
    HelpScreen #help-title { text-style: bold; padding: 0 1; }
    """

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close help")]

    def __init__(self, actions: tuple[Action, ...] = ACTIONS, *, has_gpu: bool = True) -> None:
        super().__init__()
        # the GPU tab only where there is one (it is not shown without)
        self.actions = tuple(a for a in actions if has_gpu or a.action != "tab('gpu')")

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Key", no_wrap=True)
        table.add_column("Action")
        table.add_column("Where", style="dim")
        for a in self.actions:
            if a.key:
                table.add_row(Text(a.shown_key, style="bold"), a.description, "app")
        for where, key, what in WIDGET_KEYS:
            table.add_row(Text(key, style="bold"), what, where)
        for where, key, what in screen_keys():
            table.add_row(Text(key, style="bold"), what, where)
        self.table = table
        with Vertical():
            yield Static("qtui keys — escape or ? closes", id="help-title")
            with VerticalScroll():
                yield Static(table)

    def help_text(self, width: int = 100) -> str:
        """The table as plain text (what a user reads; tests compare it)."""
        from rich.console import Console

        console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(self.table)
        return console.export_text()

    def action_close(self) -> None:
        self.dismiss(None)
