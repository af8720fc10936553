"""The footer is rebuilt once per burst of binding changes (``qtui.ui.widgets.key_footer``).

Textual's own footer rebuilt its twenty-odd keys after every ``bindings_updated``
signal: about thirty times before the first frame, about half of the app's start.
"""

from __future__ import annotations

import time

import pytest
from test_ui_form import form_ready, make_app
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey
from ui_helpers import burst


@pytest.fixture
def rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts footer rebuilds (one item per rebuild), Textual's or ours."""
    seen: list[int] = []
    real = Footer.recompose

    async def counted(self: Footer) -> None:
        seen.append(1)
        await real(self)

    monkeypatch.setattr(Footer, "recompose", counted)
    return seen


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the frames the screens lay out and draw (one item per frame)."""
    seen: list[int] = []
    real = Screen._compositor_refresh

    def counted(self: Screen[object]) -> None:
        seen.append(1)
        real(self)

    monkeypatch.setattr(Screen, "_compositor_refresh", counted)
    return seen


async def test_the_footer_is_rebuilt_once_per_burst_and_shows_the_final_bindings(
    rebuilds: list[int], frames: list[int]
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await form_ready(pilot, app)
        at_start = len(rebuilds)
        assert 1 <= at_start <= 3, at_start  # 30 with Textual's footer
        fields = list(app.query(Input))
        drawn = len(frames)
        await burst(pilot, *["tab"] * 6)  # six focus changes arrive together, as over SSH

        def shown_and_active() -> tuple[set[str], set[str]]:
            shown = {k.key for k in app.query(FooterKey)} - {app.COMMAND_PALETTE_BINDING}
            active = {b.binding.key for b in app.active_bindings.values() if b.binding.show}
            return shown, active

        # the rebuild runs after a refresh: on a loaded machine, wait for it
        deadline = time.monotonic() + 60
        while (pair := shown_and_active())[0] != pair[1]:
            assert time.monotonic() < deadline, pair
            await pilot.pause(0.05)
        # At most one rebuild per frame drawn while the burst is handled.  Each key now
        # lands before the next is taken (qtui.ui.key_order), so a frame may be drawn
        # between two of the six focus changes; Textual's own footer rebuilt once per
        # bindings signal, several to a frame (30 before the first frame, above).
        assert len(rebuilds) - at_start <= max(1, len(frames) - drawn)
        # what it shows is what the focused widget's bindings are now
        assert app.focused is not None and app.focused is not fields[0]
