"""``qtui exec``: unmodified scripts as monitored runs (real children, torch, PennyLane).

Each test runs ``qtui exec`` as a user would (in this process on the suite's warm
fork server, ``tests/cli_in_process.py``; the script is a real child), with a tiny
script from ``tests/scripts/``, and reads the ``--json`` summary and ``--events`` log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_in_process import QtuiCli
from engine_helpers import child_env

from qtui.engine.forkserver import ProcessExecutor

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "scripts"


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    e = child_env()
    e["COLUMNS"] = "160"
    return e


QtuiExec = Callable[..., tuple["subprocess.CompletedProcess[str]", dict[str, Any], list[dict[str, Any]]]]


@pytest.fixture
def qtui_exec(env: dict[str, str], qtui_cli: QtuiCli) -> QtuiExec:
    """``qtui exec`` with ``--json`` and ``--events``, in this process on the warm server
    (``tests/cli_in_process.py``); the script is still a real forked child.
    ``qtui_exec(tmp, *args)`` gives (process, summary, events)."""

    def call(
        tmp: Path, *args: str, timeout: float = 300
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], list[dict[str, Any]]]:
        del timeout  # a child's limit; in this process the test's own timeout applies
        out, log = tmp / "s.json", tmp / "e.jsonl"
        proc = qtui_cli(
            "exec", "--json", str(out), "--events", str(log), "--force", *args,
            cwd=tmp, env={"COLUMNS": env["COLUMNS"]},
        )
        summary = json.loads(out.read_text()) if out.exists() else {}
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return proc, summary, events

    return call


def test_a_plain_demo_script_gives_loss_points_device_truth_and_its_output(
    qtui_exec: QtuiExec, tmp_path: Path
) -> None:
    proc, summary, events = qtui_exec(
        tmp_path, "--", "python", str(SCRIPTS / "hybrid_train.py"), "--steps", "20"
    )
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    assert run["state"] == "finished"
    # Every .backward() on the scalar loss is one point, in order, as batch events.
    batches = [e for e in events if e["type"] == "batch"]
    assert [b["step"] for b in batches] == list(range(1, 21))
    assert run["result"]["steps"] == 20
    # No overrides: recorded under what the script ran, nothing "asked" of it.
    assert (run["parameters"]["device"], run["parameters"]["diff_method"]) == (
        "default.qubit", "backprop")
    assert run["asked"] is None
    assert run["quantum"]["executions_per_step"] == 1.0
    script = run["script"]
    assert script["exit_code"] == 0
    assert script["asked_devices"] == ["default.qubit"]
    assert script["asked_diff_methods"] == ["backprop"]
    assert script["loss_points"] == 20
    assert script["stdout_tail"][-1].startswith("final loss ")
    # The script printed its own final loss: the last point qtui recorded is it.
    assert f"{batches[-1]['loss']:.4f}" == script["stdout_tail"][-1].split()[-1]
    assert run["result"]["train_s"] > 0
    assert "default.qubit+backprop" in proc.stdout


def test_device_and_method_overrides_make_a_matrix_and_record_asked_and_ran(
    qtui_exec: QtuiExec, tmp_path: Path
) -> None:
    proc, summary, _ = qtui_exec(
        tmp_path, "--device", "default.qubit,lightning.qubit", "--diff-method", "adjoint",
        "--", str(SCRIPTS / "hybrid_train.py"), "--steps", "3",
    )
    assert proc.returncode == 0, proc.stderr
    runs = summary["runs"]
    assert [(r["parameters"]["device"], r["parameters"]["diff_method"]) for r in runs] == [
        ("default.qubit", "adjoint"), ("lightning.qubit", "adjoint")]
    for r in runs:
        assert r["state"] == "finished"
        # What the script asked for ...
        assert r["script"]["asked_devices"] == ["default.qubit"]
        assert r["script"]["asked_diff_methods"] == ["backprop"]
        # ... and what ran (device truth).
        assert r["quantum"]["device"] == r["parameters"]["device"]
        assert r["quantum"]["diff_method"] == "adjoint"
        assert r["script"]["device_override"] == r["parameters"]["device"]
    # Named by the script and its arguments, with what each ran on (not script+script).
    assert {r["label"] for r in summary["results"]} == {
        "hybrid_train.py --steps 3 on default.qubit+adjoint",
        "hybrid_train.py --steps 3 on lightning.qubit+adjoint"}
    assert "[2/2] hybrid_train.py --steps 3 on lightning.qubit+adjoint #1: finished" in proc.stderr


def test_a_script_that_raises_is_failed_with_its_stderr(qtui_exec: QtuiExec, tmp_path: Path) -> None:
    proc, summary, _ = qtui_exec(tmp_path, "--", "python", str(SCRIPTS / "raises.py"))
    assert proc.returncode == 1
    [run] = summary["runs"]
    assert run["state"] == "failed"
    assert run["error"]["exc_type"] == "RuntimeError"
    assert "exited with code 1" in run["error"]["message"]
    assert "the script broke on purpose" in run["error"]["message"]
    assert run["script"]["stdout_tail"] == ["about to fail"]
    assert any("Traceback" in line for line in run["script"]["stderr_tail"])


def test_a_nonzero_exit_code_is_failed(qtui_exec: QtuiExec, tmp_path: Path) -> None:
    proc, summary, _ = qtui_exec(tmp_path, "--", str(SCRIPTS / "exits_3.py"))
    assert proc.returncode == 1
    [run] = summary["runs"]
    assert run["state"] == "failed"
    assert run["script"]["exit_code"] == 3
    assert run["error"]["message"] == "the script exited with code 3: going away with 3"
    assert run["script"]["stdout_tail"] == ["some output"]


def test_a_hanging_script_times_out(qtui_exec: QtuiExec, tmp_path: Path) -> None:
    proc, summary, _ = qtui_exec(tmp_path, "--timeout", "8", "--", str(SCRIPTS / "hangs.py"))
    assert proc.returncode == 1
    assert summary["runs"][0]["state"] == "timed_out"


def test_the_api_names_metrics_and_epochs(qtui_exec: QtuiExec, tmp_path: Path) -> None:
    proc, summary, events = qtui_exec(tmp_path, "--", str(SCRIPTS / "with_api.py"))
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    assert run["logged"] == {"accuracy": pytest.approx([0.5, 0.6, 0.7]), "lr": [0.1] * 3}
    assert len(run["epoch_losses"]) == 3
    # Logged metrics are the run's named metrics too (last value; direction by name).
    assert run["result"]["metrics"]["accuracy"] == {
        "value": pytest.approx(0.7), "higher_is_better": True}
    assert run["result"]["steps"] == 12
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3]
    assert [e["epoch"] for e in events if e["type"] == "batch"] == [1] * 4 + [2] * 4 + [3] * 4
    # The float(w) on a requires_grad tensor warns: counted, with its location.
    assert any(w["filename"].endswith("with_api.py") for w in run["warnings"])


def test_no_loss_capture(qtui_exec: QtuiExec, tmp_path: Path) -> None:
    proc, summary, events = qtui_exec(
        tmp_path, "--no-loss-capture", "--", str(SCRIPTS / "with_api.py"))
    assert proc.returncode == 0, proc.stderr
    assert not [e for e in events if e["type"] == "batch"]
    assert summary["runs"][0]["script"]["loss_points"] == 0


def test_the_api_is_a_no_op_outside_qtui_and_import_qtui_stays_light(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(SCRIPTS / "with_api.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.startswith("done ")
    code = (
        "import sys, qtui\n"
        "assert 'qtui.script_api' not in sys.modules\n"
        "qtui.log(x=1); qtui.epoch()\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_the_form_runs_a_command_queued_beside_a_workload_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor
) -> None:
    """The form's command field: a bad script is refused as you type; a good one is a
    real `qtui exec` run, queued after a built-in run in the same session."""
    import time

    from test_ui_form import form_ready, make_app
    from textual.widgets import Button, Input, Static

    from qtui.ui.screens.run_detail import run_text
    from qtui.ui.widgets.run_form import RunForm

    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    app = make_app(executor=warm_executor)
    async with app.run_test(size=(120, 50)) as pilot:
        await form_ready(pilot, app)
        form = app.query_one(RunForm)
        for key, value in {"epochs": "1", "samples": "10", "batch_size": "5"}.items():
            app.query_one(f"#field-{key}", Input).value = value
        form.request_start()  # a built-in run first (default.qubit+backprop)
        command = app.query_one("#field-command", Input)
        command.value = "python nosuch.py"
        await pilot.pause()
        assert "command: no such script: 'nosuch.py'" in str(
            app.query_one("#form-errors", Static).render())
        assert app.query_one("#start", Button).disabled
        command.value = f"python {SCRIPTS / 'with_api.py'}"
        await pilot.pause()
        assert not app.query_one("#start", Button).disabled
        assert form.request_start()
        deadline = time.monotonic() + 150
        runs = app.state.summary.runs
        while time.monotonic() < deadline and not (
            len(runs) == 2 and all(r.state == "finished" for r in runs.values())
        ):
            await pilot.pause(0.2)
        workload_run, script_run = runs.values()
        assert workload_run.state == script_run.state == "finished", (
            workload_run.error, script_run.error)
        assert not workload_run.spec.get("command")
        assert script_run.spec["command"][0] == str(SCRIPTS / "with_api.py")
        assert script_run.script["stdout_tail"][-1].startswith("done ")
        assert script_run.logged["accuracy"] == pytest.approx([0.5, 0.6, 0.7])
        detail = run_text(script_run, "with_api", None).plain
        assert "Script (qtui exec)" in detail
        assert "stdout kept in " in detail and ".stdout" in detail  # the pane shows the file
        assert "logged accuracy: 0.7" in detail
        # Named by its script in the queue and the tables, not script+script; its
        # output stays off the app's screen (printing it is `qtui exec`'s alone).
        assert app.state.run_label(script_run).startswith("with_api.py on ")
        assert "show_output" not in script_run.spec


FORUM_EPOCH_LOSSES = [0.5108, 0.4007, 0.2492, 0.2128, 0.1894, 0.1919]


def test_the_forum_script_gives_the_forums_losses_and_the_builtin_execution_counts(
    qtui_exec: QtuiExec, tmp_path: Path
) -> None:
    """The forum's model as a plain script (tests/scripts/forum_train.py): the loss
    points, 40 per epoch, average to the forum's per-epoch losses, the script's own
    prints say the same, and device truth counts one execution per step for backprop
    and adjoint, as for the built-in workload (tests/test_device_truth.py)."""
    proc, summary, events = qtui_exec(
        tmp_path, "--diff-method", "backprop,adjoint", "--",
        "python", str(SCRIPTS / "forum_train.py"),
    )
    assert proc.returncode == 0, proc.stderr
    for run in summary["runs"]:
        assert run["state"] == "finished", run["error"]
        points = [e["loss"] for e in events if e["type"] == "batch" and e["run_id"] == run["run_id"]]
        assert len(points) == 240
        per_epoch = [round(sum(points[i * 40:(i + 1) * 40]) / 40, 4) for i in range(6)]
        assert per_epoch == FORUM_EPOCH_LOSSES
        assert run["script"]["stdout_tail"] == [
            f"Average loss over epoch {i + 1}: {loss:.4f}" for i, loss in enumerate(FORUM_EPOCH_LOSSES)
        ]
        assert run["quantum"]["executions_per_step"] == 1.0
        # backprop runs the batch as one broadcast circuit; adjoint one circuit per sample.
        circuits = 1.0 if run["parameters"]["diff_method"] == "backprop" else 5.0
        assert run["quantum"]["circuits_per_step"] == circuits
        assert run["script"]["asked_diff_methods"] == ["backprop"]
    assert [r["quantum"]["diff_method"] for r in summary["runs"]] == ["backprop", "adjoint"]


def test_a_script_never_runs_in_a_thread_of_the_ui() -> None:
    from qtui.core.config import RunSpec
    from qtui.engine.executor import LaunchError
    from qtui.engine.thread_executor import ThreadExecutor

    spec = RunSpec("script", "script", command=(str(SCRIPTS / "with_api.py"),))
    with pytest.raises(LaunchError, match="own process"):
        ThreadExecutor().launch(spec, lambda e: None, lambda: None)


def test_a_spawned_child_runs_the_script_the_same_way(tmp_path: Path) -> None:
    """``--isolation spawn``: a fresh interpreter, the script's own cwd and argv."""
    from engine_helpers import run_session

    from qtui.core import events as ev
    from qtui.core.config import RunSpec

    spec = RunSpec("script", "script", run_id="r1", cwd=str(tmp_path),
                   command=(str(SCRIPTS / "with_api.py"),))
    _, rec = run_session([spec], isolation="spawn")
    ended = [e for e in rec.events if isinstance(e, ev.ScriptEnded)]
    assert ended and ended[0].exit_code == 0 and ended[0].loss_points == 12
    assert isinstance(rec.terminal("r1"), ev.RunFinished)


