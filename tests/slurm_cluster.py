"""Whether the SLURM tests run against a real cluster, and why not when they don't.

``scripts/test`` starts a throwaway single-node cluster (``scripts/local-slurm``)
when it runs as root with apt-get, and exports ``SLURM_CONF`` for pytest; when it
cannot, it exports ``QTUI_SLURM_SKIP_REASON`` instead. The SLURM tests ask here:

    from slurm_cluster import cluster, require_real_slurm, submitit_cluster_name

    kind, reason = cluster()           # ("slurm", "") or ("local", why not)
    ex = submitit.AutoExecutor(folder=tmp_path, cluster=submitit_cluster_name())
    require_real_slurm()               # pytest.skip(reason) unless a real cluster

Pass ``cluster=`` explicitly: once the SLURM client is installed (``srun`` on
PATH), submitit's ``AutoExecutor`` picks "slurm" by itself even when no cluster
runs. The answer is worked out once per process (each xdist worker asks once).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

# States of a node that takes jobs (sinfo %T; a trailing '*' or '~' means it is
# not responding or powered down, which does not count).
_READY_STATES = {"idle", "mixed", "allocated", "completing"}
_TIMEOUT_S = 10.0
_NO_CONF = "SLURM_CONF not set (scripts/test starts a local cluster when run as root with apt-get)"

_answer: tuple[str, str] | None = None


def _run(cmd: list[str]) -> tuple[bool, str]:
    """Run a SLURM client; (ok, what went wrong in one line)."""
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return False, f"no answer within {_TIMEOUT_S:.0f} s"
    except OSError as exc:
        return False, str(exc)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return False, f"exit {proc.returncode}: {lines[-1] if lines else 'no output'}"
    return True, proc.stdout


def _probe() -> tuple[str, str]:
    conf = os.environ.get("SLURM_CONF", "")
    if not conf:
        why = os.environ.get("QTUI_SLURM_SKIP_REASON", "")
        return "local", f"SLURM_CONF not set: {why}" if why else _NO_CONF
    if not os.path.isfile(conf):
        return "local", f"SLURM_CONF={conf} does not exist (is the cluster started?)"
    for tool in ("sinfo", "sacct"):
        if shutil.which(tool) is None:
            return "local", f"{tool} not found on PATH (SLURM client not installed)"
    ok, out = _run(["sinfo", "-h", "-o", "%T"])
    if not ok:
        return "local", f"sinfo failed: {out}"
    states = [s.strip() for s in out.split()]
    if not any(s in _READY_STATES for s in states):
        return "local", f"no SLURM node takes jobs (sinfo states: {', '.join(states) or 'none'})"
    # submitit polls sacct for job states; without accounting a cancelled job is
    # never seen to finish.
    ok, out = _run(["sacct", "-n", "-X", "-S", "now-1minutes", "-o", "JobID"])
    if not ok:
        return "local", f"sacct failed (no accounting, submitit cannot see job states): {out}"
    return "slurm", ""


def cluster() -> tuple[str, str]:
    """``("slurm", "")`` when a real SLURM cluster takes jobs, else ``("local", reason)``."""
    global _answer
    if _answer is None:
        _answer = _probe()
    return _answer


def submitit_cluster_name() -> str:
    """What to pass as ``submitit.AutoExecutor(cluster=...)``: "slurm" or "local"."""
    return cluster()[0]


def require_real_slurm() -> None:
    """Skip the calling test, with the reason, unless a real SLURM cluster is reachable."""
    kind, reason = cluster()
    if kind != "slurm":
        pytest.skip(f"no SLURM cluster: {reason}")
