"""``--executor local|slurm`` and the SLURM options: parsed, checked, explained.

Shared by ``qtui run``, ``qtui sweep`` (and the TUI's form through
``SlurmOptions.parse_field``).  Every option is checked here, before anything
is submitted, with a message that says what is wrong and what is allowed.

Decisions (README, "Running on a SLURM cluster"):

* ``--exclusive`` is on by default: one run per node, so no other job's load
  distorts a timing.  The price is that each job is billed a whole node while a
  run uses a core or two; ``billing_note`` says so wherever the options are
  reported.  Asking for what a run uses instead (``--cpus-per-task`` from its
  threads, ``--mem`` from a last peak) would bill less but time runs beside
  other users' jobs, which is what a benchmark must not do by default.
  ``--no-exclusive`` packs runs onto shared nodes; their contention is still
  measured and flagged like a local run's.
* ``--account`` and ``--qos`` are fields of their own, passed as submitit's
  ``slurm_account``/``slurm_qos``; ``--slurm-extra account=...``/``qos=...``
  lands in the same fields (one source of truth, one ``#SBATCH`` line).
* ``--slurm-flag NAME`` is an sbatch option without a value (``no-requeue``,
  ``hold``): submitit writes a parameter whose value is ``True`` as a bare
  ``#SBATCH --NAME``.  ``--slurm-setup LINE`` lines are submitit's
  ``slurm_setup``: shell lines of the job script, run before the job's python
  (``module load``, ``conda activate``).  They are the user's own shell, run
  with the user's rights; like every option they may hold no control
  character, so a line stays one line.
* ``--time-limit`` is in minutes (at least 1, default 60).  A run past it is
  ended by SLURM and recorded as timed out (``TIMEOUT``), not resumed.
* No option may hold a control character (a newline, ESC, ...): each becomes
  an ``#SBATCH`` line of the job's script, and a newline there would end the
  line and run the rest as a shell command, and sbatch would stop reading
  ``#SBATCH`` lines at it (issue 21).  It is refused, not stripped.
* ``--jobs-dir`` must be on storage the compute nodes share with the login
  node (events are written there by the job and read here).  Default:
  ``$QTUI_JOBS_DIR``, else ``jobs/`` in qtui's data folder (under the home
  directory, which clusters share).
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qtui.core.config import ConfigError, parse_float, parse_int
from qtui.core.paths import JOBS_DIR_ENV, default_jobs_dir
from qtui.core.safe_text import control_in

#: ``--executor`` values: where runs execute.
EXECUTOR_CHOICES = ("local", "slurm")
MIN_TIME_LIMIT_MIN = 1
MAX_TIME_LIMIT_MIN = 60 * 24 * 365
_MEM = re.compile(r"^[1-9][0-9]*[KMGT]?$")
_PARTITION = re.compile(r"^[A-Za-z0-9_.,-]+$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")  # an account or a QoS: one SLURM name
_EXTRA_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
#: sbatch options qtui sets itself (dash spelling); --slurm-extra and --slurm-flag
#: must not fight them.
_OWN_KEYS = frozenset({
    "partition", "time", "cpus-per-task", "mem", "gpus", "exclusive",
    "array", "output", "error", "job-name", "wrap",
})
#: sbatch options with a qtui field of their own: --slurm-extra KEY=VALUE goes there.
_FIELD_KEYS = ("account", "qos")


@dataclass
class SlurmOptions:
    """What a SLURM submission asks for (None: the cluster's default)."""

    partition: str | None = None
    time_limit_min: int = 60
    cpus_per_task: int | None = None
    mem: str | None = None  # sbatch syntax: 4G, 500M
    gpus: int = 0
    exclusive: bool = True
    array_parallelism: int = 256
    runs_per_job: int = 1  # >1: a job runs several, importing torch and pennylane once
    extra: dict[str, str] = field(default_factory=dict)
    account: str | None = None  # sbatch --account
    qos: str | None = None  # sbatch --qos
    #: sbatch options without a value (dash spelling): ``#SBATCH --no-requeue``.
    flags: list[str] = field(default_factory=list)
    #: Shell lines run in the job script before the job's python (submitit's slurm_setup).
    setup: list[str] = field(default_factory=list)
    jobs_dir: str = ""  # "" -> default_jobs_dir()
    #: A task the scheduler answers for but knows nowhere is LOST after this long.
    lost_after_s: float = 600.0
    #: Seconds between scheduler polls; 0: adaptive (qtui.cluster.slurm_executor).
    poll_s: float = 0.0
    #: submitit's cluster: "slurm", or "local" (submitit's own local executor: the
    #: tests where no SLURM is installed, and a dry run of the whole path).
    cluster: str = "slurm"

    def __post_init__(self) -> None:
        # a manifest written before --account/--qos holds them in extra
        self.extra = dict(self.extra)
        for key in _FIELD_KEYS:
            if key in self.extra:
                value = self.extra.pop(key)
                if getattr(self, key) is None:
                    setattr(self, key, value)

    def folder(self) -> Path:
        return Path(self.jobs_dir).expanduser() if self.jobs_dir else default_jobs_dir()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlurmOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def submitit_parameters(self) -> dict[str, Any]:
        """``AutoExecutor.update_parameters`` keywords for these options."""
        params: dict[str, Any] = {
            "timeout_min": self.time_limit_min,
            "slurm_array_parallelism": self.array_parallelism,
            "nodes": 1,
            "tasks_per_node": 1,
        }
        if self.cluster != "slurm":
            return {"timeout_min": self.time_limit_min}
        if self.partition:
            params["slurm_partition"] = self.partition
        if self.cpus_per_task:
            params["cpus_per_task"] = self.cpus_per_task
        if self.mem:
            params["slurm_mem"] = self.mem
        if self.gpus:
            params["slurm_gpus_per_node"] = self.gpus
        if self.account:
            params["slurm_account"] = self.account
        if self.qos:
            params["slurm_qos"] = self.qos
        if self.setup:
            params["slurm_setup"] = list(self.setup)
        extra: dict[str, Any] = {}
        if self.exclusive:
            extra["exclusive"] = True
        extra.update({k.replace("-", "_"): True for k in self.flags})  # True: a bare #SBATCH --k
        extra.update({k.replace("-", "_"): v for k, v in self.extra.items()})
        if extra:
            params["slurm_additional_parameters"] = extra
        _no_controls(params)  # options read back from a manifest were never set_field's
        return params

    def describe(self) -> str:
        """One line for the start of a session: where and how the jobs go."""
        parts = [f"partition {self.partition or '(default)'}", f"time limit {self.time_limit_min} min"]
        if self.cpus_per_task:
            parts.append(f"{self.cpus_per_task} CPUs per task")
        if self.mem:
            parts.append(f"mem {self.mem}")
        if self.gpus:
            parts.append(f"{self.gpus} GPU(s)")
        parts.append("exclusive nodes" if self.exclusive else "shared nodes")
        if self.account:
            parts.append(f"account {self.account}")
        if self.qos:
            parts.append(f"qos {self.qos}")
        if self.runs_per_job > 1:
            parts.append(f"{self.runs_per_job} runs per job")
        parts += [f"{k}={v}" for k, v in self.extra.items()]
        parts += [f"--{k}" for k in self.flags]
        if self.setup:
            parts.append(f"{len(self.setup)} setup line{'s' if len(self.setup) > 1 else ''}")
        return ", ".join(parts)

    def billing_note(self) -> str | None:
        """One sentence for a report when exclusive nodes bill more than a run uses."""
        if not self.exclusive:
            return None
        return (
            "exclusive nodes: each job is billed a whole node; "
            "--no-exclusive --cpus-per-task N asks for what a run uses"
        )


def _no_controls(params: dict[str, Any], flag: str = "slurm-extra") -> None:
    """``ConfigError`` if any key or text value holds a control character."""
    for key, value in params.items():
        name = flag
        if key == "slurm_setup":
            name = "slurm-setup"
        if isinstance(value, dict):
            _no_controls(value, name)
        for text in (key, *(value if isinstance(value, list) else [value])):
            if isinstance(text, str) and (why := control_in(text)):
                raise ConfigError(name, f"{why}; got {text!r}")


def add_flags(p: argparse.ArgumentParser) -> None:
    """``--executor`` and the SLURM flags (they need ``--executor slurm``)."""
    p.add_argument(
        "--executor", default="local", metavar="local|slurm",
        help="where runs execute: local (a child of qtui, one at a time; default) or slurm "
        "(one job array through submitit, watched live from here)",
    )
    g = p.add_argument_group("SLURM (with --executor slurm)")
    g.add_argument("--partition", default=None, metavar="NAME", help="partition (default: the cluster's)")
    g.add_argument(
        "--time-limit", default=None, metavar="MINUTES",
        help=f"per job, in minutes ({MIN_TIME_LIMIT_MIN} or more; default 60)",
    )
    g.add_argument("--cpus-per-task", default=None, metavar="N", help="CPUs per job (default: the cluster's)")
    g.add_argument("--mem", default=None, metavar="SIZE", help="memory per job, sbatch syntax: 4G, 500M")
    g.add_argument("--gpus", default=None, metavar="N", help="GPUs per job (default 0)")
    g.add_argument(
        "--exclusive", dest="exclusive", action="store_const", const=True, default=None,
        help="one run per node (the default: timings not shared with other jobs)",
    )
    g.add_argument(
        "--no-exclusive", dest="exclusive", action="store_const", const=False,
        help="let jobs share nodes (contention is measured and flagged)",
    )
    g.add_argument(
        "--array-parallelism", default=None, metavar="N",
        help="at most N jobs of the array at once (default 256)",
    )
    g.add_argument(
        "--runs-per-job", default=None, metavar="N",
        help="runs per job, one after another on its node from one warm interpreter: "
        "torch and pennylane imported once per job, not per run (default 1; the time "
        "limit is per job)",
    )
    g.add_argument("--account", default=None, metavar="NAME", help="account the jobs are charged to")
    g.add_argument("--qos", default=None, metavar="NAME", help="quality of service (sbatch --qos)")
    g.add_argument(
        "--slurm-setup", action="append", default=None, metavar="LINE",
        help="a shell line run in the job before its python (repeatable): "
        "--slurm-setup 'module load cuda/12'",
    )
    g.add_argument(
        "--slurm-flag", action="append", default=None, metavar="NAME",
        help="an sbatch option without a value (repeatable): --slurm-flag no-requeue",
    )
    g.add_argument(
        "--slurm-extra", action="append", default=None, metavar="KEY=VALUE",
        help="any other sbatch option, passed through (repeatable): "
        "--slurm-extra constraint=haswell",
    )
    g.add_argument(
        "--lost-after", default=None, metavar="SECONDS",
        help="a task the scheduler answers for but knows nowhere is recorded LOST after "
        "this long (default 600; an unreachable scheduler never counts)",
    )
    g.add_argument(
        "--poll", default=None, metavar="SECONDS",
        help="seconds between scheduler polls (default: 2 s while tasks start, then 15 s)",
    )
    g.add_argument(
        "--jobs-dir", default=None, metavar="DIR",
        help="folder for the jobs' files, on storage the compute nodes share "
        f"(default ${JOBS_DIR_ENV} or qtui's data folder /jobs)",
    )


_SLURM_FLAGS = {
    "partition": "partition", "time_limit": "time-limit", "cpus_per_task": "cpus-per-task",
    "mem": "mem", "gpus": "gpus", "exclusive": "exclusive",
    "array_parallelism": "array-parallelism", "runs_per_job": "runs-per-job",
    "account": "account", "qos": "qos", "slurm_extra": "slurm-extra",
    "slurm_flag": "slurm-flag", "slurm_setup": "slurm-setup",
    "jobs_dir": "jobs-dir", "lost_after": "lost-after", "poll": "poll",
}


def parse(args: Any) -> SlurmOptions | None:
    """The SLURM options from parsed flags; None for ``--executor local``.

    Raises ``ConfigError`` for a bad value, an unknown executor, or a SLURM
    flag given without ``--executor slurm`` (an error, not silently ignored).
    """
    executor = str(getattr(args, "executor", "local") or "local").strip().lower()
    if executor not in EXECUTOR_CHOICES:
        raise ConfigError(
            "executor", f"must be one of {', '.join(EXECUTOR_CHOICES)}, got {executor!r}"
        )
    if executor == "local":
        given = [flag for attr, flag in _SLURM_FLAGS.items() if getattr(args, attr, None) is not None]
        if given:
            raise ConfigError(given[0], "needs --executor slurm")
        return None
    isolation = getattr(args, "isolation", None)
    if isolation not in (None, "process"):
        raise ConfigError(
            "isolation", f"applies to local runs only, got {isolation!r} with --executor slurm "
            "(a job forks its runs from its own pre-imported server)"
        )
    opts = SlurmOptions(cluster=os.environ.get("QTUI_SUBMITIT_CLUSTER", "slurm"))
    for attr, flag in _SLURM_FLAGS.items():
        value = getattr(args, attr, None)
        if value is not None:
            set_field(opts, flag, value)
    return opts


def set_field(opts: SlurmOptions, flag: str, value: Any) -> None:
    """Check one option (flag name without dashes) and store it; ``ConfigError`` if bad."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and (why := control_in(item)):
            raise ConfigError(
                flag, f"{why}, which a line of the job's script cannot carry; got {item!r}"
            )
    text = value if isinstance(value, (bool, list)) else str(value).strip()
    if flag == "partition":
        if not _PARTITION.match(str(text)):
            raise ConfigError(flag, f"letters, digits, '_', '-', '.' or ',' only, got {text!r}")
        opts.partition = str(text)
    elif flag == "time-limit":
        opts.time_limit_min = parse_int(flag, str(text), minimum=MIN_TIME_LIMIT_MIN, maximum=MAX_TIME_LIMIT_MIN)
    elif flag == "cpus-per-task":
        opts.cpus_per_task = parse_int(flag, str(text), minimum=1, maximum=4096)
    elif flag == "mem":
        up = str(text).upper()
        if not _MEM.match(up):
            raise ConfigError(flag, f"a size like 500M, 4G or 1T (sbatch --mem), got {text!r}")
        opts.mem = up
    elif flag == "gpus":
        opts.gpus = parse_int(flag, str(text), minimum=0, maximum=64)
    elif flag == "exclusive":
        opts.exclusive = bool(value)
    elif flag == "array-parallelism":
        opts.array_parallelism = parse_int(flag, str(text), minimum=1, maximum=100_000)
    elif flag == "lost-after":
        opts.lost_after_s = parse_float(flag, str(text), minimum=10, maximum=86_400)
    elif flag == "poll":
        opts.poll_s = parse_float(flag, str(text), minimum=0.5, maximum=300)
    elif flag == "runs-per-job":
        opts.runs_per_job = parse_int(flag, str(text), minimum=1, maximum=100_000)
    elif flag in _FIELD_KEYS:
        _set_named(opts, flag, flag, str(text))
    elif flag == "slurm-setup":
        for item in value if isinstance(value, list) else [value]:
            line = str(item).strip()
            if not line:
                raise ConfigError(flag, "an empty line: give a shell command, e.g. 'module load cuda/12'")
            opts.setup.append(line)
    elif flag == "slurm-flag":
        for item in value if isinstance(value, list) else [value]:
            key = _sbatch_key(flag, str(item).strip().lstrip("-"))
            if key in _FIELD_KEYS:
                raise ConfigError(flag, f"{key!r} takes a value: use --{key} NAME")
            if key in (k.replace("_", "-") for k in opts.extra):
                raise ConfigError(flag, f"{key!r} given twice (also --slurm-extra {key}=...)")
            if key not in opts.flags:
                opts.flags.append(key)
    elif flag == "slurm-extra":
        items = value if isinstance(value, list) else [value]
        for item in items:
            key, sep, val = str(item).partition("=")
            key = key.strip().lstrip("-")
            if not sep or not key or not val.strip():
                raise ConfigError(flag, f"KEY=VALUE (an sbatch option without its dashes), got {item!r}")
            if _sbatch_key(flag, key) in _FIELD_KEYS:
                _set_named(opts, flag, _sbatch_key(flag, key), val.strip())
            else:
                opts.extra[key] = val.strip()
    elif flag == "jobs-dir":
        path = Path(str(text)).expanduser()
        if not str(text):
            raise ConfigError(flag, "must name a folder")
        if path.exists() and not path.is_dir():
            raise ConfigError(flag, f"{path} exists and is not a folder")
        opts.jobs_dir = str(path.resolve())
    else:  # pragma: no cover - the table above names every flag
        raise ConfigError(flag, "unknown SLURM option")


def _sbatch_key(flag: str, key: str) -> str:
    """``key`` in dash spelling if it may be passed to sbatch; ``ConfigError`` if not."""
    if not _EXTRA_KEY.match(key):
        raise ConfigError(flag, f"{key!r} is not an sbatch option name (lower case, digits, '-')")
    dashed = key.replace("_", "-")
    if dashed in _OWN_KEYS:
        raise ConfigError(flag, f"{key!r} is set by qtui's own flag; use that flag instead")
    return dashed


def _set_named(opts: SlurmOptions, flag: str, key: str, text: str) -> None:
    """Store an account or QoS name (from its own flag or ``--slurm-extra``)."""
    if not _NAME.match(text):
        what = "" if flag == key else f"{key}: "
        raise ConfigError(flag, f"{what}letters, digits, '_', '-' or '.' only, got {text!r}")
    given = getattr(opts, key)
    if given is not None and given != text:
        raise ConfigError(flag, f"{key} given twice ({given!r} and {text!r})")
    setattr(opts, key, text)
