"""A modal with a title and text (export results, errors worth reading)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from qtui.core.safe_text import visible


class MessageScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    MessageScreen { align: center middle; }
    MessageScreen > Vertical { width: 90; max-width: 95%; height: auto; max-height: 90%;
                               border: thick $primary; background: $surface; padding: 0 1; }
    MessageScreen #msg-title { text-style: bold; margin-bottom: 1; }
    MessageScreen VerticalScroll { height: auto; max-height: 20; }
    MessageScreen #msg-foot { color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            # errors worth reading quote a run or a file: control characters escaped
            yield Static(visible(self.title_text), id="msg-title", markup=False)
            with VerticalScroll():
                yield Static(visible(self.body), id="msg-body", markup=False)
            yield Static("enter / escape closes", id="msg-foot")

    def action_close(self) -> None:
        self.dismiss(None)
