"""Ask where to export the session (summary files + an SVG screenshot), and write them.

The summary files are ``qtui.report.export.write_all``'s (the same writers as ``qtui
report``, the CSV's ``-samples.csv`` beside it included); only the screenshot is the
app's own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from qtui.core.summary_schema import Summary


class ExportScreen(ModalScreen[tuple[str, bool] | None]):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 76; max-width: 95%; height: auto; border: thick $primary;
                              background: $surface; padding: 0 1; }
    ExportScreen Input { margin: 1 0; }
    ExportScreen Horizontal { height: auto; margin-top: 1; }
    ExportScreen Button { margin-right: 2; }
    ExportScreen #export-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default_folder: str) -> None:
        super().__init__()
        self.default_folder = default_folder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Export the session: JSON, Markdown, CSV (and each run's samples over "
                "time), HTML summary, an SVG of the screen and one of each tab's whole "
                "content, into this folder:"
            )
            yield Input(self.default_folder, id="export-folder")
            yield Checkbox("overwrite existing files", id="export-force")
            yield Static("", id="export-error")
            with Horizontal():
                yield Button("Export (enter)", id="export-go", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="export-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _go(self) -> None:
        folder = self.query_one(Input).value.strip()
        if not folder:
            self.query_one("#export-error", Static).update("give a folder")
            return
        self.dismiss((folder, self.query_one(Checkbox).value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._go()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export-go":
            self._go()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def export_session(
    summary: Summary,
    folder: Path,
    force: bool,
    screenshot: Callable[[str, str], str],
    tab_images: Callable[[Path, str], list[Path]] | None = None,
) -> list[Path]:
    """Every exporter's file for ``summary``, ``screenshot(filename, folder)``'s SVG of
    the screen as it is, and ``tab_images(folder, stem)``: each tab's whole content.

    Raises ``FileExistsError`` (unless ``force``) and the writers' errors: the
    caller shows them.
    """
    from qtui.report.export import write_all

    folder = folder.expanduser().resolve()  # the message after writing shows the full path
    folder.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in write_all(summary, folder, force)]
    stem = paths[0].stem if paths else "qtui-screen"
    svg = folder / f"{stem}.svg"
    if svg.exists() and not force:
        raise FileExistsError(f"{svg} already exists; tick 'overwrite' to replace it")
    paths.append(Path(screenshot(svg.name, str(folder))))
    if tab_images is not None:
        paths += tab_images(folder, stem)
    return paths
