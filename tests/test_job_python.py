"""The SLURM job side never imports from the folder qtui was started in (issue 21, item 3).

A job runs in the submission folder, and submitit starts it as ``python -u -m
submitit.core._submit FOLDER``: a ``submitit.py`` or ``cloudpickle.py`` lying
there was imported by the job, on every node, with the user's rights.  The job's
python is ``qtui.cluster.job_side.job_python()``: ``-P`` (3.11+) or a bootstrap
that drops the entry first (3.10).  Each planted module touches a marker file.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import child_env
from slurm_cluster import cluster, require_real_slurm

from qtui.cluster.job_side import job_python

PLANTS = ("submitit", "cloudpickle")


def plant(folder: Path, name: str) -> Path:
    """``folder/<name>.py`` that leaves ``PWNED-<name>`` beside itself when imported."""
    marker = folder / f"PWNED-{name}"
    (folder / f"{name}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n", encoding="utf-8"
    )
    return marker


def submit_command(python: str, jobs: Path) -> str:
    """What submitit's SLURM and local executors run in a job (``_submitit_command_str``)."""
    return " ".join([python, "-u -m submitit.core._submit", shlex.quote(str(jobs))])


@pytest.mark.parametrize("name", PLANTS)
@pytest.mark.parametrize("safe_path", [True, False], ids=["-P", "bootstrap"])
def test_the_job_command_imports_nothing_from_its_folder(
    tmp_path: Path, name: str, safe_path: bool
) -> None:
    if safe_path and sys.version_info < (3, 11):
        pytest.skip("-P needs Python 3.11")
    marker = plant(tmp_path, name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    # the same command with a plain python does import it: the test can fail
    plain = submit_command(shlex.quote(sys.executable), tmp_path / "jobs")
    subprocess.run(["sh", "-c", plain], cwd=tmp_path, env=env, capture_output=True, timeout=60)
    assert marker.exists(), f"a plain python did not import the planted {name}.py"
    marker.unlink()

    proc = subprocess.run(
        ["sh", "-c", submit_command(job_python(safe_path=safe_path), tmp_path / "jobs")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert not marker.exists(), proc.stderr
    # the real submitit ran: it looked for its job files in the (missing) folder
    assert "submitit" in proc.stderr and f"{tmp_path}/{name}.py" not in proc.stderr


def test_the_bootstrap_runs_the_module_unbuffered_with_its_arguments(tmp_path: Path) -> None:
    probe = tmp_path / "lib" / "probe_args.py"
    probe.parent.mkdir()
    probe.write_text(
        "import sys\nprint(sys.argv[1:], sys.stdout.write_through, '' in sys.path, sys.argv[0])\n",
        encoding="utf-8",
    )
    cmd = f"{job_python(safe_path=False)} -u -m probe_args a 'b c'"
    out = subprocess.run(
        ["sh", "-c", cmd], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(probe.parent)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("['a', 'b c'] True False ") and out.stdout.strip().endswith(
        "probe_args.py"
    )


@pytest.mark.timeout(300)
def test_a_slurm_job_started_from_a_planted_folder_imports_neither(tmp_path: Path) -> None:
    """On the real cluster: ``qtui run --executor slurm`` from a folder holding both."""
    require_real_slurm()
    assert cluster()[0] == "slurm"
    markers = [plant(tmp_path, name) for name in PLANTS]
    env = child_env()
    env.update(QTUI_SUBMITIT_CLUSTER="slurm", QTUI_NO_HISTORY="1",
               QTUI_DATA_DIR=str(tmp_path / "data"))
    out = tmp_path / "s.json"
    proc = subprocess.run(
        # qtui itself with -P too: the user's own process is not what is tested here
        [sys.executable, "-P", "-m", "qtui", "run", "--executor", "slurm",
         "--jobs-dir", str(tmp_path / "jobs"), "--time-limit", "5", "--device", "default.qubit",
         "--diff-method", "backprop", "--epochs", "1", "--samples", "20", "--json", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [m.name for m in markers if m.exists()] == []