def test_a_script_ending_with_os_exit_is_finished_with_every_loss_point(
    qtui_exec: QtuiExec, tmp_path: Path
) -> None:
    """``os._exit(0)`` (torch scripts use it to skip a slow teardown) ends the script as
    exit code 0 does: finished, with every loss point (none held back) and its output;
    ``os._exit(3)`` is failed with code 3, as ``sys.exit(3)`` is."""
    proc, summary, events = qtui_exec(
        tmp_path, "--", "python", str(SCRIPTS / "hybrid_train.py"), "--steps", "60",
        "--os-exit", "0",
    )
    assert proc.returncode == 0, proc.stderr
    batches = [e for e in events if e["type"] == "batch"]
    assert [b["step"] for b in batches] == list(range(1, 61))
    [run] = summary["runs"]
    assert run["state"] == "finished"
    assert run["script"]["exit_code"] == 0 and run["result"]["steps"] == 60
    assert run["script"]["stdout_tail"][-1].startswith("final loss ")
    assert run["quantum"]["executions_per_step"] == 1.0

    proc, summary, _ = qtui_exec(
        tmp_path, "--", "python", str(SCRIPTS / "hybrid_train.py"), "--steps", "2",
        "--os-exit", "3",
    )
    assert proc.returncode == 1
    [run] = summary["runs"]
    assert run["state"] == "failed" and run["script"]["exit_code"] == 3
    assert run["error"]["message"].startswith("the script exited with code 3")


