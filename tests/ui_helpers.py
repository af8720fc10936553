"""Helpers for the TUI tests: keys as a terminal sends them."""

from __future__ import annotations

from textual import events
from textual.pilot import Pilot


async def burst(pilot: Pilot[int], *keys: str) -> None:
    """Queue every key before the app handles any, then let it handle them all."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await pilot.pause(0.2)


async def typed(pilot: Pilot[int], raw: str) -> None:
    """``raw`` as a terminal sends it (``"\\x1b4"``: ESC then 4, which is how most terminals
    send alt+4), read by Textual's own input parser and queued as one burst."""
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    keys = [e for e in [*parser.feed(raw), *parser.feed("")] if isinstance(e, events.Key)]
    driver = pilot.app._driver
    assert driver is not None and keys, raw
    for key in keys:
        key.set_sender(pilot.app)
        driver.send_message(key)
    await pilot.pause(0.2)


async def screenshots_of_tabs(pilot: Pilot[int], keys: tuple[str, ...] = ("2", "3", "4", "6", "1")) -> list[str]:
    """Wait until the panels are drawn, then visit each tab in turn: each one's screenshot
    (what a text check reads to see every tab as a user would)."""
    app = pilot.app
    for _ in range(100):
        await pilot.pause(0.05)
        if app.panels_drawn():  # type: ignore[attr-defined]
            break
    seen = []
    for key in keys:
        await pilot.press(key)
        await pilot.pause(0.2)
        seen.append(app.export_screenshot())
    return seen
