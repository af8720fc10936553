"""The protocol between the live panels and the app: each panel redraws itself from the state.

A panel says which of ``LiveState.versions`` it reads (``watches``) and how to
draw itself (``refresh_from(state)``).  It registers with the app when it
mounts on the main screen (a lazily mounted tab registers when it appears), and
the app's tick calls ``sync`` on every registered panel: the panel redraws
only when its versions moved, at most ``max_hz`` times a second, so a burst of
events costs one redraw.  The app knows no panel's data.

A panel used elsewhere (the history screen's results table) is not on the main
screen, does not register, and is fed directly.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual._context import NoActiveAppError
from textual.widgets import Static

if TYPE_CHECKING:
    from qtui.ui.state import LiveState

#: Each panel redraws at most this often; its data keeps folding in between.
MAX_PANEL_HZ = 4.0

#: While a run trains, the panels whose data streams take turns: each redraws on its
#: own tick of ``SLOTS``, so one tick paints the loss, the next the CPU bars, and so
#: on.  All at once, a frame at 200×50 took 15-20 ms of the event loop (a key or the
#: next frame waited that long); one panel's share is 2-6 ms (``benchmarks/ui_lag.py
#: --frames``).  A panel that was quiet redraws at once: the first point is not held.
SLOTS = 4


class _Ticks:
    """Counts the app's ticks: every panel synced in one tick is given the same ``now``."""

    now: float | None = None
    count = 0

    @classmethod
    def at(cls, now: float) -> int:
        if now != cls.now:
            cls.now = now
            cls.count += 1
        return cls.count


class LivePanel:
    """Mixin for widgets that render part of the ``LiveState``."""

    #: Names of ``Versions`` fields this panel reads.
    watches: ClassVar[tuple[str, ...]] = ()
    max_hz: ClassVar[float] = MAX_PANEL_HZ
    #: Its turn among ``SLOTS`` ticks while its data streams (None: any tick).
    slot: ClassVar[int | None] = None

    _drawn_version: Hashable | None = None
    _drawn_at: float = 0.0

    def refresh_from(self, state: LiveState) -> None:
        """Draw the panel from ``state`` (called on the UI thread)."""
        raise NotImplementedError

    def version(self, state: LiveState) -> Hashable:
        """What the drawing depends on; a change means redraw."""
        return tuple(getattr(state.versions, name) for name in self.watches)

    def invalidate(self) -> None:
        """Redraw at the next tick whatever the versions (theme or view changed), the
        texts ``set_text`` would keep as they are included."""
        self._drawn_version = None
        widget: Any = self
        for part in (widget, *widget.walk_children()):
            part.__dict__.pop("_qtui_content", None)

    def is_current(self, state: LiveState) -> bool:
        return self._drawn_version == self.version(state)

    def sync(self, state: LiveState, now: float, force: bool = False) -> bool:
        """Redraw if the watched data changed and the rate allows; True if redrawn."""
        tick = _Ticks.at(now)
        version = self.version(state)
        if version == self._drawn_version:
            return False
        if not force:
            since = now - self._drawn_at
            if since < 1 / self.max_hz:
                return False
            if self.slot is not None and since < 2 / self.max_hz and tick % SLOTS != self.slot:
                return False  # drawn a moment ago: its data streams, it waits for its turn
        self.refresh_from(state)
        self._drawn_version = version
        self._drawn_at = now
        return True

    def _on_mount(self, event: events.Mount) -> None:
        widget: Any = self
        app = widget.app
        register = getattr(app, "register_panel", None)
        if register is not None and app.screen_stack and widget.screen is app.screen_stack[0]:
            register(self)

    def _on_unmount(self) -> None:
        try:
            app: Any = getattr(self, "app")  # noqa: B009 - a Widget's, not the mixin's
        except NoActiveAppError:  # no active app while tearing down
            return
        unregister = getattr(app, "unregister_panel", None)
        if unregister is not None:
            unregister(self)


def set_text(widget: Static, content: Text | str) -> None:
    """Update a ``Static``, laying the screen out again only when its shape changes.

    ``Static.update`` re-lays out the whole screen by default: at 200×50 that
    cost ~10 ms, several times a second, as live figures (RSS, the legend's
    losses, thread counts) changed.  Text of the same line count and width
    needs only a repaint.  ``content`` may be rich markup (a ``str``), measured as
    Textual draws it: ``:name:`` stays as written (no emoji, whose table is 0.9 MB).
    The same content as last time is not drawn again: most ticks change a figure of
    one panel, and a repaint of the others cost as much as a real change.
    """
    key = (content.plain, content.style, tuple(content.spans)) if isinstance(content, Text) else content
    if getattr(widget, "_qtui_content", None) == key:
        return
    widget._qtui_content = key  # type: ignore[attr-defined]
    plain = content.plain if isinstance(content, Text) else Text.from_markup(content, emoji=False).plain
    lines = plain.split("\n")
    shape = (len(lines), max(len(line) for line in lines))
    changed = getattr(widget, "_qtui_shape", None) != shape
    widget._qtui_shape = shape  # type: ignore[attr-defined]
    widget.update(content, layout=changed)


def packed_legend(items: list[Text], width: int, gap: int = 3) -> Text:
    """Legend entries, each whole: a line holds as many as fit ``width`` (``gap`` spaces
    apart), the next entry starts a new line (the sweep chart's and the comparison's)."""
    text, used = Text(), 0
    for item in items:
        if used and used + gap + item.cell_len > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(" " * gap)
            used += gap
        text.append_text(item)
        used += item.cell_len
    return text
