"""The form: validation as you type, the combination grid, the probe state, themes, keys.

Pilot-driven (``App.run_test``); the probe answer is injected, nothing trains.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_ui_data import LIGHTNING_BACKPROP, fixed_caps
from textual.widgets import Button, Input, Static

from qtui.ui.app import QtuiApp
from qtui.ui.messages import StartRequested
from qtui.ui.widgets.combo_grid import ComboCell, ComboGrid
from qtui.ui.widgets.run_form import RunForm


def make_app(**kwargs: object) -> QtuiApp:
    kwargs.setdefault("capabilities", fixed_caps())
    kwargs.setdefault("gpu", False)
    kwargs.setdefault("record_history", False)
    return QtuiApp(**kwargs)  # type: ignore[arg-type]


async def form_ready(pilot: object, app: QtuiApp) -> None:
    """The fields mount a frame after the form (Lazy); wait for them."""
    for _ in range(100):
        if app.query("#start") and app.query(ComboGrid):
            break
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


def errors_text(app: QtuiApp) -> str:
    return str(app.query_one("#form-errors", Static).render())


async def test_invalid_field_shows_config_message_and_disables_start() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        start = app.query_one("#start", Button)
        assert not start.disabled  # default.qubit+backprop is pre-selected
        seed = app.query_one("#field-seed", Input)
        seed.focus()
        seed.value = ""
        await pilot.press("x", "y")
        await pilot.pause()
        assert "seed: must be a whole number, got 'xy'" in errors_text(app)
        assert seed.has_class("-invalid")
        assert start.disabled
        assert "fix 1 field" in str(app.query_one("#start-note", Static).render())
        await pilot.press("ctrl+r")  # start is refused while invalid
        await pilot.pause()
        assert app.state.summary.runs == {}
        seed.value = "7"
        await pilot.pause()
        assert errors_text(app) == ""
        assert not start.disabled


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lr", "-1", "lr: must be a positive number, got -1"),
        ("interval", "20", "interval: must be between 0.01 and 10 seconds, got 20"),
        ("workload", "nocolon", "workload: must look like module:function"),
        ("repeat", "0", "repeat: must be at least 1, got 0"),
        ("batch_size", "500", "batch-size: must not exceed the sample count (200), got 500"),
        ("timeout", "abc", "timeout: must be a number, got 'abc'"),
    ],
)
async def test_each_field_uses_the_cli_message(field: str, value: str, message: str) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        app.query_one(f"#field-{field}", Input).value = value
        await pilot.pause()
        assert message in errors_text(app)
        assert app.query_one("#start", Button).disabled


async def test_empty_timeout_means_none() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        form = app.query_one(RunForm)
        specs, interval, _ = form.build_specs()
        assert [s.combo for s in specs] == ["default.qubit+backprop"]
        assert specs[0].timeout_s is None and interval == 0.1


async def test_refused_cell_shows_reason_on_focus_and_cannot_be_selected() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        cell = next(
            c
            for c in app.query(ComboCell)
            if c.device == "lightning.qubit" and c.method == "backprop"
        )
        cell.focus()
        await pilot.pause()
        hint = str(app.query_one("#combo-hint", Static).render())
        assert "refused by PennyLane" in hint and "does not support backprop" in hint
        assert LIGHTNING_BACKPROP in str(cell.tooltip)
        await pilot.press("space")
        await pilot.pause()
        assert not cell.selected
        assert ("lightning.qubit", "backprop") not in app.query_one(ComboGrid).selected()


async def test_best_resolution_is_shown_and_grid_is_keyboard_driven() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        best = next(
            c for c in app.query(ComboCell) if c.device == "lightning.qubit" and c.method == "best"
        )
        assert "→adjoint" in str(best.render())
        first = app.query_one("#cell-0-0", ComboCell)
        first.focus()
        await pilot.press("space")  # unselect default.qubit+backprop
        await pilot.pause()
        assert app.query_one("#start", Button).disabled
        assert "select at least one combination" in str(
            app.query_one("#start-note", Static).render()
        )
        await pilot.press("right", "space", "down", "space")
        await pilot.pause()
        assert set(app.query_one(ComboGrid).selected()) == {
            ("default.qubit", "adjoint"),
            ("lightning.qubit", "adjoint"),
        }
        app.query_one("#field-repeat", Input).value = "3"
        await pilot.pause()
        assert "6 runs" in str(app.query_one("#start-note", Static).render())


async def test_start_posts_specs_with_unique_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[list[str]] = []
    app = make_app()

    class NoRuns:
        """Stands in for the supervisor: records the session's run ids, runs nothing."""

        interval = 0.1

        def __init__(self, batch: Any) -> None:
            launched.append([s.run_id for s in batch.specs])

        def run(self) -> None:
            pass

    monkeypatch.setattr(app.control, "_supervisor_for", NoRuns)
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        messages: list[StartRequested] = []
        app.query_one(RunForm).request_start()
        await pilot.pause()
        app.query_one("#field-repeat", Input).value = "2"
        await pilot.pause()
        app.query_one(RunForm).request_start()
        await pilot.pause()
        del messages
    assert app.control.wait(5)
    assert launched == [["r1"], ["r2", "r3"]]


