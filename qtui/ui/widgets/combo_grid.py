"""The device × diff-method grid, built from the capability probe.

Each cell is focusable, including refused ones: a refused combination cannot be
selected, but focusing it shows PennyLane's own reason (a disabled Textual
widget could not take focus, so the reason would be unreachable by keyboard).
The ``best`` column shows what ``best`` resolves to on that device.
Arrow keys move within the grid; space or enter toggles; tab leaves the grid
for the first visible field.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Static

from qtui.ui.form_capabilities import best_for, methods
from qtui.ui.messages import ComboFocused

SHORT = {"parameter-shift": "param-shift"}
#: The best column is the narrowest at 80 columns.
BEST_SHORT = {"parameter-shift": "p-shift", "finite-diff": "f-diff"}


class ComboCell(Static, can_focus=True):
    DEFAULT_CSS = """
    ComboCell { width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ComboCell:focus { background: $accent 40%; text-style: bold; }
    ComboCell.-refused { color: $text-muted; text-style: dim; }
    ComboCell.-selected { color: $success; }
    """

    BINDINGS = [
        Binding("space,enter", "toggle_cell", "Toggle", show=False),
        Binding("left", "move(-1, 0)", show=False),
        Binding("right", "move(1, 0)", show=False),
        Binding("up", "move(0, -1)", show=False),
        Binding("down", "move(0, 1)", show=False),
        # arrows move within the grid; tab leaves it for the first field (otherwise
        # it would take one press per cell: 25 on a machine with five devices)
        Binding("tab", "leave_grid", show=False),
    ]

    class Toggled(Message):
        def __init__(self, cell: ComboCell) -> None:
            super().__init__()
            self.cell = cell

    def __init__(
        self, device: str, method: str, reason: str | None, best: str | None, row: int, col: int
    ) -> None:
        super().__init__(id=f"cell-{row}-{col}")
        self.device = device
        self.method = method
        self.reason = reason
        self.best = best
        self.row = row
        self.col = col
        self.selected = False
        if reason:
            self.add_class("-refused")
            self.tooltip = f"{device} + {method} refused by PennyLane: {reason}"

    def render(self) -> Text:
        if self.reason:
            return Text("✗ refused", no_wrap=True, overflow="ellipsis")
        mark = "[x]" if self.selected else "[ ]"
        if self.method == "best" and self.best:
            mark = f"{mark} →{BEST_SHORT.get(self.best, self.best)}"
        return Text(mark, no_wrap=True, overflow="ellipsis")

    def note(self) -> str:
        if self.reason:
            # short prefix: the reason must fit the hint's two lines at 80 columns
            return f"✗ {self.device}+{self.method} refused by PennyLane: {self.reason}"
        state = "selected" if self.selected else "not selected"
        extra = (
            f" (best → {self.best} on {self.device})" if self.method == "best" and self.best else ""
        )
        return f"{self.device} + {self.method}: {state}{extra} — space toggles"

    def action_toggle_cell(self) -> None:
        """Toggle the cell at the grid's cursor, not necessarily this one: a Space sent
        with the arrows before it reaches this cell before the focus has moved on."""
        cell = self._at_cursor()
        if cell.reason:
            self.app.bell()
            return
        cell.selected = not cell.selected
        cell.set_class(cell.selected, "-selected")
        cell.refresh()
        cell.post_message(cell.Toggled(cell))
        cell.post_message(ComboFocused(cell.device, cell.method, cell.reason, cell.note()))

    def _at_cursor(self) -> ComboCell:
        """The cell the grid's cursor is on (a queued move's target), else this one."""
        grid = self.parent
        if isinstance(grid, ComboGrid):
            row, col = grid.cursor
            found = self.screen.query(f"#cell-{row}-{col}")
            if found:
                return found.first(ComboCell)
        return self

    def action_move(self, dx: int, dy: int) -> None:
        """Move from the grid's cursor, not from this cell: keys sent together reach
        the old cell before the focus change lands, and each must still move one."""
        grid = self.parent
        row, col = grid.cursor if isinstance(grid, ComboGrid) else (self.row, self.col)
        target = self.screen.query(f"#cell-{row + dy}-{col + dx}")
        if target:
            cell = target.first(ComboCell)
            if isinstance(grid, ComboGrid):
                grid.cursor = grid.moving_to = (cell.row, cell.col)
            cell.focus()
            if isinstance(grid, ComboGrid):  # a move whose focus never lands is forgotten
                self.call_after_refresh(setattr, grid, "moving_to", None)

    def action_leave_grid(self) -> None:
        for field in self.screen.query("#fields Input"):
            if field.display and field.focusable:
                field.focus()
                return
        self.screen.focus_next()

    def on_focus(self) -> None:
        grid = self.parent
        # a focus that an earlier queued move asked for must not pull the cursor back
        if isinstance(grid, ComboGrid) and grid.moving_to in (None, (self.row, self.col)):
            grid.cursor, grid.moving_to = (self.row, self.col), None
        self.post_message(ComboFocused(self.device, self.method, self.reason, self.note()))


class ComboGrid(Grid):
    """Header row of methods, one row per usable device."""

    DEFAULT_CSS = """
    ComboGrid { height: auto; grid-rows: 1; grid-gutter: 0 0; }
    ComboGrid > .header { text-style: bold; height: 1; }
    ComboGrid > .device { height: 1; }
    """

    def __init__(self, caps: Any, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.caps = caps
        self.cursor = (0, 0)  # the cell arrows move from (ahead of focus while keys queue)
        self.moving_to: tuple[int, int] | None = None  # the last move's target, until focused
        self.devices = list(caps.usable_devices())
        self.methods = list(methods())
        self.styles.grid_size_columns = len(self.methods) + 1
        # widths fit the method names and "✗ refused" with a space after them, so that
        # "best" keeps 13 cells at 80 columns, the form's scrollbar beside it, for
        # "[ ] →backprop" (it was "→backp…")
        widths = {"backprop": 10, "adjoint": 10, "parameter-shift": 13, "finite-diff": 13}
        cols = [str(widths.get(m, 0)) if m in widths else "1fr" for m in self.methods]
        self.styles.grid_columns = "17 " + " ".join(cols)

    def cursor_cell(self) -> ComboCell | None:
        """The cell under the cursor (Escape out of a text field lands there)."""
        row, col = self.cursor
        found = self.query(f"#cell-{row}-{col}")
        cells = found if found else self.query(ComboCell)
        return cells.first(ComboCell) if cells else None

    def compose(self) -> ComposeResult:
        yield Static("device \\ method", classes="header")
        for m in self.methods:
            yield Static(SHORT.get(m, m), classes="header")
        for r, dev in enumerate(self.devices):
            yield Static(dev, classes="device")
            best = best_for(self.caps, dev)
            for c, m in enumerate(self.methods):
                reason = self.caps.check(dev, m)  # a lookup in the probe's answer
                yield ComboCell(dev, m, reason, best, r, c)

    def cells(self) -> list[ComboCell]:
        return list(self.query(ComboCell))

    def selected(self) -> list[tuple[str, str]]:
        return [(c.device, c.method) for c in self.cells() if c.selected]

    def select(self, device: str, method: str, value: bool = True) -> bool:
        for c in self.cells():
            if c.device == device and c.method == method and not c.reason:
                c.selected = value
                c.set_class(value, "-selected")
                c.refresh()
                return True
        return False

    def refusals(self) -> list[dict[str, str]]:
        return [
            {"device": c.device, "diff_method": c.method, "reason": c.reason}
            for c in self.cells()
            if c.reason
        ]
