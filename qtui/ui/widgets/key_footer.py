"""The footer, recomposed once per burst of binding changes instead of once per change.

Textual's ``Footer`` rebuilds all its keys after *every* ``bindings_updated``
signal; focus moving while the app mounts sends about thirty of them before
the first frame, and a key burst over SSH sends one per focus change.  Each
rebuild styles some twenty widgets.  Here a signal only marks the footer
stale; the first one schedules a single rebuild after the next refresh, and
the signals that arrive before it share it (the footer then shows the
bindings as they are by that time, which is what the user sees anyway).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyFooter(Footer):
    """``Footer`` with its rebuilds coalesced (see the module docstring)."""

    # Textual's compact footer gives the palette key its keys' margin-right: a cell
    # at the right edge where a key scrolled under it showed (``▏^p paletteC``)
    DEFAULT_CSS = """
    KeyFooter.-compact FooterKey.-command-palette { margin-right: 0; padding-right: 1; }
    """

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
