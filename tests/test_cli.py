"""``qtui`` as a user runs it: real subprocesses, real children, real PennyLane."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from cli_in_process import QtuiCli
from engine_helpers import REPO, alive, assert_no_children, child_env

TINY = ["--epochs", "1", "--samples", "20", "--batch-size", "5"]


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """The environment of a ``python -m qtui`` child, with the device probe cached in the
    suite's cache folder (``conftest._private_user_folders``): it runs once per worker."""
    e = child_env()
    e["COLUMNS"] = "160"
    e.pop("QTUI_DEBUG", None)
    out = subprocess.run(
        [sys.executable, "-m", "qtui", "devices", "--json"],
        env=e, capture_output=True, text=True, timeout=300, check=True,
    )
    assert "default.qubit" in json.loads(out.stdout)["usable_devices"]
    return e


@pytest.fixture
def cli(env: dict[str, str], qtui_cli: QtuiCli) -> QtuiCli:
    """``qtui ARGS`` in this process on the warm server (``tests/cli_in_process.py``), with
    the module's probe cache; signals and the entry point itself are tested with a child."""

    def call(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        del timeout  # a child's limit; in this process the test's own timeout applies
        return qtui_cli(*args, cwd=REPO, env={"COLUMNS": env["COLUMNS"]})

    return call


def qtui(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m qtui ARGS``: a real child, for what only a process shows."""
    return subprocess.run(
        [sys.executable, "-m", "qtui", *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one ``qtui: error:`` line; nothing else on stderr, nothing on stdout."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert proc.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--device", "no.such.device"], "qtui: error: device: unknown or unusable device 'no.such.device'; available: default.qubit, lightning.qubit"),
        (["--device", "default.qutrit"], "qtui: error: device: 'default.qutrit' is unavailable here: "),
        (["--diff-method", "magic"], "qtui: error: diff-method: unknown method 'magic'; allowed: backprop, adjoint, parameter-shift, finite-diff, best"),
        (["--epochs", "0"], "qtui: error: epochs: must be at least 1, got 0"),
        (["--batch-size", "300"], "qtui: error: batch-size: must not exceed the sample count (200), got 300"),
        (["--lr", "abc"], "qtui: error: lr: must be a number, got 'abc'"),
        (["--lr", "-1"], "qtui: error: lr: must be a positive number, got -1"),
        (["--qubits", "0"], "qtui: error: qubits: must be at least 1, got 0"),
        (["--repeat", "0"], "qtui: error: repeat: must be at least 1, got 0"),
        (["--timeout", "soon"], "qtui: error: timeout: must be a number, got 'soon'"),
        (["--workload", "not a path"], "qtui: error: workload: must look like module:function"),
        (["--device", "lightning.qubit", "--diff-method", "backprop"], "qtui: error: diff-method: no requested combination can run here (lightning.qubit+backprop: QuantumFunctionError"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    cli: QtuiCli, tmp_path: Path, args: list[str], expected: str
) -> None:
    events = tmp_path / "events.jsonl"
    t0 = time.monotonic()
    line = error_line(cli("run", *args, "--events", str(events)))
    assert line.startswith(expected), line
    assert time.monotonic() - t0 < 10  # nothing was started
    assert not events.exists()


@pytest.mark.parametrize(
    ("workload", "expected"),
    [
        ("workloads.broken_import:build", "qtui: error: workload: workload module 'workloads.broken_import' does not import: ModuleNotFoundError"),
        ("workloads.no_such_module:build", "qtui: error: workload: workload module 'workloads.no_such_module' does not import"),
        ("workloads.faulty:no_such_function", "qtui: error: workload: workload module 'workloads.faulty' has no attribute 'no_such_function'"),
        ("workloads.faulty:wrong_type", "qtui: error: workload: workload 'workloads.faulty:wrong_type' returned dict, expected qtui.engine.workload.Workload"),
        ("workloads.faulty:not_callable_yet", "qtui: error: workload: workload 'workloads.faulty:not_callable_yet' raised RuntimeError: this builder always raises"),
    ],
)
def test_bad_workload_is_refused_before_any_run(
    cli: QtuiCli, tmp_path: Path, workload: str, expected: str
) -> None:
    events = tmp_path / "events.jsonl"
    line = error_line(cli("run", "--workload", workload, "--events", str(events), *TINY))
    assert line.startswith(expected), line
    assert not events.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # the workload prints what the old check read as success, then exits 0
        (["--workload", "workloads.check_cases:fake_success"],
         "qtui: error: workload: checking 'workloads.check_cases:fake_success' failed: it ended "
         "without writing its result (exit code 0)"),
        # builds with the defaults only: the user's --qubits is what is checked
        (["--workload", "workloads.check_cases:only_two_qubits", "--qubits", "4"],
         "qtui: error: workload: workload 'workloads.check_cases:only_two_qubits' raised "
         "ValueError: this model is wired for 2 qubits, not 4 (building default.qubit+backprop, "),
        # fails for the second combination only: every combination is built
        (["--workload", "workloads.check_cases:no_adjoint", "--diff-method", "backprop,adjoint"],
         "qtui: error: workload: workload 'workloads.check_cases:no_adjoint' raised RuntimeError: "
         "adjoint is not wired up in this model (building default.qubit+adjoint"),
    ],
)
def test_the_workload_check_builds_every_run_and_wants_a_real_result(
    cli: QtuiCli, tmp_path: Path, args: list[str], expected: str
) -> None:
    """Issue 11, item 9: what the runs will build, checked before any starts."""
    events = tmp_path / "events.jsonl"
    line = error_line(cli("run", *args, "--events", str(events), *TINY))
    assert line.startswith(expected), line
    assert not events.exists()


def test_the_workload_check_passes_a_good_custom_workload_for_every_point() -> None:
    """Every distinct combination x parameter point is one build; repeats and threads are not."""
    from qtui.cli.workload_gate import check_workload, workload_builds
    from qtui.core.config import RunSpec, WorkloadParams

    w = "workloads.check_cases:no_adjoint"
    specs = [
        RunSpec("default.qubit", "backprop", WorkloadParams(workload=w, qubits=q, threads=t), r)
        for r in range(2) for q in (2, 3) for t in (1, 2)
    ]
    assert [b.params.qubits for b in workload_builds(specs)] == [2, 3]
    env = child_env()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]
    try:
        assert check_workload(specs) is None
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--foo"], "qtui: error: --foo: unknown option for qtui run"),
        (["run", "--epochs"], "qtui: error: epochs: needs a value"),
        (["report", "-f", "xyz", "x.json"], "qtui: error: format: 'xyz' is not allowed; allowed: json"),
        (["compare", "--threshold", "abc", "a", "b"], "qtui: error: threshold: must be a number"),
        (["watch", "--interval", "abc", "x"], "qtui: error: interval: must be a number"),
        (["history", "-n", "abc"], "qtui: error: limit: must be a whole number"),
        (["serve", "--port", "abc"], "qtui: error: port: must be a whole number"),
        (["devices", "extra"], "qtui: error: extra: unexpected argument for qtui devices"),
        (["nosuchcommand"], "qtui: error: command: unknown command 'nosuchcommand'; commands: run"),
    ],
)
def test_argparse_errors_are_one_line(
    cli: QtuiCli, args: list[str], expected: str
) -> None:
    """Issue 11, item 7, through the real entry point: no usage block, exit 2."""
    line = error_line(cli(*args, timeout=60))
    assert line.startswith(expected), line
    on_request = [args[0], "--help"] if args[0] != "nosuchcommand" else ["--help"]
    assert cli(*on_request, timeout=60).stdout.startswith("usage: qtui")


def test_a_command_that_fails_to_load_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11, item 10: always said (no QTUI_DEBUG), and the other commands still work."""
    import importlib

    from qtui.cli import main as cli

    real = importlib.import_module

    def broken(name: str, package: str | None = None) -> object:
        if name == "qtui.cli.commands.history":
            raise ImportError("cannot import name 'HistoryDB'\n(from a half-installed qtui)")
        return real(name, package)

    monkeypatch.delenv("QTUI_DEBUG", raising=False)
    monkeypatch.setattr(cli.importlib, "import_module", broken)
    assert cli.main(["history", "-n", "3"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "qtui: warning: command 'history' failed to load: ImportError: cannot import name "
        "'HistoryDB'\\n(from a half-installed qtui)\n"  # repr's escape: one line (issue 21)
    )
    assert cli.main(["report", "-f", "xyz", "x.json"]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("qtui: error: format: ")


def test_existing_outputs_need_force(cli: QtuiCli, tmp_path: Path) -> None:
    for flag in ("--json", "--events"):
        target = tmp_path / f"x{flag}"
        target.write_text("keep me")
        line = error_line(cli("run", flag, str(target)))
        assert line == f"qtui: error: {flag[2:]}: {target} already exists; pass --force to overwrite it"
        assert target.read_text() == "keep me"
    line = error_line(cli("run", "--json", str(tmp_path / "missing" / "out.json")))
    assert line.startswith("qtui: error: json: folder ")


def test_a_real_run_writes_json_and_events(env: dict[str, str], tmp_path: Path) -> None:
    out, log = tmp_path / "summary.json", tmp_path / "events.jsonl"
    out.write_text("old")  # --force overwrites it
    proc = qtui(
        env, "run", "--device", "lightning.qubit", "--diff-method", "backprop,adjoint",
        *TINY, "--json", str(out), "--events", str(log), "--force",
    )
    assert proc.returncode == 0, proc.stderr
    # the hyperfine-style table, and the refusal listed with PennyLane's reason
    assert "Mean ± σ" in proc.stdout and "lightning.qubit+adjoint" in proc.stdout
    assert "Refused by PennyLane (not run):" in proc.stdout
    assert "lightning.qubit+backprop: QuantumFunctionError" in proc.stdout

    summary = json.loads(out.read_text())
    assert summary["schema"] == "qtui.summary"
    assert summary["interrupted"] is False
    assert summary["machine_info"]["cpu_model"] and summary["machine_info"]["logical_cores"] >= 1
    assert summary["machine_info"]["versions"]["pennylane"]
    (result,) = summary["results"]
    assert result["parameters"]["device"] == "lightning.qubit"
    assert result["parameters"]["diff_method"] == "adjoint"
    assert result["parameters"]["epochs"] == 1 and result["parameters"]["samples"] == 20
    assert result["runs"] == {"total": 1, "finished": 1}
    assert result["mean"] > 0 and result["resources"]["peak_rss_bytes"] > 100 * 2**20
    assert len(result["epoch_losses"][0]) == 1
    assert summary["refused"][0]["device"] == "lightning.qubit"
    assert summary["refused"][0]["diff_method"] == "backprop"
    (run,) = summary["runs"]
    assert run["state"] == "finished" and run["result"]["train_s"] > 0

    events = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "session_started" and kinds[-1] == "session_finished"
    assert {"run_refused", "run_queued", "run_started", "batch", "epoch", "sample", "run_finished"} <= set(kinds)
    assert all(e["v"] == 1 for e in events)
    fin = next(e for e in events if e["type"] == "run_finished")
    assert fin["peak_rss"] == result["resources"]["peak_rss_bytes"]


def test_a_failed_run_gives_a_nonzero_exit_and_one_reason(cli: QtuiCli) -> None:
    proc = cli("run", "--workload", "workloads.faulty:raises", *TINY)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "qtui: 1 of 1 runs did not finish (default.qubit+backprop #1: failed, FaultyLossError: "
    ), last
    assert "Did not finish:" in proc.stdout


def test_ctrl_c_cancels_saves_and_exits_130(env: dict[str, str], tmp_path: Path) -> None:
    out, log = tmp_path / "summary.json", tmp_path / "events.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "qtui", "run",
            "--device", "default.qubit,lightning.qubit", "--diff-method", "adjoint",
            "--workload", "workloads.faulty:slow_on_lightning",
            "--epochs", "3", "--samples", "20", "--batch-size", "5",
            "--json", str(out), "--events", str(log),
        ],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            events = _read_events(log)
            pids = [e["pid"] for e in events if e["type"] == "run_started"]
            if any(e["type"] == "batch" and e["run_id"] == "r2" for e in events):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        else:
            pytest.fail("the second run never started training")
        assert len(pids) == 2 and psutil.pid_exists(pids[1])
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Mean ± σ" in stdout  # the table of what finished
    summary = json.loads(out.read_text())
    assert summary["interrupted"] is True
    states = {r["parameters"]["device"]: r["state"] for r in summary["runs"]}
    assert states == {"default.qubit": "finished", "lightning.qubit": "cancelled"}
    assert _read_events(log)[-1]["type"] == "session_finished"
    for pid in pids:  # the children (own sessions, not ours) are gone too
        assert not alive(pid), pid
    assert_no_children()


def test_devices_table_and_json(cli: QtuiCli) -> None:
    proc = cli("devices")
    assert proc.returncode == 0, proc.stderr
    assert "default.qubit" in proc.stdout and "lightning.qubit" in proc.stdout
    assert "→ backprop" in proc.stdout and "→ adjoint" in proc.stdout
    assert "lightning.qubit+backprop: QuantumFunctionError" in proc.stdout
    assert "(cached;" in proc.stdout
    data = json.loads(cli("devices", "--json").stdout)
    lq = next(d for d in data["devices"] if d["name"] == "lightning.qubit")
    assert lq["methods"]["backprop"]["supported"] is False
    assert lq["methods"]["best"]["resolved"] == "adjoint"
    assert lq["methods"]["parameter-shift"]["split_batch"] is True


def test_version_and_help(env: dict[str, str]) -> None:
    assert qtui(env, "--version").stdout.startswith("qtui ")
    helptext = qtui(env, "run", "--help").stdout
    for flag in ("--device", "--diff-method", "--repeat", "--timeout", "--json", "--events",
                 "--seed", "--samples", "--noise", "--batch-size", "--epochs", "--lr",
                 "--qubits", "--layers", "--workload", "--force", "--interval"):
        assert flag in helptext, flag


def _read_events(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written
    return out


def test_no_torch_in_the_cli_process() -> None:
    code = (
        "import qtui.cli.main, qtui.session.capabilities, qtui.engine.supervisor, qtui.cli.console_session; import sys; "
        "assert 'torch' not in sys.modules and 'pennylane' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


def test_isolation_applies_to_run_spawn_pays_its_imports(cli: QtuiCli, tmp_path: Path) -> None:
    """``qtui --isolation spawn run``: the run is a fresh interpreter (it pays its own
    imports), where the default forks it from the warm server (imports already paid)."""
    import_s = {}
    for isolation in ("spawn", "process"):
        log = tmp_path / f"{isolation}.jsonl"
        proc = cli("--isolation", isolation, "run", *TINY, "--events", str(log))
        assert proc.returncode == 0, proc.stderr
        events = [json.loads(line) for line in log.read_text().splitlines()]
        launched = next(e for e in events if e["type"] == "run_launched")
        assert launched["isolation"] == isolation
        import_s[isolation] = next(e for e in events if e["type"] == "run_started")["import_s"]
    assert import_s["spawn"] > 0.5 > import_s["process"], import_s
