"""Keys as a terminal sends them (issue 10, items 1, 2, 9, 10): tab keys with focus
inside a tab, several arrows sent at once, focus restored on return, help's words.

A terminal (or a held-down key over SSH) delivers several keys before the app
has handled the first.  ``pilot.press`` waits for the app to go idle after
each key, so it would hide that; ``burst`` queues every key event first, as
the terminal driver does when several bytes arrive in one read.
"""

from __future__ import annotations

import re
import time

from test_ui_data import fixed_caps, session_events
from textual.widgets import Tab, TabbedContent, Tabs
from ui_helpers import burst, typed

from qtui.ui import actions
from qtui.ui.app import QtuiApp
from qtui.ui.screens.help import HelpScreen
from qtui.ui.tabs import TABS
from qtui.ui.widgets.combo_grid import ComboCell, ComboGrid


def make_app(**kwargs: object) -> QtuiApp:
    kwargs.setdefault("capabilities", fixed_caps())
    kwargs.setdefault("gpu", False)
    kwargs.setdefault("record_history", False)
    kwargs.setdefault("persist_theme", False)
    return QtuiApp(**kwargs)  # type: ignore[arg-type]


#: How long the app may take to show the setup form: generous, a loaded machine is slow.
READY_DEADLINE_S = 60.0


async def ready(pilot: object, app: QtuiApp) -> None:
    """Wait until the setup form is up with a cell focused; fail (never go on) if it is not."""
    end = time.monotonic() + READY_DEADLINE_S
    while not (app.query("#start") and app.query(ComboGrid) and isinstance(app.focused, ComboCell)):
        assert time.monotonic() < end, f"the setup form was not ready in {READY_DEADLINE_S:.0f} s"
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


def active(app: QtuiApp) -> str:
    return str(app.query_one(TabbedContent).active)


async def test_number_keys_switch_tabs_while_a_cell_has_focus() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert isinstance(app.focused, ComboCell)
        await pilot.press("2")
        await pilot.pause(0.1)
        assert active(app) == "monitor"
        await pilot.press("3")
        await pilot.pause(0.1)
        assert active(app) == "results"
        await pilot.press("1")
        await pilot.pause(0.1)
        assert active(app) == "setup"
        # several at once, as a terminal sends them
        await burst(pilot, "3", "2", "4")
        assert active(app) == "warnings"


async def test_each_tab_is_shown_by_the_key_its_label_names() -> None:
    """One table (qtui.ui.tabs): the tab bar's labels, the keys and the panes agree."""
    app = make_app(gpu=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot, app)
        tabbed = app.query_one(TabbedContent)
        for _ in range(100):  # the GPU pane is added after the first frame
            if tabbed.query("TabPane#gpu"):
                break
            await pilot.pause(0.02)
        bar = [t.id.removeprefix("--content-tab-") for t in tabbed.query_one(Tabs).query(Tab) if t.id]
        assert bar == [tab.id for tab in TABS]
        for tab in reversed(TABS):
            await pilot.press(tab.key)
            for _ in range(100):
                if active(app) == tab.id:
                    break
                await pilot.pause(0.02)
            assert active(app) == tab.id
            assert tabbed.get_tab(tab.id).label.plain == f"{tab.key} {tab.title}"


def test_tab_bindings_and_footer_rule_come_from_the_tables() -> None:
    tab_keys = [b.key for b in actions.bindings() if b.action.startswith("tab(")]
    digits = [tab.key for tab in TABS]
    assert digits == [str(i) for i in range(1, len(TABS) + 1)]
    # alt+digit, from a text field too, as reported and as ESC+digit arrives (Option chars)
    assert tab_keys == digits + [actions.alt_digit(d) for d in digits]
    assert [k.split(",")[0] for k in tab_keys[len(digits):]] == [f"alt+{d}" for d in digits]
    assert all("," in k for k in tab_keys[len(digits):])  # Textual's table was found
    ctx = actions.Context(tab="monitor", watching=False, runs_busy=True, form_valid=True, has_gpu=False)
    assert actions.check("start", (), ctx, 80) is False  # only on the setup tab
    assert actions.check("cancel_all", (), ctx, 80) is True
    assert actions.check("export", (), ctx, 80) is False  # off the narrow footer here...
    assert actions.check("key", ("export",), ctx, 80) is True  # ...its alias still runs it
    assert actions.check("export", (), ctx, 120) is True  # a wide footer shows it
    assert actions.check("tab", ("gpu",), ctx, 120) is False  # no GPU, no GPU tab


