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
