"""``Later``: a widget built after the first frame, for what the first frame does not show.

Textual's ``Lazy`` mounts a widget after the first refresh, but takes the widget
already made: its module imported and its children (inputs validated as they are
made, tables, plots) built before the first frame.  ``Later`` takes a function and
calls it when it mounts, so the import and the building wait too
(``tests/test_app_lightness.py`` checks what the first frame loads).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import Widget


class Later(Widget):
    """Stands in for ``build()`` until the first refresh, then is replaced by it."""

    DEFAULT_CSS = "Later { display: none; }"

    def __init__(self, build: Callable[[], Widget]) -> None:
        super().__init__()
        self._build = build

    async def mount_composed_widgets(self, widgets: list[Widget]) -> None:
        parent = self.parent
        if not isinstance(parent, Widget):
            return

        async def mount() -> None:
            if not (parent.is_attached and self.is_attached):
                return  # the app quit within its first frame: nothing to build
            await parent.mount(self._build(), after=self)
            await self.remove()

        self.call_after_refresh(mount)