async def test_tab_keys_after_a_theme_change_and_from_the_palette() -> None:
    app = make_app(events=session_events())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("3")
        await pilot.pause(0.2)
        app.theme = "textual-light"
        await pilot.pause(0.2)
        await pilot.press("1")
        await pilot.pause(0.2)
        assert active(app) == "setup"
        await pilot.press("2")
        await pilot.pause(0.2)
        assert active(app) == "monitor"
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Show setup tab")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert active(app) == "setup"


async def test_arrows_sent_together_each_move_one_cell() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        focused = app.focused
        assert isinstance(focused, ComboCell) and (focused.row, focused.col) == (0, 0)
        await burst(pilot, "right", "right", "right")
        focused = app.focused
        assert isinstance(focused, ComboCell) and (focused.row, focused.col) == (0, 3)
        await burst(pilot, "down", "left", "left")
        focused = app.focused
        assert isinstance(focused, ComboCell) and (focused.row, focused.col) == (1, 1)
        # past the edge: stays on the last cell, however many keys arrive
        await burst(pilot, "up", "up", "up")
        focused = app.focused
        assert isinstance(focused, ComboCell) and (focused.row, focused.col) == (0, 1)


async def test_space_sent_with_arrows_toggles_the_cell_the_cursor_reached() -> None:
    """Issue 23, item 2: ``Right Space Down Space`` arriving together (as over SSH)
    ticks the cells the cursor moved to, and leaves the first cell as it was."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)

        def selected() -> set[tuple[int, int]]:
            return {(c.row, c.col) for c in app.query(ComboCell) if c.selected}

        before = selected()
        assert (0, 0) in before and (0, 1) not in before and (1, 1) not in before
        await burst(pilot, "right", "space", "down", "space")
        assert selected() == before | {(0, 1), (1, 1)}
        focused = app.focused
        assert isinstance(focused, ComboCell) and (focused.row, focused.col) == (1, 1)


async def test_returning_to_setup_restores_its_focus() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("right")
        await pilot.pause(0.1)
        cell = app.focused
        assert isinstance(cell, ComboCell)
        await pilot.press("2")
        await pilot.pause(0.1)
        await pilot.press("1")
        await pilot.pause(0.1)
        assert app.focused is cell
        before = cell.selected
        await pilot.press("space")  # toggles the cell, does not pause the live view
        await pilot.pause(0.1)
        assert cell.selected is not before and not app.paused


async def test_help_shows_keys_as_printed_and_says_what_each_does() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.help_text()
        assert "question_mark" not in text and "equals_sign" not in text
        assert "+ / =" in text and "Sample slower" in text and "Sample faster" in text
        assert re.search(r"^ *\? +Help", text, re.M), text
        # issue 23, item 8: no GPU tab on a machine without one (make_app: gpu=False), and
        # the keys of the history screen and of the quit dialogs are listed too
        assert "Gpu tab" not in text, text
        for row in (r"^ *c +Compare the marked sessions .* +History",
                    r"^ *space +Mark the session for c .* +History",
                    r"^ *a +Re-attach \(cluster\) +History",
                    r"^ *l +Leave them running +Quit with jobs",
                    r"^ *y +Yes +Quit"):
            assert re.search(row, text, re.M), (row, text)
        # each key of each place once (history's enter was listed twice)
        cells = [re.split(r"\s{2,}", x.strip()) for x in text.splitlines() if x.strip()]
        rows = [(c[0], c[-1]) for c in cells if len(c) >= 3]
        assert len(rows) == len(set(rows)), [r for r in rows if rows.count(r) > 1]


async def test_an_emptied_field_shows_its_default_as_words_and_gets_it_back() -> None:
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot, app)
        seed = app.query_one("#field-seed", Input)
        seed.focus()
        await pilot.pause()
        await pilot.press("end", "backspace", "backspace")
        await pilot.pause()
        assert seed.value == ""
        assert seed.placeholder != "42" and "default 42" in seed.placeholder
        await pilot.press("tab")  # leaving the field restores the default
        await pilot.pause()
        assert seed.value == "42" and not seed.has_class("-invalid")


async def test_a_refused_cells_reason_does_not_push_the_form_at_80x24() -> None:
    from textual.widgets import Button, Static

    from qtui.ui.widgets.run_form import RunForm

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        form = app.query_one(RunForm)
        start = app.query_one("#start", Button)
        before = (form.virtual_size.height, start.region, app.query_one("#cell-0-4").region)
        await pilot.press("down")  # lightning.qubit + backprop: refused
        await pilot.pause(0.2)
        cell = app.focused
        assert isinstance(cell, ComboCell) and cell.reason
        hint = str(app.query_one("#combo-hint", Static).render())
        assert "refused by PennyLane" in hint
        after = (form.virtual_size.height, start.region, app.query_one("#cell-0-4").region)
        assert after == before
        assert cell.tooltip and "does not support backprop" in str(cell.tooltip)


async def test_a_message_handled_after_the_screens_are_gone_does_not_crash_the_exit() -> None:
    """A session's end or a tab change can be handled while the app shuts down (seen
    under load: ScreenStackError out of _tab_changed and _session_done); the footer
    they refresh is gone with the screens, so refreshing it must do nothing."""
    app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False,
                  persist_theme=False)
    async with app.run_test(size=(80, 24)):
        pass
    assert not app.screen_stack
    app.refresh_bindings()  # what those handlers call


async def test_escape_and_the_current_tabs_digit_from_a_field_leave_it() -> None:
    """Escape then ``1`` typed quickly in a setup field arrives as alt+1 (ESC 1): on the
    tab already shown it did nothing, so focus stayed in the field and the next key, a
    ``w`` for the sweep form, was typed into it ('37w')."""
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        field = app.query_one("#field-samples", Input)
        field.focus()
        await pilot.pause()
        field.value = "37"
        await typed(pilot, "\x1b1w")  # ESC 1 w, as a terminal sends them in one read
        assert field.value == "37", field.value
        assert isinstance(app.focused, ComboCell), app.focused
        assert active(app) == "setup"


async def test_digits_type_into_a_field_escape_leaves_it_alt_digits_switch_from_it() -> None:
    """Issue 23, item 3: with focus in ``repeats``, digits are the field's; Escape then
    a digit switches tabs; alt+digit switches from inside the field; sent as bursts."""
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        field = app.query_one("#field-repeat", Input)
        field.focus()
        await pilot.pause()
        field.value = ""
        await burst(pilot, "3", "7")
        assert field.value == "37" and active(app) == "setup"
        await burst(pilot, "escape", "3")  # out of the field, then the tab key
        assert active(app) == "results", active(app)
        assert field.value == "37"
        await burst(pilot, "1")
        field.focus()
        await pilot.pause()
        await burst(pilot, "alt+4")  # from inside the field
        assert active(app) == "warnings" and field.value == "37"
        await burst(pilot, "1")
        field.focus()
        await pilot.pause()
        await typed(pilot, "\x1b6")  # alt+6 as a terminal sends it: ESC then 6
        assert active(app) == "phases" and field.value == "37", (active(app), field.value)
        await burst(pilot, "1")
        await pilot.pause(0.1)
        assert active(app) == "setup" and app.focused is field  # setup keeps its focus
        await burst(pilot, "escape")  # on setup, out of the field to the grid's cell
        cell = app.focused
        assert isinstance(cell, ComboCell), cell
        await burst(pilot, "escape", "escape")  # outside a field Escape changes nothing
        assert app.focused is cell and active(app) == "setup"


async def test_escape_still_closes_a_dialog_over_a_field() -> None:
    """Escape leaves a field only on the main screen: a dialog keeps its own Escape."""
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        app.query_one("#field-repeat", Input).focus()
        await pilot.pause()
        await app.run_action("help")  # "?" would be typed into the field
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await burst(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)
        assert isinstance(app.focused, Input)  # the dialog's Escape did not also leave the field


async def test_keys_sent_with_q_start_nothing_after_it() -> None:
    """``q`` then ``e`` in one read (typing "que…" over SSH): the quit went ahead and
    the export screen was pushed into the closing app, which crashed with a traceback."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await burst(pilot, "q", "e", "h", "question_mark")
    assert app.return_code == 0
    assert app._exception is None
