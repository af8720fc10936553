"""A long batch announces its end (issue 23): the bell, and OSC 9 where the terminal
takes it; in the app only while the terminal is not focused; ``--no-bell`` off.

Time is injected (``bell_after_s=0``), not waited for: a real tiny run, a real
app, the focus change as the terminal reports it (Textual's AppBlur/AppFocus).
"""

from __future__ import annotations

import io

import pytest
from engine_helpers import tiny
from rich.console import Console
from test_ui_run import TESTS, fill, wait_for, wait_for_caps
from textual import events

from qtui.cli.console_session import run_session
from qtui.cli.main import build_parser
from qtui.core import end_notice
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.ui.app import QtuiApp


def _session(executor: ProcessExecutor, *, terminal: bool, **kw: object) -> str:
    err = io.StringIO()
    code = run_session(
        [RunSpec("default.qubit", "backprop", tiny(), run_id="r1")], executor=executor,
        renumber=False, err=Console(file=err, force_terminal=terminal, width=120),
        out=Console(file=io.StringIO()), bell_after_s=0.0, **kw,  # type: ignore[arg-type]
    )
    assert code == 0, err.getvalue()
    return err.getvalue()


def test_a_long_session_rings_on_a_terminal_unless_told_not_to(
    warm_executor: ProcessExecutor,
) -> None:
    assert end_notice.BELL in _session(warm_executor, terminal=True)
    assert end_notice.BELL not in _session(warm_executor, terminal=True, bell=False)
    assert end_notice.BELL not in _session(warm_executor, terminal=False)  # piped: no bytes


def test_the_flag_reads_the_same_before_and_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["--no-bell", "run"]).no_bell is True
    assert parser.parse_args(["run", "--no-bell"]).no_bell is True
    assert getattr(parser.parse_args(["run"]), "no_bell", False) is False


def test_osc9_only_where_the_terminal_takes_it() -> None:
    note = end_notice.sequence("qtui: 2 runs done\x1b[2J", {"TERM_PROGRAM": "iTerm.app"})
    assert note == "\x1b]9;qtui: 2 runs done\\x1b[2J\a\a"  # its text: no control character
    assert end_notice.sequence("x", {"TERM_PROGRAM": "tmux"}) == "\a"
    assert end_notice.sequence("x", {"WT_SESSION": "1"}).startswith("\x1b]9;x")
    assert not end_notice.wanted(61, enabled=True, focused=True)
    assert end_notice.wanted(61, enabled=True, focused=False)
    assert not end_notice.wanted(59, enabled=True, focused=False)


async def test_the_app_rings_only_while_its_terminal_is_not_focused(
    warm_executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("QTUI_TEST_BATCH_SLEEP", "0.3")  # the run outlasts the focus change
    app = QtuiApp(gpu=False, executor=warm_executor, record_history=False, persist_theme=False)
    app.end_bell.after_s = 0.0
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_caps(pilot, app)
        fill(app, epochs="1", samples="20", batch_size="5", workload="qtui_test_workload:build")
        for n, focus in ((1, events.AppBlur()), (2, events.AppFocus())):
            app.set_focus(None)
            await pilot.press("1", "ctrl+r")  # a key press is the app focused again
            app.post_message(focus)  # then the user looks elsewhere (the terminal reports it)
            await wait_for(pilot, lambda f=focus: app.app_focus is isinstance(f, events.AppFocus))
            await wait_for(
                pilot,
                lambda n=n: len(app.state.runs()) == n and not app.control.active
                and all(r.state == "finished" for r in app.state.runs()),
            )
            await pilot.pause(0.2)
        assert app.end_bell.announced == [app.end_bell.announced[0]], app.end_bell.announced
        assert app.end_bell.announced[0].startswith("qtui: 1 run done in ")
