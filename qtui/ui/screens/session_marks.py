"""Name, tags and note of one past session (the history screen's ``n``, ``t``, ``o``).

One dialog for the three, opened on the field its key names, so a session's marks
are edited where they are all seen.  Each field is checked as it is typed by the
rules ``qtui history --name/--tag/--note`` use (``qtui.store.session_marks``): a
wrong one is said under the fields and enter does not save.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from qtui.core.safe_text import visible
from qtui.store.session_marks import MarkError, check_name, check_note, split_tags


@dataclass(frozen=True)
class Marks:
    """What the dialog saves: ``""`` removes a name or a note; the tags replace the set."""

    name: str
    tags: tuple[str, ...]
    note: str


class SessionMarksScreen(ModalScreen[Marks | None]):
    DEFAULT_CSS = """
    SessionMarksScreen { align: center middle; }
    SessionMarksScreen > Vertical { width: 76; max-width: 95%; height: auto;
                                    border: thick $primary; background: $surface; padding: 0 1; }
    SessionMarksScreen Label { margin-top: 1; }
    SessionMarksScreen #marks-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: dict[str, Any], focus: str = "name") -> None:
        """``session`` as ``HistoryDB.sessions()`` lists it; ``focus``: name, tags or note."""
        super().__init__()
        self.session = session
        self.start = focus

    def compose(self) -> ComposeResult:
        s = self.session
        with Vertical():
            yield Static(Text(visible(
                f"Session {s.get('session_id')}: enter saves, escape leaves it as it was"
            )))
            yield Label("Name (one line)")
            yield Input(s.get("name") or "", id="marks-name")
            yield Label("Tags (separated by spaces: letters, digits, _ . -)")
            yield Input(" ".join(s.get("tags") or []), id="marks-tags")
            yield Label("Note (one line)")
            yield Input(s.get("note") or "", id="marks-note")
            yield Static("", id="marks-error")

    def on_mount(self) -> None:
        self.query_one(f"#marks-{self.start}", Input).focus()

    def _marks(self) -> Marks:
        """The fields, checked (``MarkError``: the first wrong one)."""
        name, tags, note = (self.query_one(f"#marks-{k}", Input).value for k in ("name", "tags", "note"))
        check_name(name)
        check_note(note)
        return Marks(name=name, tags=split_tags(tags), note=note)

    def _problem(self) -> str:
        try:
            self._marks()
        except MarkError as exc:
            return str(exc)
        return ""

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#marks-error", Static).update(Text(visible(self._problem())))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            marks = self._marks()
        except MarkError as exc:
            self.query_one("#marks-error", Static).update(Text(visible(str(exc))))
            return
        self.dismiss(marks)

    def action_cancel(self) -> None:
        self.dismiss(None)
