"""The TUI with ``--executor slurm`` (issue 13): the form, job states, quit, re-attach.

The jobs run on submitit's local executor (``QTUI_SUBMITIT_CLUSTER=local``):
real processes, each running the job-side supervisor and a real tiny
PennyLane training, followed through their event files as on a cluster.  The
SLURM-specific behaviour (sbatch, squeue, sacct) is tested in test_slurm.py;
what the TUI does with it is the same whichever scheduler answers.  Keys are
real key presses, several sent at once as a terminal does.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import alive, child_env
from test_ui_data import fixed_caps
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from ui_helpers import burst
from workloads.gated import HOLD_ENV

from qtui.cluster.jobs_folder import find_session, read_manifest
from qtui.store.history_db import HistoryDB
from qtui.ui.app import QtuiApp
from qtui.ui.screens.history import HistoryScreen
from qtui.ui.screens.jobs_quit import JobsQuitScreen
from qtui.ui.widgets.combo_grid import ComboGrid
from qtui.ui.widgets.run_queue import RunQueue
from qtui.ui.widgets.status_line import StatusLine

pytestmark = pytest.mark.timeout(240)
HOST = os.uname().nodename


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The jobs inherit this environment: tests/ importable (workloads.*), no SLURM.
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setenv("QTUI_SUBMITIT_CLUSTER", "local")
    monkeypatch.setenv("QTUI_JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("QTUI_TEST_SLEEP", "0.4")


def make_app(**kwargs: Any) -> QtuiApp:
    kwargs.setdefault("capabilities", fixed_caps())
    kwargs.setdefault("gpu", False)
    kwargs.setdefault("record_history", False)
    kwargs.setdefault("persist_theme", False)
    return QtuiApp(**kwargs)


async def wait_for(pilot: Pilot[int], cond: Any, timeout: float = 150.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        await pilot.pause(0.1)
    app = pilot.app
    assert isinstance(app, QtuiApp)
    where = [
        (r.run_id, r.state, r.step, r.job.get("state"), r.error)
        for r in app.state.runs()
    ]
    raise AssertionError(f"condition not met in {timeout:g} s; runs: {where}; "
                         f"notes: {app.state.notes[-5:]}")


async def form_ready(pilot: Pilot[int], app: QtuiApp) -> None:
    for _ in range(100):
        if app.query("#start") and app.query(ComboGrid):
            break
        await pilot.pause(0.02)
    await pilot.pause()


async def type_into(pilot: Pilot[int], app: QtuiApp, key: str, text: str) -> None:
    """Focus a field, empty it and type ``text`` as a burst of keys."""
    field = app.query_one(f"#field-{key}", Input)
    field.focus()
    field.value = ""
    await pilot.pause()
    await burst(pilot, *text)


async def fill_slurm(pilot: Pilot[int], app: QtuiApp, *, slow: bool = False, workload: str = "") -> None:
    await type_into(pilot, app, "executor", "slurm")
    await type_into(pilot, app, "time_limit", "5")
    await type_into(pilot, app, "exclusive", "no")
    values = {"epochs": "1", "samples": "20", "batch_size": "5"}
    values["workload"] = "workloads.faulty:slow" if slow else "qtui_test_workload:build"
    if slow:
        values["epochs"] = "6"
    if workload:
        values["workload"] = workload
    for key, value in values.items():
        app.query_one(f"#field-{key}", Input).value = value
    await pilot.pause()


def queue_texts(app: QtuiApp) -> list[str]:
    queue = app.query_one("#mon-queue", RunQueue)
    return [" ".join(str(c) for c in queue.get_row_at(i)) for i in range(queue.row_count)]


def job_pids(folder: Path) -> list[int]:
    """The local executor's job ids are the jobs' pids."""
    return [int(j.job_id) for j in read_manifest(folder).jobs if j.job_id.isdigit()]


async def test_slurm_fields_are_checked_like_the_cli_and_a_bad_one_starts_nothing(
    tmp_path: Path,
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await form_ready(pilot, app)
        assert not app.query_one("#field-time_limit", Input).display  # local: hidden
        await type_into(pilot, app, "executor", "pbs")
        errors = app.query_one("#form-errors", Static)
        assert "executor: must be one of local, slurm, got 'pbs'" in str(errors.render())
        await type_into(pilot, app, "executor", "slurm")
        assert app.query_one("#field-time_limit", Input).display  # slurm: shown
        await type_into(pilot, app, "time_limit", "0")
        assert "time-limit: must be at least 1, got 0" in str(errors.render())
        await type_into(pilot, app, "slurm_extra", "account=abc exclusive=yes")
        text = str(errors.render())
        assert "'exclusive' is set by qtui's own flag" in text
        assert "fix 2 fields" in str(app.query_one("#start-note", Static).render())
        await burst(pilot, "ctrl+r")
        assert app.state.summary.runs == {} and not app.control.busy
        assert not (tmp_path / "jobs").exists(), "nothing was submitted"
        # fixed: the note says where the runs go
        await type_into(pilot, app, "time_limit", "5")
        await type_into(pilot, app, "slurm_extra", "account=abc")
        assert "as one SLURM job array" in str(app.query_one("#start-note", Static).render())
        opts = app.query_one("#form").slurm_options()  # type: ignore[attr-defined]
        # account=abc lands in the --account field, as on the command line
        assert (opts.time_limit_min, opts.account, opts.extra, opts.exclusive, opts.cluster) == (
            5, "abc", {}, True, "local"
        )
        # back to local: the SLURM fields hide and no longer count
        await type_into(pilot, app, "executor", "local")
        await type_into(pilot, app, "slurm_extra", "")
        assert not app.query_one("#field-time_limit", Input).display
        assert str(errors.render()) == ""


async def test_a_slurm_batch_shows_its_job_states_and_finishes(tmp_path: Path) -> None:
    app = make_app()
    seen: set[str] = set()
    async with app.run_test(size=(120, 40)) as pilot:
        await form_ready(pilot, app)
        await fill_slurm(pilot, app)
        app.set_focus(None)
        await burst(pilot, "ctrl+r")

        def done() -> bool:
            if app.query("#mon-queue"):
                seen.update(queue_texts(app))
            seen.add(app.query_one(StatusLine).render().plain)
            runs = app.state.runs()
            return bool(runs) and runs[0].state == "finished" and not app.control.busy

        await wait_for(pilot, done)
        await wait_for(pilot, app.panels_drawn)  # the queue redraws on its turn (ui/panel.py)
        (rec,) = app.state.runs()
        # the session may end before the scheduler's next poll sees the job exit
        assert rec.job["state"] in ("COMPLETED", "RUNNING") and rec.job["node"] == HOST
        assert rec.job["executor"] == "submitit-local"
        joined = "\n".join(seen)
        assert f"{rec.job['job_id']} RUNNING on {HOST}" in joined, joined
        assert "qtui  slurm 1 RUNNING · sample" in joined, joined  # the status line
        (row,) = queue_texts(app)
        assert "finished" in row and rec.job["job_id"] in row and "RUNNING" not in row
        # the CPU figures came from the job's node: the box says which
        title = str(app.query_one("#cpu-box").border_title)
        assert title == f"CPU per core ({HOST}, 0–100 %)"
        assert rec.result["train_s"] > 0
        # enter on the row: the run's detail names its job and node
        from qtui.ui.screens.run_detail import run_text

        detail = run_text(rec, "label", None).plain
        assert f"submitit-local job {rec.job['job_id']}" in detail and f"node {HOST}" in detail
        folder = find_session(tmp_path / "jobs")
        assert [j.run_id for j in read_manifest(folder).jobs] == [rec.run_id]
        assert app.state.summary.session["executor"]["jobs_dir"] == str(folder)


@pytest.mark.cluster_alone
async def test_a_job_waiting_in_the_queue_is_shown_waiting_not_importing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, item 8: with the node held by another job, the run's job is PENDING
    (Resources); the queue said "▶ running" and "starting: imports" for it."""
    from slurm_cluster import require_real_slurm

    require_real_slurm()
    import subprocess

    monkeypatch.setenv("QTUI_SUBMITIT_CLUSTER", "slurm")
    hold = subprocess.run(  # the whole node, for as long as the test needs it
        ["sbatch", "--parsable", "--exclusive", "--time", "5", "-o", "/dev/null",
         "--wrap", "sleep 300"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip().partition(";")[0]
    try:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await form_ready(pilot, app)
            await fill_slurm(pilot, app)
            app.set_focus(None)
            await burst(pilot, "ctrl+r")
            await wait_for(
                pilot, lambda: any(r.job.get("state") == "PENDING" for r in app.state.runs()), 60
            )
            await pilot.pause(0.3)
            (row,) = queue_texts(app)
            assert "waiting in the queue" in row and "PENDING" in row, row
            assert "starting" not in row and "running" not in row, row
            subprocess.run(["scancel", hold], check=True, timeout=30)
            await wait_for(
                pilot,
                lambda: [r.state for r in app.state.runs()] == ["finished"] and not app.control.busy,
                120,
            )
    finally:
        subprocess.run(["scancel", hold], check=False, timeout=30)


async def _start_slow_job(pilot: Pilot[int], app: QtuiApp, workload: str = "") -> None:
    await form_ready(pilot, app)
    await fill_slurm(pilot, app, slow=True, workload=workload)
    app.set_focus(None)
    await burst(pilot, "ctrl+r")
    await wait_for(pilot, lambda: any(r.step for r in app.state.runs()))


async def test_quit_with_jobs_in_flight_asks_and_cancel_ends_them(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _start_slow_job(pilot, app)
        folder = find_session(tmp_path / "jobs")
        (pid,) = job_pids(folder)
        await burst(pilot, "q")
        await wait_for(pilot, lambda: bool(app.screen.query("#jobs-quit-text")), 60)
        assert isinstance(app.screen, JobsQuitScreen)
        text = str(app.screen.query_one("#jobs-quit-text", Static).render())
        assert "1 running" in text and f"qtui watch --jobs-dir {folder}" in text
        await burst(pilot, "escape")  # back: nothing changed
        await wait_for(pilot, lambda: not isinstance(app.screen, JobsQuitScreen), 60)
        assert app.control.busy
        await burst(pilot, "q", "c")
        await wait_for(pilot, lambda: not app.is_running, 60)
    (rec,) = app.state.runs()
    assert rec.state == "cancelled", rec.error
    assert rec.error and rec.error.get("scheduler_state") == "CANCELLED"
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "the job was cancelled"
    assert app.left_running == []


async def test_leave_running_then_reattach_from_history_brings_the_results_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "history.sqlite"
    # The job trains one batch, then waits while the hold file exists: under load, the
    # 12 s of the slow workload ran out before qtui had quit and the test looked.
    hold = tmp_path / "hold"
    hold.touch()
    monkeypatch.setenv(HOLD_ENV, str(hold))
    first = make_app(record_history=True, history_factory=lambda: HistoryDB(db_path))
    async with first.run_test(size=(80, 24)) as pilot:
        await _start_slow_job(pilot, first, workload="workloads.gated:held")
        folder = find_session(tmp_path / "jobs")
        (pid,) = job_pids(folder)
        await burst(pilot, "q", "l")
        await wait_for(pilot, lambda: not first.is_running, 30)
    assert first.left_running == [str(folder)]
    assert alive(pid), "left running: the job goes on without qtui"
    hold.unlink()  # the job trains on to its end
    with HistoryDB(db_path) as db:  # recorded as left running, not cancelled (issue 22, item 5)
        (left,) = db.sessions()
    assert left["status"] == "left running" and left["states"] == {"left_running": 1}, left

    second = make_app(record_history=True, history_factory=lambda: HistoryDB(db_path))
    async with second.run_test(size=(80, 24)) as pilot:
        await burst(pilot, "3", "h")  # history from the results tab
        # the history screen reads the database off the UI thread: wait for its rows
        # (under two CPU hogs the table was still empty 0.3 s later)
        await wait_for(
            pilot,
            lambda: isinstance(second.screen, HistoryScreen)
            and any(t.row_count > 0 for t in second.screen.query(DataTable)),
            60,
        )
        table = second.screen.query_one(DataTable)
        assert "slurm" in " ".join(str(c) for c in table.get_row_at(0))
        await burst(pilot, "a")
        await wait_for(pilot, lambda: not isinstance(second.screen, HistoryScreen), 60)

        def finished() -> bool:
            runs = second.state.runs()
            return bool(runs) and runs[0].state == "finished" and not second.control.busy

        await wait_for(pilot, finished, 200)
        (rec,) = second.state.runs()
        assert rec.job["node"] == HOST
        assert rec.epoch == 6 and rec.result["train_s"] > 0
        # a second re-attach to the same runs here is refused: ids would clash
        assert not second.reattach(folder)
    with HistoryDB(db_path) as db:  # the same session completed: one row, not two
        (done,) = db.sessions()
    assert done["session_id"] == left["session_id"], (done, left)
    assert done["status"] == "finished" and done["states"] == {"finished": 1}, done

    # qtui watch --jobs-dir DIR opens the app this way: replays the finished jobs
    third = make_app(reattach=folder)
    async with third.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: bool(third.state.runs()) and third.state.runs()[0].state == "finished"
            and not third.control.busy,
            60,
        )
        assert third.state.runs()[0].epoch == 6
        # the setup tab says where these runs went, not the form's default (issue 22, item 8)
        for key, value in {"executor": "slurm", "time_limit": "5", "exclusive": "no"}.items():
            assert third.query_one(f"#field-{key}", Input).value == value, key


def test_watch_jobs_dir_takes_json_only_headless(tmp_path: Path, capsys: Any) -> None:
    """``qtui watch --jobs-dir`` opens the TUI; ``--json`` belongs to ``--no-tui``, and a
    folder without a session fails before any screen opens."""
    import argparse

    from qtui.cli.commands.watch import handler

    def args(**kw: Any) -> argparse.Namespace:
        base = {"log": None, "jobs_dir": str(tmp_path), "json": None, "force": False,
                "no_tui": False, "once": False, "interval": 0.2}
        return argparse.Namespace(**{**base, **kw})

    assert handler(args(json=str(tmp_path / "x.json"))) == 2
    assert "json: with --jobs-dir needs --no-tui" in capsys.readouterr().err
    assert handler(args()) == 2
    assert "holds no qtui jobs" in capsys.readouterr().err
