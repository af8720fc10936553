"""SLURM options for real clusters (issue 22, items 6 and 7): ``--slurm-setup``,
``--account``, ``--qos``, ``--slurm-flag`` and the exclusive-billing note.

The job script is rendered by submitit's own ``_make_sbatch_string`` from the
parameters ``SlurmOptions.submitit_parameters()`` gives (what the SLURM
executor passes to ``update_parameters``), so the ``#SBATCH`` lines checked
here are the ones sbatch reads.  The last test submits a real run to the local
cluster and reads the script, the job's stderr and sacct's record.  That
cluster runs with ``AccountingStorageEnforce=none``, so it accepts an unknown
account or QoS: sbatch's refusal, one line with its words, is tested with a bad
partition (``test_slurm_pending.py``), the same path.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import child_env
from slurm_cluster import require_real_slurm

from qtui.cluster import slurm_options
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core.config import ConfigError


def _parse(*argv: str) -> SlurmOptions | None:
    p = argparse.ArgumentParser()
    slurm_options.add_flags(p)
    return slurm_options.parse(p.parse_args(list(argv)))


def _slurm(*argv: str) -> SlurmOptions:
    opts = _parse("--executor", "slurm", *argv)
    assert opts is not None
    return opts


def _script(opts: SlurmOptions, tmp_path: Path) -> str:
    """The sbatch script submitit writes for these options (rendered, not submitted)."""
    import submitit

    ex = submitit.AutoExecutor(folder=tmp_path / "submitit", cluster="slurm")
    ex.update_parameters(name="qtui-test", **opts.submitit_parameters())
    return str(ex._executor._make_submission_file_text("python -m job", "uid"))  # type: ignore[attr-defined]


def _refused(flag: str, *argv: str) -> str:
    with pytest.raises(ConfigError) as info:
        _parse("--executor", "slurm", *argv)
    assert info.value.field == flag, str(info.value)
    return str(info.value)


# --- --slurm-setup ----------------------------------------------------------------


def test_setup_lines_run_in_the_job_script_before_its_python(tmp_path: Path) -> None:
    opts = _slurm("--slurm-setup", "module load cuda/12", "--slurm-setup", "source ~/venv/bin/activate")
    assert opts.setup == ["module load cuda/12", "source ~/venv/bin/activate"]
    assert opts.submitit_parameters()["slurm_setup"] == opts.setup
    lines = _script(opts, tmp_path).splitlines()
    setup = lines.index("# setup")
    assert lines[setup + 1:setup + 3] == opts.setup
    assert setup < next(i for i, line in enumerate(lines) if line.startswith("srun "))


@pytest.mark.parametrize(("value", "says"), [
    ("", "empty"), ("   ", "empty"), ("module load a\ntouch PWNED", "control character"),
    ("echo a\rb", "control character"), ("echo \x1b[2J", "control character"),
])
def test_a_bad_setup_line_is_refused_not_stripped(value: str, says: str) -> None:
    assert says in _refused("slurm-setup", "--slurm-setup", "module load a", "--slurm-setup", value)


# --- --account, --qos --------------------------------------------------------------


def test_account_and_qos_are_submitits_own_parameters(tmp_path: Path) -> None:
    opts = _slurm("--account", "proj-42", "--qos", "high.prio")
    params = opts.submitit_parameters()
    assert (params["slurm_account"], params["slurm_qos"]) == ("proj-42", "high.prio")
    script = _script(opts, tmp_path).splitlines()
    assert "#SBATCH --account=proj-42" in script and "#SBATCH --qos=high.prio" in script


def test_slurm_extra_account_and_qos_route_to_the_same_fields(tmp_path: Path) -> None:
    """One source of truth: ``--slurm-extra account=abc`` is ``--account abc``."""
    opts = _slurm("--slurm-extra", "account=abc", "--slurm-extra", "qos=x", "--slurm-extra", "comment=c")
    assert (opts.account, opts.qos, opts.extra) == ("abc", "x", {"comment": "c"})
    assert opts.submitit_parameters() == _slurm(
        "--account", "abc", "--qos", "x", "--slurm-extra", "comment=c").submitit_parameters()
    script = _script(opts, tmp_path)
    assert script.count("--account=") == 1 and script.count("--qos=") == 1
    # the same option given both ways with different values is a conflict, named
    assert "given twice" in _refused("slurm-extra", "--account", "a", "--slurm-extra", "account=b")
    assert _slurm("--qos", "x", "--slurm-extra", "qos=x").qos == "x"


def test_an_old_manifest_with_account_in_extra_reads_back_into_the_field() -> None:
    opts = SlurmOptions.from_dict({"extra": {"account": "abc", "qos": "q", "comment": "c"}})
    assert (opts.account, opts.qos, opts.extra) == ("abc", "q", {"comment": "c"})
    again = SlurmOptions.from_dict(json.loads(json.dumps(opts.to_dict())))
    assert again == opts


@pytest.mark.parametrize("flag", ["account", "qos"])
@pytest.mark.parametrize(("value", "says"), [
    ("a b", "letters, digits"), ("a,b", "letters, digits"), ("a;rm", "letters, digits"),
    ("", "letters, digits"), ("a\nb", "control character"),
])
def test_a_bad_account_or_qos_is_refused(flag: str, value: str, says: str) -> None:
    assert says in _refused(flag, f"--{flag}", value)


# --- --slurm-flag --------------------------------------------------------------------


def test_a_slurm_flag_is_a_bare_sbatch_line(tmp_path: Path) -> None:
    opts = _slurm("--slurm-flag", "no-requeue", "--slurm-flag=--overcommit", "--slurm-flag", "no-requeue")
    assert opts.flags == ["no-requeue", "overcommit"]
    script = _script(opts, tmp_path).splitlines()
    assert "#SBATCH --no-requeue" in script and "#SBATCH --overcommit" in script
    assert "#SBATCH --exclusive" in script  # qtui's own flag is still there


@pytest.mark.parametrize(("value", "says"), [
    ("", "sbatch option name"), ("No-Requeue", "sbatch option name"), ("a b", "sbatch option name"),
    ("hold=1", "sbatch option name"), ("exclusive", "qtui's own flag"), ("array", "qtui's own flag"),
    ("time", "qtui's own flag"), ("job_name", "qtui's own flag"), ("account", "takes a value"),
    ("qos", "takes a value"), ("no-requeue\n", "control character"), ("ho\x1bld", "control character"),
])
def test_a_bad_slurm_flag_is_refused(value: str, says: str) -> None:
    assert says in _refused("slurm-flag", "--slurm-flag", value)


def test_a_flag_also_given_as_an_extra_key_is_refused() -> None:
    assert "given twice" in _refused(
        "slurm-flag", "--slurm-extra", "requeue=1", "--slurm-flag", "requeue"
    )


def test_the_new_flags_need_executor_slurm() -> None:
    for argv in (("--slurm-setup", "x"), ("--account", "a"), ("--qos", "q"), ("--slurm-flag", "hold")):
        with pytest.raises(ConfigError, match="needs --executor slurm"):
            _parse(*argv)


# --- carried by the manifest, checked again --------------------------------------


def test_the_new_options_round_trip_through_the_manifest_dict() -> None:
    opts = _slurm("--account", "a", "--qos", "q", "--slurm-flag", "hold", "--slurm-setup", "module load x")
    again = SlurmOptions.from_dict(json.loads(json.dumps(opts.to_dict())))
    assert again == opts
    assert again.submitit_parameters() == opts.submitit_parameters()


@pytest.mark.parametrize("data", [
    {"setup": ["module load x\ntouch PWNED"]}, {"account": "a\x1b]0;t\x07"}, {"flags": ["hold\r"]},
])
def test_options_read_back_from_a_manifest_refuse_a_control_character(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="control character"):
        SlurmOptions.from_dict(data).submitit_parameters()


# --- --exclusive bills whole nodes ----------------------------------------------------


def test_the_billing_note_is_said_only_for_exclusive_nodes() -> None:
    note = _slurm().billing_note()
    assert note is not None and "whole node" in note and "--no-exclusive" in note
    assert _slurm("--no-exclusive").billing_note() is None


def test_describe_names_account_qos_flags_and_setup() -> None:
    line = _slurm("--account", "a", "--qos", "q", "--slurm-flag", "hold", "--slurm-setup", "x").describe()
    assert "account a" in line and "qos q" in line and "--hold" in line and "1 setup line" in line


# --- on the real cluster ----------------------------------------------------------------


def _sacct(job_id: str, fields: str) -> list[str]:
    out = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-j", job_id, "-o", fields],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout
    return out.strip().splitlines()[0].split("|")


@pytest.mark.timeout(300)
def test_a_real_job_gets_account_qos_flag_and_runs_its_setup(tmp_path: Path) -> None:
    """``root`` and ``normal`` are the account and QoS every SLURM database has."""
    require_real_slurm()
    env = child_env()
    env.update(QTUI_SUBMITIT_CLUSTER="slurm", QTUI_NO_HISTORY="1", QTUI_DATA_DIR=str(tmp_path / "data"))
    out, jobs = tmp_path / "s.json", tmp_path / "jobs"
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "run", "--executor", "slurm", "--jobs-dir", str(jobs),
         "--time-limit", "5", "--no-exclusive", "--account", "root", "--qos", "normal",
         "--slurm-flag", "no-requeue", "--slurm-setup", "export QTUI_SETUP_MARK=ok",
         "--slurm-setup", "echo setup-ran-$QTUI_SETUP_MARK >&2",
         "--device", "default.qubit", "--diff-method", "backprop", "--epochs", "1",
         "--samples", "20", "--json", str(out)],
        env=env, capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = json.loads(out.read_text())["runs"][0]
    job_id = run["job_id"]
    script = "\n".join(p.read_text() for p in jobs.glob("*/submitit/*_submission.sh"))
    for line in ("#SBATCH --account=root", "#SBATCH --qos=normal", "#SBATCH --no-requeue",
                 "export QTUI_SETUP_MARK=ok", "echo setup-ran-$QTUI_SETUP_MARK >&2"):
        assert line in script.splitlines(), script
    array = job_id.partition("_")[0]
    errs = "".join(p.read_text() for p in jobs.glob(f"*/submitit/{array}_*_log.err"))
    assert "setup-ran-ok" in errs, errs[-2000:]
    account, qos = _sacct(job_id, "Account,QOS")
    assert (account, qos) == ("root", "normal")
    shown = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True,
                           timeout=30, env=os.environ).stdout
    assert "Requeue=0" in shown, shown
