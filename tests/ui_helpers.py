"""Helpers for the TUI tests: keys as a terminal sends them."""

from __future__ import annotations

import asyncio
import time

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
    await settle(pilot)


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
    await settle(pilot)


async def settle(pilot: Pilot[int], timeout: float = 30.0) -> None:
    """Wait until the app, its screens and every widget have handled what was sent: each
    queue empty and no key held (``qtui.ui.key_order``) on two looks in a row, a pause
    for the screen between them.  A fixed pause was not enough on a loaded machine: a key
    forwarded to a widget, then bubbled to a binding, crosses several queues (the suite failed under load with 0.2 s)."""
    app = pilot.app
    await asyncio.sleep(0)  # the driver's posts (one task each) run first
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 2 and time.monotonic() < deadline:
        if getattr(app, "_exit", False) or not app.is_running:
            break  # quitting (a q in the burst): the keys after it never land, as in a terminal
        await pilot.pause()
        nodes = [app, *(n for s in app.screen_stack for n in s.walk_children(with_self=True))]
        pending = getattr(app, "keys_pending", None)  # keys held until the one before lands
        busy = any(n._message_queue.qsize() for n in nodes) or (pending is not None and pending())
        calm = 0 if busy else calm + 1
    await pilot.pause(0.05)


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
