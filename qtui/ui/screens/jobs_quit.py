"""Quitting with cluster jobs in flight: cancel them, leave them running, or go back.

A cluster session's runs are SLURM jobs, not children of qtui: quitting need not
end them.  ``c`` cancels them (``scancel`` through submitit, recorded as
cancelled); ``l`` stops watching and leaves them running, and the command that
re-attaches later (``qtui watch --jobs-dir``) is shown here and printed on exit;
``escape`` goes back to qtui.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

CANCEL = "cancel"
LEAVE = "leave"


def reattach_command(folder: str) -> str:
    return f"qtui watch --jobs-dir {folder}"


class JobsQuitScreen(ModalScreen["str | None"]):
    DEFAULT_CSS = """
    JobsQuitScreen { align: center middle; }
    JobsQuitScreen > Vertical { width: 76; max-width: 98%; height: auto; border: thick $warning;
                                background: $surface; padding: 1 2; }
    JobsQuitScreen Horizontal { height: auto; margin-top: 1; }
    JobsQuitScreen Button { margin-right: 2; }
    """

    BINDINGS = [
        Binding("c", f"answer('{CANCEL}')", "Cancel the jobs"),
        Binding("l", f"answer('{LEAVE}')", "Leave them running"),
        Binding("escape", "answer('')", "Back"),
    ]

    def __init__(self, unfinished: str, folder: str) -> None:
        super().__init__()
        self.unfinished = unfinished
        self.folder = folder

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(f"Cluster jobs not finished: {self.unfinished}.\n\n", style="bold")
        text.append("c", style="bold")
        text.append("  cancel them (scancel); recorded as cancelled\n")
        text.append("l", style="bold")
        text.append("  leave them running; re-attach later with\n")
        text.append(f"   {reattach_command(self.folder)}\n", style="bold")
        text.append("esc", style="bold")
        text.append(" back to qtui")
        with Vertical():
            yield Static(text, id="jobs-quit-text")
            with Horizontal():
                yield Button("Cancel jobs (c)", id=CANCEL, variant="error", compact=True)
                yield Button("Leave running (l)", id=LEAVE, variant="primary", compact=True)
                yield Button("Back (esc)", id="back", compact=True)

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        answer = event.button.id
        self.dismiss(answer if answer in (CANCEL, LEAVE) else None)

    def action_answer(self, value: str) -> None:
        self.dismiss(value or None)
