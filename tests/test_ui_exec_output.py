"""The run detail of a ``qtui exec`` run shows the script's output (issue 23, "Output
that stays the script's"): every line of its output file, scrollable, live while
the run goes, escaped, one stream at a time; a run cancelled mid-way keeps it.

A real app (``App.run_test``) starts a real exec run from its command field on the
suite's warm fork server; the script prints, waits for a file the test writes, prints
again, and waits to be cancelled.  Keys go in bursts, as a terminal sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_ui_form import form_ready, make_app
from textual.widgets import Input, Log
from ui_helpers import burst, settle

from qtui.analysis.fold import RunRecord
from qtui.analysis.summary_builder import document
from qtui.engine.forkserver import ProcessExecutor
from qtui.ui.app import QtuiApp
from qtui.ui.screens.run_detail import RunDetailScreen
from qtui.ui.widgets.run_form import RunForm

LIVE = """\
import os, sys, time
for i in range(1, 101):
    print(f"out line {i}")
for i in range(1, 61):
    print(f"err line {i}", file=sys.stderr)
print("bell \\x1b]0;owned\\x07 here")
sys.stdout.flush()
while not os.path.exists("go"):
    time.sleep(0.05)
print("after go", flush=True)
while True:
    time.sleep(0.05)
"""

#: Generous: a loaded machine is slow; the waits end as soon as the condition holds.
DEADLINE_S = 150.0


async def until(pilot: object, what: str, cond: Callable[[], object]) -> None:
    end = time.monotonic() + DEADLINE_S
    while not cond():
        assert time.monotonic() < end, f"not within {DEADLINE_S:.0f} s: {what}"
        await pilot.pause(0.1)  # type: ignore[attr-defined]


def the_run(app: QtuiApp) -> RunRecord | None:
    runs = list(app.state.summary.runs.values())
    return runs[0] if runs else None


def printed(rec: RunRecord | None, text: str) -> bool:
    path = (rec.script.get("stdout_path") if rec else None) or ""
    return bool(path) and Path(path).is_file() and text in Path(path).read_text()


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_run_detail_shows_a_live_exec_runs_output_and_scrolls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor,
    size: tuple[int, int],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "live.py").write_text(LIVE)
    app = make_app(executor=warm_executor)
    async with app.run_test(size=size) as pilot:
        await form_ready(pilot, app)
        app.query_one("#field-command", Input).value = "python live.py"
        await pilot.pause()
        assert app.query_one(RunForm).request_start()
        await until(pilot, "the script printed its first lines",
                    lambda: printed(the_run(app), "here\n"))

        await burst(pilot, "3")  # the queue
        await burst(pilot, "enter")  # the run's detail
        assert isinstance(app.screen, RunDetailScreen)
        log = app.screen.query_one("#detail-output", Log)
        assert log.size.height >= 5
        assert app.focused is log, (app.focused, app.screen.focused, app.screen_stack)
        await until(pilot, "the pane shows the file", lambda: "here" in " ".join(log.lines))
        lines = list(log.lines)
        assert [ln for ln in lines if ln.startswith("out line")] == [
            f"out line {i}" for i in range(1, 101)]  # all, not the record's last 50
        assert "bell \\x1b]0;owned\\x07 here" in lines  # escaped, as qtui shows any text
        assert not any("\x1b" in ln or "\x07" in ln for ln in lines)
        assert "stdout" in str(app.screen.query_one("#output-head").render())

        (tmp_path / "go").write_text("")  # the script goes on: the pane follows it
        await until(pilot, "the live line shows", lambda: "after go" in log.lines)

        await burst(pilot, "home", *["down"] * 12)  # sent together: each one counts
        assert log.scroll_y == 12
        await burst(pilot, "down", "down", "up")
        assert log.scroll_y == 13
        await burst(pilot, "end")
        assert log.scroll_y == log.max_scroll_y > 13

        await burst(pilot, "o")  # the other stream
        await until(pilot, "stderr shows", lambda: "err line 60" in log.lines)
        assert [ln for ln in log.lines if ln.startswith("err line")] == [
            f"err line {i}" for i in range(1, 61)]
        assert "out line 1" not in log.lines
        assert "stderr" in str(app.screen.query_one("#output-head").render())

        await burst(pilot, "escape", "c")  # close, and cancel the run in the queue
        rec = the_run(app)
        assert rec is not None
        await until(pilot, "the run is cancelled", lambda: rec.state == "cancelled")
        await settle(pilot)
        [run] = document(app.state.summary).runs
        assert run.script is not None and run.script.stdout_path == rec.script["stdout_path"]
        kept = Path(run.script.stdout_path).read_text()
        assert kept.splitlines()[:100] == [f"out line {i}" for i in range(1, 101)]
        assert kept.endswith("after go\n")  # what it printed before the cancel stays
        assert Path(str(run.script.stderr_path)).read_text().count("err line") == 60


async def test_scroll_keys_sent_together_all_count_in_the_detail() -> None:
    """Issue 23, item 2: 12 Downs sent at once scrolled the run detail by about 2 lines
    (each scroll started from where the view was before the refresh)."""
    from test_ui_detail import app as detail_app

    app = detail_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, "3")
        await burst(pilot, "down", "down", "down")
        await burst(pilot, "enter")
        assert isinstance(app.screen, RunDetailScreen)
        body = app.screen.query_one("#detail-scroll")
        assert app.focused is body and body.max_scroll_y >= 13
        await burst(pilot, *["down"] * 12)
        assert body.scroll_y == 12
        await burst(pilot, "up", "up", "down", "pagedown")
        assert body.scroll_y == min(11 + body.scrollable_content_region.height, body.max_scroll_y)
        await burst(pilot, "home", "end")
        assert body.scroll_y == body.max_scroll_y


def test_the_pane_reads_a_large_file_from_its_end_and_a_fifo_never(tmp_path: Path) -> None:
    """A finished run's file may be 64 MiB: the pane starts at its last 4 MiB, at a line's
    start, and says where the rest is; a line without its end waits for it (or for the
    run's end); a FIFO in the file's place is refused at once, never read."""
    import os

    from qtui.ui.output_tail import FIRST_READ_BYTES, OutputTail

    path = tmp_path / "r1.stdout"
    line = b"x" * 99 + b"\n"
    path.write_bytes(line * (FIRST_READ_BYTES // 100 + 1000))
    tail = OutputTail(str(path))
    got: list[str] = []
    while not tail.caught_up or not got:
        got += tail.poll()
    assert got[0].startswith("… the first ") and str(path) in got[0]
    assert set(got[1:]) == {"x" * 99} and len(got) - 1 == FIRST_READ_BYTES // 100
    with path.open("ab") as f:
        f.write(b"half \x1b[2J line")
    assert tail.poll() == []
    assert tail.rest() == ["half \\x1b[2J line"]  # escaped, as every view shows it
    tail.close()

    fifo = tmp_path / "r2.stdout"
    os.mkfifo(fifo)
    other = OutputTail(str(fifo))
    assert other.poll() == [] and "output file" in other.note and not other.opened
