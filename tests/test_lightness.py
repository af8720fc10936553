"""Issue 24, as light as the script it measures: what a run and qtui itself cost.

Real runs through ``qtui run`` in this process (the suite's warm fork server), real
fresh fork servers where the server's own start is the subject, a real app.

* each run counts its page faults (``ru_minflt``/``ru_majflt``) over the measured
  window, into the JSON (``runs[].result``, ``results[].resources``) and the CSV;
* qtui's own CPU over the session (children excluded) is in the summary and in the
  environment section of every view;
* the first run at once: the app's background server imports below the app's
  priority (its runs do not), a quit during that start ends it at once, the status
  line says a run waits for the imports, and ``qtui run`` starts the server before
  it reads the capability cache.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from cli_in_process import QtuiCli
from engine_helpers import SHARED_PIDS, Recorder, child_env, run_session, tiny

from qtui.cli.main import main
from qtui.core.config import RunSpec
from qtui.core.run_states import OPEN_STATES
from qtui.engine.forkserver import SERVER_MODULE, ProcessExecutor
from qtui.session.capabilities import PROBE_MODULE
from qtui.session.control import SessionController
from qtui.ui.app import QtuiApp
from qtui.ui.widgets.status_line import STARTING, StatusLine

pytestmark = pytest.mark.timeout(240)

#: A tiny forum run: 1 epoch of 4 steps.
TINY_ARGS = ("--epochs", "1", "--samples", "20", "--batch-size", "5")


def test_a_run_counts_its_page_faults_in_the_measured_window(qtui_cli: QtuiCli, tmp_path: Path) -> None:
    """The window's faults, as the run's process counted them (getrusage): a real run
    writes to memory as it trains, so it takes minor faults; major ones may be none."""
    out = tmp_path / "s.json"
    proc = qtui_cli("run", *TINY_ARGS, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    (run,) = doc["runs"]
    minor, major = run["result"]["minor_faults"], run["result"]["major_faults"]
    assert isinstance(minor, int) and minor > 0
    assert isinstance(major, int) and major >= 0
    resources = doc["results"][0]["resources"]
    assert resources["minor_faults"] == minor and resources["major_faults"] == major
    report = qtui_cli("report", str(out), "--format", "csv", "-o", "-")
    assert report.returncode == 0, report.stderr
    (row,) = list(csv.DictReader(io.StringIO(report.stdout)))
    assert int(row["minor_faults"]) == minor and int(row["major_faults"]) == major


def test_pretouch_moves_the_forks_copy_on_write_faults_out_of_the_window(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    """A forked run's first step writes to pages it shares with the fork server: ~1,800
    copy-on-write faults in its window that a spawned run does not take.  With
    ``QTUI_PRETOUCH=1`` those pages are copied before the window, and its faults fall to
    a fresh process's (~300); the run's losses are the same."""
    counts: dict[str, int] = {}
    losses: dict[str, list[float]] = {}
    for arm, value in (("plain", "0"), ("pretouch", "1")):
        out = tmp_path / f"{arm}.json"
        proc = qtui_cli("run", *TINY_ARGS, "--json", str(out), env={"QTUI_PRETOUCH": value})
        assert proc.returncode == 0, proc.stderr
        (run,) = json.loads(out.read_text())["runs"]
        counts[arm], losses[arm] = run["result"]["minor_faults"], run["epoch_losses"]
    assert counts["pretouch"] * 2 < counts["plain"], counts
    assert losses["pretouch"] == losses["plain"]


def test_qtuis_own_cpu_is_in_the_summary_and_every_views_environment(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    """``resources.qtui_cpu_s``: the qtui process's own CPU seconds over the session
    (``os.times``, its children excluded), and per second of the runs' training."""
    out = tmp_path / "s.json"
    proc = qtui_cli("run", *TINY_ARGS, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    cpu, per = doc["resources"]["qtui_cpu_s"], doc["resources"]["qtui_cpu_per_train_s"]
    train_s = doc["runs"][0]["result"]["train_s"]
    assert cpu > 0 and per == pytest.approx(cpu / train_s)
    line = "qtui's own CPU"
    assert line in proc.stdout and "of a core per training second" in proc.stdout
    md = qtui_cli("report", str(out), "--format", "md", "-o", "-")
    assert md.returncode == 0, md.stderr
    (said,) = [x for x in md.stdout.splitlines() if line in x]
    assert "of a core per training second" in said


# --- the first run at once ------------------------------------------------------------


def until(cond: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def new_server() -> psutil.Process | None:
    """A fork server this test started (the suite's shared one excepted), or None yet."""
    for p in psutil.Process().children(recursive=True):
        try:
            if p.pid not in SHARED_PIDS and SERVER_MODULE in " ".join(p.cmdline()):
                return p
        except psutil.Error:
            continue
    return None


def thread_nices(pid: int) -> list[int]:
    """Each thread's nice value (``/proc``: Linux keeps one per thread)."""
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                out.append(int(f.read().rsplit(")", 1)[1].split()[16]))  # field 19: nice
        except (OSError, IndexError, ValueError):
            continue
    return out


def prewarming(monkeypatch: pytest.MonkeyPatch, rec: Recorder) -> SessionController:
    """A controller as the app makes it (``keep_warm``, ``prewarm``), its prewarm at once."""
    import qtui.session.control as control_module

    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    monkeypatch.setattr(control_module, "PREWARM_AFTER_S", 0.0)
    return SessionController(rec, keep_warm=True, prewarm=True,
                             supervisor_options={"machine": {"hostname": "test"}})


@pytest.mark.slow
def test_the_prewarm_imports_below_the_apps_priority_and_its_runs_keep_it(
    monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor
) -> None:
    """The app's background start must not take the CPU from the app (issue 24): its
    imports run niced.  Linux keeps a nice value per thread and a process cannot lower
    its own, so the import runs in a niced thread of the server and the runs, forked from
    its main thread, keep the app's priority, and train as a run of any server does."""
    ours = psutil.Process().nice()
    rec = Recorder()
    control = prewarming(monkeypatch, rec)
    try:
        until(lambda: new_server() is not None, 30, "the prewarm started no server")
        server = new_server()
        assert server is not None
        seen: set[int] = set()

        def niced() -> bool:
            with contextlib.suppress(OSError):
                seen.update(thread_nices(server.pid))
            return any(n > ours for n in seen) or bool(control._executor.server_pid)

        until(niced, 120, "the server never imported")
        assert max(seen) > ours, f"no thread of the server imported below nice {ours}: {seen}"
        until(lambda: control._executor.server_pid == server.pid, 120, "the server never got ready")
        assert server.nice() == ours  # its main thread, whose forks are the runs
        assert set(thread_nices(server.pid)) == {ours}  # the niced thread has ended
        spec = RunSpec("default.qubit", "backprop", tiny())
        control.start([spec])
        assert control.wait(120)
        (fin,) = rec.of("run_finished")
    finally:
        assert control.stop()
    _, same = run_session([spec.with_id("r1")], executor=warm_executor)
    (theirs,) = same.of("run_finished")
    assert fin.epoch_losses == theirs.epoch_losses


def test_a_quit_while_the_prewarm_imports_ends_its_server_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quitting the app in its first seconds must not wait out torch's import."""
    rec = Recorder()
    control = prewarming(monkeypatch, rec)
    until(lambda: new_server() is not None, 30, "the prewarm started no server")
    server = new_server()
    executor = control._executor
    assert server is not None and executor is not None
    assert control.stop()
    assert executor._servers is not None and executor._servers.broken, "it was left to import"
    assert executor._servers.untold is not None and "unavailable" in executor._servers.untold.message
    until(lambda: not psutil.pid_exists(server.pid) or server.status() == psutil.STATUS_ZOMBIE,
          5, "the server outlived the quit")


@pytest.mark.slow
async def test_the_status_line_says_the_first_run_waits_for_the_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first ctrl+r of an app whose server is not up: 4-10 s with nothing but "1
    queued" on screen, before (issue 24).  Now the status line says what it waits for,
    counting up, until the run is forked."""
    from test_ui_run import fill, wait_for, wait_for_caps

    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    app = QtuiApp(gpu=False, record_history=False)  # its own executor, no prewarm: the run imports
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for_caps(pilot, app)
        fill(app, epochs="1", samples="20", batch_size="5")
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("ctrl+r")
        line = app.query_one(StatusLine)
        said: list[str] = []

        def starting() -> bool:
            text = line.render().plain
            if STARTING in text:
                said.append(text.split(STARTING, 1)[1].strip())
            return bool(said) and STARTING not in text

        await wait_for(pilot, starting, 120)  # said, then gone once the server is up
        assert said, "the status line never said the run waits for the imports"
        # the session's end and the run's last events reach the app's fold separately
        await wait_for(pilot, lambda: not app.control.active and app.state.runs()
                       and app.state.runs()[0].state not in OPEN_STATES, 120)
        (rec,) = app.state.runs()
        assert rec.state == "finished", rec.error
        assert STARTING not in line.render().plain
        if len(said) > 20:  # it waited over 2 s: the seconds counted up
            assert said[0] != said[-1], said


@pytest.mark.slow
def test_qtui_run_starts_the_fork_server_before_it_reads_the_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``qtui run`` with no server lent: the server's imports overlap qtui's own start.
    With no probe cache the probe is a process of its own, so which started first is
    seen from outside (the processes' start times)."""
    monkeypatch.setenv("QTUI_CACHE_DIR", str(tmp_path / "cache"))  # no cache: the probe runs
    monkeypatch.setenv("QTUI_NO_HISTORY", "1")
    for name, value in child_env().items():
        if name in ("PYTHONPATH", "NO_COLOR"):
            monkeypatch.setenv(name, value)
    born: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for p in psutil.Process().children(recursive=True):
                try:
                    cmd = " ".join(p.cmdline())
                    for name, module in (("server", SERVER_MODULE), ("probe", PROBE_MODULE)):
                        if p.pid not in SHARED_PIDS and module in cmd and name not in born:
                            born[name] = p.create_time()
                except psutil.Error:
                    continue
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out = tmp_path / "s.json"
    try:
        code = main(["run", *TINY_ARGS, "--json", str(out)])  # no executor: its own server
    finally:
        done.set()
        watcher.join()
    assert code == 0, capsys.readouterr().err
    assert set(born) == {"server", "probe"}, born
    assert born["server"] <= born["probe"], born  # clock ticks of 10 ms: the same tick is fine
    (run,) = json.loads(out.read_text())["runs"]
    assert run["state"] == "finished" and run["import_s"] < 1.0  # forked from that server
