"""``qtui exec`` shows the script's own output as ``python script.py`` prints it
(issue 23, item 1), and labels the run by its script, not ``script+script``.

Each test runs ``qtui exec`` in this process on the suite's warm fork server
(the script is a real forked child) and reads what reached file descriptors 1
and 2 (``capfd``): the script's own output goes there, not through qtui's
console.  The script is also run with plain ``python`` and its output compared.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import child_env

from qtui.cli.main import main
from qtui.engine.forkserver import ProcessExecutor

#: A script that reports progress on stdout and stderr, then fails.
TRAIN = """\
import sys
for epoch in (1, 2):
    print(f"epoch {epoch}: loss 0.6050 acc 0.842")
    print(f"stderr note {epoch}", file=sys.stderr)
raise ValueError("boom")
"""

Exec = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def qtui_exec(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    warm_executor: ProcessExecutor,
) -> Exec:
    """``qtui exec ARGV`` in ``cwd``; stdout and stderr as the file descriptors got them."""

    def call(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
        base = child_env()
        for name in ("PYTHONPATH", "NO_COLOR"):
            monkeypatch.setenv(name, base[name])
        monkeypatch.setenv("COLUMNS", "160")
        monkeypatch.chdir(cwd)
        capfd.readouterr()
        code = main(["exec", *argv], executor=warm_executor)
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["qtui", "exec", *argv], code, out, err)

    return call


def _plain_python(cwd: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, script], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_scripts_output_and_traceback_are_printed_as_python_prints_them(
    qtui_exec: Exec, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    plain = _plain_python(tmp_path, "train.py")
    assert plain.returncode == 1 and plain.stderr.endswith("ValueError: boom\n")

    proc = qtui_exec(tmp_path, "--", "train.py")
    assert proc.returncode == 1
    # Every byte the script wrote, in its order, on the stream it wrote it to...
    assert plain.stdout in proc.stdout
    assert proc.stdout.index(plain.stdout) < proc.stdout.index("Results:")
    assert plain.stderr in proc.stderr, proc.stderr  # the traceback exactly as Python prints it
    # ... then qtui's line, naming the run by its script.
    failed = proc.stderr.index("[1/1] train.py #1: failed")
    assert proc.stderr.index(plain.stderr) < failed
    assert "ValueError" in proc.stderr[failed:].splitlines()[0]
    assert "script+script" not in proc.stdout + proc.stderr


def test_quiet_keeps_the_output_to_the_run_record(qtui_exec: Exec, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    proc = qtui_exec(tmp_path, "--quiet", "--json", "s.json", "--", "train.py")
    assert proc.returncode == 1
    assert "epoch 1" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "[1/1] train.py #1: failed" in proc.stderr


@pytest.mark.timeout(300)
def test_on_slurm_the_scripts_output_is_in_the_jobs_own_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--executor slurm``: the job runs the same child, so the script's stdout is in
    SLURM's ``.out`` of the job and its stderr in the ``.err``, as an sbatch'd
    ``python train.py`` would leave them (issue 22, item 8)."""
    from slurm_cluster import cluster

    kind, _ = cluster()
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])  # jobs inherit it
    monkeypatch.setenv("QTUI_SUBMITIT_CLUSTER", kind)
    monkeypatch.setenv("QTUI_NO_HISTORY", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(TRAIN)
    code = main(["exec", "--executor", "slurm", "--jobs-dir", str(tmp_path / "jobs"),
                 "--time-limit", "5", "--", "train.py"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "[1/1] train.py #1: failed, ValueError: boom" in err
    [out_log] = (tmp_path / "jobs").glob("*/submitit/*_log.out")
    err_log = out_log.with_suffix(".err")
    plain = _plain_python(tmp_path, "train.py")
    assert plain.stdout in out_log.read_text()
    assert plain.stderr in err_log.read_text()


def test_a_syntax_error_is_printed_as_python_prints_it(qtui_exec: Exec, tmp_path: Path) -> None:
    """The script never ran a line: no frame of its own, and none of qtui's or runpy's."""
    (tmp_path / "broken.py").write_text("print('never')\nx = (\n")
    plain = _plain_python(tmp_path, "broken.py")
    assert plain.stderr.endswith("SyntaxError: '(' was never closed\n")
    proc = qtui_exec(tmp_path, "--", "broken.py")
    assert proc.returncode == 1
    assert plain.stderr in proc.stderr, proc.stderr
    assert "runpy" not in proc.stderr
    assert "[1/1] broken.py #1: failed, SyntaxError: '(' was never closed" in proc.stderr
