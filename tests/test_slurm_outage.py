"""A scheduler that does not answer is an outage, not a verdict (issue 18, item 4).

Fake ``squeue``/``sacct``/``scancel`` executables (real files at the front of
PATH) stand in for a SLURM controller that is down, then back; the executor is
re-attached to a manifest naming one job, as ``qtui watch --jobs-dir`` does.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import tiny
from rich.console import Console

from qtui.cli.slurm_prompts import report_uncancelled
from qtui.cluster.jobs_folder import JobRecord, Manifest, write_manifest
from qtui.cluster.slurm_executor import SlurmExecutor
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core import events as ev
from qtui.core.config import RunSpec

pytestmark = pytest.mark.timeout(120)

DOWN = "slurm_load_jobs error: Unable to contact slurm controller (connect failure)"


def _tool(bin_dir: Path, name: str, script: str) -> None:
    """Write an executable ``name`` that runs the shell ``script``.  Renamed into place:
    the poller may be running the old one (writing it in place would be ETXTBSY)."""
    tmp = bin_dir / f".{name}.new"
    tmp.write_text(f"#!/bin/sh\n{script}\n")
    tmp.chmod(0o755)
    os.replace(tmp, bin_dir / name)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return folder


def _attached(
    tmp_path: Path, lost_after_s: float = 120.0, outage_note_s: float | None = 30.0
) -> tuple[SlurmExecutor, list[ev.Event], RunSpec]:
    """An executor re-attached to one SLURM job (4242_0) and following it
    (``outage_note_s=None``: the executor's own default)."""
    folder = tmp_path / "jobs" / "s1"
    spec = RunSpec("default.qubit", "backprop", tiny(), run_id="r1")
    options = SlurmOptions(cluster="slurm", jobs_dir=str(tmp_path / "jobs"))
    write_manifest(folder, Manifest(
        session_id="s1", cluster="slurm", options=options.to_dict(),
        jobs=[JobRecord(run_id="r1", spec=spec.to_dict(), job_id="4242_0",
                        array_task_id="0", events="events/r1.jsonl")],
    ))
    executor = SlurmExecutor(
        attach=folder, poll_s=0.05, lost_after_s=lost_after_s, outage_note_s=outage_note_s
    )
    events: list[ev.Event] = []
    executor.prepare([spec], events.append, session_id="s1", interval=1.0)
    return executor, events, spec


def _wait(condition: Callable[[], bool], what: str, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def _notes(events: list[ev.Event]) -> list[str]:
    return [e.message for e in list(events) if isinstance(e, ev.LogNote)]


def test_an_unreachable_scheduler_is_an_outage_not_a_lost_job(
    tmp_path: Path, bin_dir: Path
) -> None:
    _tool(bin_dir, "squeue", f"echo '{DOWN}' >&2; exit 1")
    _tool(bin_dir, "sacct", "echo 'sacct: error: slurmdbd: connection refused' >&2; exit 1")
    _tool(bin_dir, "scancel", "exit 0")
    executor, events, _ = _attached(tmp_path, lost_after_s=0.3, outage_note_s=0.3)
    try:
        _wait(lambda: any("squeue" in n and "Unable to contact" in n for n in _notes(events)),
              "a note naming the failing squeue and its stderr")
        # Many times lost_after_s without an answer: still waiting, never LOST.
        _wait(lambda: executor.scheduler_failures >= 30, "30 failed polls")
        assert executor.state("r1").state != "LOST"
        assert not [e for e in list(events) if isinstance(e, ev.JobState) and e.state == "LOST"]
        note = next(n for n in _notes(events) if "squeue" in n)
        assert "still waiting" in note and "exited 1" in note
        # The scheduler answers again, without the job: only now does it count towards LOST.
        _tool(bin_dir, "squeue", "exit 0")
        _tool(bin_dir, "sacct", "exit 0")
        _wait(lambda: executor.state("r1").state == "LOST", "the job to become LOST")
        assert any("answers again" in n for n in _notes(events))
    finally:
        executor.close()


def test_the_outage_threshold_comes_from_the_environment(
    tmp_path: Path, bin_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``QTUI_SLURM_OUTAGE_NOTE_S`` sets when an outage is noted (30 s otherwise), for
    every executor made without a threshold of its own: the console's, ``qtui watch``'s,
    the app's.  The real-cluster outage test shortens its wait with it."""
    var = "QTUI_SLURM_OUTAGE_NOTE_S"  # the documented name
    _tool(bin_dir, "squeue", f"echo '{DOWN}' >&2; exit 1")
    _tool(bin_dir, "sacct", "echo 'sacct: error: slurmdbd: connection refused' >&2; exit 1")
    options = SlurmOptions(cluster="slurm", jobs_dir=str(tmp_path / "jobs"))
    for bad in ("0", "1.5", "²", "abc"):  # whole seconds of at least 1, else 30 and a warning
        monkeypatch.setenv(var, bad)
        assert SlurmExecutor(options).outage_note_s == 30.0, bad
        warned = capsys.readouterr().err
        assert f"warning: {var}=" in warned and "using 30" in warned, warned
    monkeypatch.delenv(var)
    assert SlurmExecutor(options).outage_note_s == 30.0
    monkeypatch.setenv(var, "1")
    executor, events, _ = _attached(tmp_path, outage_note_s=None)
    try:
        assert executor.outage_note_s == 1.0
        _wait(lambda: any("has not answered" in n for n in _notes(events)), "the outage note")
    finally:
        executor.close()


def test_squeue_not_knowing_a_job_id_is_an_answer(tmp_path: Path, bin_dir: Path) -> None:
    """SLURM's squeue exits 1 for a job id it has purged: that is "not in squeue"."""
    _tool(bin_dir, "squeue", "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1")
    _tool(bin_dir, "sacct", "exit 0")
    executor, events, _ = _attached(tmp_path, lost_after_s=0.3, outage_note_s=0.3)
    try:
        _wait(lambda: executor.state("r1").state == "LOST", "the job to become LOST")
        assert executor.scheduler_failures == 0
        assert not any("squeue" in n for n in _notes(events))
    finally:
        executor.close()


def test_a_failed_scancel_is_reported(tmp_path: Path, bin_dir: Path) -> None:
    _tool(bin_dir, "squeue", "echo '4242_0|RUNNING|None|node7'")
    _tool(bin_dir, "sacct", "exit 0")
    denied = "scancel: error: Kill job error on job id 4242_0: Access/permission denied"
    _tool(bin_dir, "scancel", f"echo '{denied}' >&2; exit 1")
    executor, events, _ = _attached(tmp_path)
    try:
        _wait(lambda: executor.state("r1").state == "RUNNING", "the job to be RUNNING")
        why = executor.scancel("r1")
        assert why is not None and "scancel 4242_0" in why and "permission denied" in why
        assert any("could not cancel" in n and "permission denied" in n for n in _notes(events))
    finally:
        executor.close()  # scancels the still-running job again: it fails again
    assert list(executor.cancel_failures) == ["r1"]  # for whoever closed it to report
    assert "permission denied" in executor.cancel_failures["r1"]
    # ... and qtui run/sweep print it after closing, since no note reaches anyone then.
    out = io.StringIO()
    report_uncancelled(executor, Console(file=out, width=300))
    line = out.getvalue().strip()
    assert line.startswith("qtui: warning: 1 job(s) could not be cancelled")
    assert "permission denied" in line


def test_cancelling_a_job_that_has_just_ended_is_no_failure(
    tmp_path: Path, bin_dir: Path
) -> None:
    _tool(bin_dir, "squeue", "echo '4242_0|RUNNING|None|node7'")
    _tool(bin_dir, "sacct", "exit 0")
    _tool(bin_dir, "scancel", "echo 'scancel: error: Kill job error on job id 4242_0: "
          "Job/step already completing or completed' >&2; exit 1")
    executor, events, _ = _attached(tmp_path)
    _wait(lambda: executor.state("r1").state == "RUNNING", "the job to be RUNNING")
    assert executor.scancel("r1") is None
    executor.close()
    assert executor.cancel_failures == {}
    assert not any("cancel" in n for n in _notes(events))


def test_a_successful_scancel_reports_nothing(tmp_path: Path, bin_dir: Path) -> None:
    _tool(bin_dir, "squeue", "echo '4242_0|RUNNING|None|node7'")
    _tool(bin_dir, "sacct", "exit 0")
    _tool(bin_dir, "scancel", f"echo \"$@\" >> '{tmp_path / 'scancelled'}'")
    executor, events, _ = _attached(tmp_path)
    _wait(lambda: executor.state("r1").state == "RUNNING", "the job to be RUNNING")
    assert executor.scancel("r1") is None
    executor.close()  # scancels the still-running job again, quietly
    assert (tmp_path / "scancelled").read_text().split() == ["4242_0", "4242_0"]
    assert executor.cancel_failures == {}
    assert not any("cancel" in n for n in _notes(events))


async def test_the_apps_status_line_says_the_scheduler_is_unreachable(
    tmp_path: Path, bin_dir: Path
) -> None:
    """Issue 22, item 1: an outage is said in the TUI's status line too ("scheduler
    unreachable since …; jobs keep running"), and no more once it answers.  The
    events are the real executor's, against the fake controller above."""
    from test_ui_data import fixed_caps

    from qtui.ui.app import QtuiApp
    from qtui.ui.widgets.status_line import StatusLine

    _tool(bin_dir, "squeue", f"echo '{DOWN}' >&2; exit 1")
    _tool(bin_dir, "sacct", "echo 'sacct: error: slurmdbd: connection refused' >&2; exit 1")
    executor, events, _ = _attached(tmp_path, outage_note_s=0.2)
    try:
        _wait(lambda: any("has not answered" in n for n in _notes(events)), "the outage note")
        down = list(events)
        _tool(bin_dir, "squeue", "echo '4242_0|RUNNING|None|node1|0'")
        _wait(lambda: any("answers again" in n for n in _notes(events)), "the scheduler back")
        back = list(events)
    finally:
        executor.close()
    start = ev.SessionStarted(session_id="s1", machine={}, qtui_version="t",
                              executor={"name": "slurm"})
    for seen, says in ((down, True), (back, False)):
        app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False,
                      persist_theme=False, events=[start, *seen])
        async with app.run_test(size=(200, 30)) as pilot:
            await pilot.pause()
            line = app.query_one(StatusLine).render().plain
        assert ("scheduler unreachable since" in line and "jobs keep running" in line) is says, line