def test_os_exit_in_a_process_the_script_forks_is_that_process_own(
    qtui_exec: QtuiExec, tmp_path: Path
) -> None:
    """A process the script forks (multiprocessing ends its children with ``os._exit``)
    exits as it would without qtui: it writes nothing to the run's events."""
    script = tmp_path / "forks.py"
    script.write_text(
        "import os\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(7)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print('child exit', os.waitstatus_to_exitcode(status))\n"
    )
    proc, summary, events = qtui_exec(tmp_path, "--", "python", str(script))
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    assert run["state"] == "finished"
    assert run["script"]["stdout_tail"] == ["child exit 7"]
    assert [e["type"] for e in events].count("script_ended") == 1


def test_a_script_in_a_thread_is_refused_up_front(qtui_cli: QtuiCli, tmp_path: Path) -> None:
    """``qtui --isolation thread exec``: one clear line and exit 2, nothing run (a script's
    hooks on fds 1 and 2, torch and ``qml.device`` would be qtui's own)."""
    proc = qtui_cli(
        "--isolation", "thread", "exec", "--", "python", str(SCRIPTS / "hybrid_train.py"),
        cwd=tmp_path,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "qtui: error: isolation: a `qtui exec` script runs in its own process only; "
        "use --isolation process (the default) or spawn, not thread"
    ]