async def test_probing_state_is_visible_until_the_probe_answers() -> None:
    release = threading.Event()

    def slow_probe(refresh: bool) -> object:
        release.wait(10)
        return fixed_caps()

    app = QtuiApp(capabilities_loader=slow_probe, gpu=False, record_history=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        assert "probing" in str(app.query_one("#probe-status", Static).render())
        assert app.query_one("#start", Button).disabled
        assert "waiting for the capability probe" in str(
            app.query_one("#start-note", Static).render()
        )
        release.set()
        for _ in range(50):
            await pilot.pause(0.05)
            if app.query(ComboGrid):
                break
        assert app.query(ComboGrid)
        await pilot.pause(0.1)
        assert not app.query_one("#start", Button).disabled


async def test_probe_failure_is_reported() -> None:
    def broken(refresh: bool) -> object:
        raise RuntimeError("no pennylane here")

    app = QtuiApp(capabilities_loader=broken, gpu=False, record_history=False)
    async with app.run_test(size=(100, 40)) as pilot:
        for _ in range(20):
            await pilot.pause(0.05)
        assert "no pennylane here" in str(app.query_one("#probe-status", Static).render())
        assert app.query_one("#start", Button).disabled


async def test_theme_flag_persists_between_sessions() -> None:
    app = make_app(theme="light")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "light"
    app2 = make_app()
    async with app2.run_test() as pilot:
        await pilot.pause()
        assert app2.theme == "light"
        app2.theme = "high-contrast"
        await pilot.pause()
    app3 = make_app()
    async with app3.run_test() as pilot:
        await pilot.pause()
        assert app3.theme == "high-contrast"


async def test_unknown_theme_falls_back_with_a_message() -> None:
    app = make_app(theme="nope")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "dark"
        assert any("unknown theme 'nope'" in n.message for n in app._notifications)


async def test_help_lists_every_key_and_palette_has_every_action() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        app.set_focus(None)  # out of the form's inputs ("?" would be typed there)
        await pilot.press("question_mark")
        await pilot.pause()
        from qtui.ui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for needed in (
            "Start runs",
            "Cancel run",
            "Cancel all runs",
            "Sampling: slower",
            "Sampling: faster",
            "Pause / resume live view",
            "Export session",
            "History",
            "Help",
            "Theme: dark",
            "Theme: light",
            "Theme: high-contrast",
            "Loss: per batch / per epoch",
            "Sweep form / single runs",
            "Sweep chart: next axis",
            "Show phases tab",
            "Show sweep tab",
        ):
            assert needed in titles


async def test_start_before_the_probe_answers_says_why() -> None:
    release = threading.Event()

    def slow_probe(refresh: bool) -> object:
        release.wait(10)
        return fixed_caps()

    app = QtuiApp(capabilities_loader=slow_probe, gpu=False, record_history=False)
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            form = app.query_one(RunForm)
            for _ in range(50):
                if form.fields_ready:
                    break
                await pilot.pause(0.1)
            assert form.fields_ready
            assert form.request_start() is False
            await pilot.pause()
            messages = [n.message for n in app._notifications]
            assert any(
                m.startswith("not started: waiting for the capability probe") for m in messages
            ), messages
    finally:
        release.set()
