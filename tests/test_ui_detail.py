"""Enter on a run shows why it failed (issue 10, item 4): parameters, the whole
error with the end of its traceback and stderr, warnings and resources."""

from __future__ import annotations

from test_ui_data import T0, _spec, fixed_caps, session_events

from qtui.core import events as ev
from qtui.ui.app import QtuiApp
from qtui.ui.screens.run_detail import RunDetailScreen
from qtui.ui.widgets.results_table import ResultsTable
from qtui.ui.widgets.run_queue import RunQueue

REASON = (
    "Device <lightning.qubit device (wires=2)> does not support adjoint with requested circuit."
)


def events() -> list[ev.Event]:
    out = session_events()
    out.append(
        ev.RunQueued(
            run_id="r4",
            spec=_spec("r4", "lightning.qubit", "adjoint", 1),
            t=T0 + 50,
        )
    )
    out.append(
        ev.RunFailed(
            run_id="r4", exc_type="QuantumFunctionError", message=REASON,
            traceback="Traceback (most recent call last):\n  File \"x.py\", line 1\n"
            f"pennylane.exceptions.QuantumFunctionError: {REASON}",
            t=T0 + 51,
        )
    )
    out.append(ev.RunCrashed(run_id="r3", signal="SIGKILL", exit_code=None,
                             stderr_tail="line one\nKilled: out of memory", t=T0 + 52))
    return out


def app() -> QtuiApp:
    return QtuiApp(capabilities=fixed_caps(), events=events(), gpu=False,
                   record_history=False, persist_theme=False)


async def test_enter_on_a_failed_run_in_the_queue_shows_its_reason() -> None:
    a = app()
    async with a.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause(0.3)
        assert isinstance(a.focused, RunQueue)
        await pilot.press("down", "down", "down")
        await pilot.pause(0.1)
        assert a.focused.selected_run == "r4"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(a.screen, RunDetailScreen)
        text = a.screen.text().plain
        assert REASON in text and "QuantumFunctionError" in text
        assert "device lightning.qubit" in text and "seed=42" in text
        assert "Resources" in text and "Warnings" in text
        await pilot.press("escape")
        await pilot.pause(0.1)
        await pilot.press("up")
        await pilot.press("enter")  # r3 crashed: its stderr's last lines
        await pilot.pause(0.2)
        assert isinstance(a.screen, RunDetailScreen)
        text = a.screen.text().plain
        assert "Killed: out of memory" in text and "crashed, SIGKILL" in text


async def test_enter_on_a_results_row_shows_every_run_of_the_combination() -> None:
    a = app()
    async with a.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause(0.3)
        a.query_one(ResultsTable).focus()
        await pilot.pause(0.1)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(a.screen, RunDetailScreen)
        text = a.screen.text().plain
        assert "r1  default.qubit+backprop #1" in text
        assert "training time" in text and "2.800 s" in text
