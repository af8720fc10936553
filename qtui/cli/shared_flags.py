"""Flags that ``run``, ``sweep`` and ``exec`` share, and their checks.

Kept apart from any one command so each command module holds only its own
``register`` and ``handle``: the workload flags, ``--allow-foreign-device``,
``--workload-path``, the output files (``check_outputs``) and the session
flags parsed the same way everywhere (``parse_session_flags``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtui.cli import repeat_flags
from qtui.cluster import slurm_options
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core.config import FIELD_PARSERS, ConfigError, parse_workload_path
from qtui.core.paths import check_output_path
from qtui.session.adaptive import RepeatPolicy

#: Workload flags: (flag, WorkloadParams field, help).
WORKLOAD_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--seed", "seed", "torch and numpy seed"),
    ("--samples", "samples", "make_moons sample count"),
    ("--noise", "noise", "make_moons noise"),
    ("--batch-size", "batch_size", "batch size (at most --samples)"),
    ("--epochs", "epochs", "training epochs"),
    ("--lr", "lr", "SGD learning rate (a positive number)"),
    ("--qubits", "qubits", "qubits in the circuit (the classical layers widen to match)"),
    ("--layers", "layers", "repeats of the entangling + RY block"),
    ("--threads", "threads", "every thread pool in the child: OpenMP (lightning's too), "
     "MKL/OpenBLAS, torch (0 = library defaults)"),
    ("--workload", "workload", "your own workload, module:function (see README)"),
)


def add_bell_flag(parser: Any) -> None:
    """``--no-bell`` after a command (``qtui run --no-bell``); ``qtui --no-bell`` before
    one sets the same (``SUPPRESS``: the command's default must not undo it)."""
    import argparse

    parser.add_argument(
        "--no-bell", action="store_true", default=argparse.SUPPRESS,
        help="no bell (and no OSC 9 notification) when a session of a minute or more ends",
    )


def add_foreign_device_flag(parser: Any) -> None:
    """``--allow-foreign-device``, shared by ``run`` and ``sweep`` (``qtui.engine.device_truth``)."""
    parser.add_argument(
        "--allow-foreign-device",
        dest="allow_foreign_device",
        action="store_true",
        help="a run whose circuits executed on another device or diff method than its "
        "combination (a workload that builds its own device) is recorded under what ran; "
        "without it, such a run fails with a line naming both",
    )


def add_workload_path_flag(group: Any) -> None:
    """``--workload-path DIR`` (repeatable), shared by ``run`` and ``sweep``."""
    group.add_argument(
        "--workload-path",
        dest="workload_path",
        action="append",
        default=None,
        metavar="DIR",
        help="folder to find the --workload module in, after the installed packages "
        "(repeatable; default: the current directory).  Only that module is imported "
        "from there: children never have the current directory on sys.path, so a stray "
        "sklearn.py or qtui/ beside you is not run",
    )


def check_outputs(args: Any) -> None:
    """``--json`` and ``--events`` can be written as new files, and are not one file
    (the summary would overwrite the log): ``ConfigError`` otherwise."""
    check_output_path("json", args.json, args.force)
    check_output_path("events", args.events, args.force)
    if args.json and args.events and Path(args.json).resolve() == Path(args.events).resolve():
        raise ConfigError("events", "must not be the same file as --json")


@dataclass(frozen=True)
class SessionFlags:
    """What ``run`` and ``sweep`` read alike from their flags."""

    repeat: int
    policy: RepeatPolicy | None  # --repeat auto
    slurm: SlurmOptions | None  # --executor slurm
    timeout: float | None
    interval: float
    workload_path: tuple[str, ...]


def parse_session_flags(args: Any) -> SessionFlags:
    """The flags every session of ``run`` and ``sweep`` has, checked (``ConfigError``),
    with the output files (``check_outputs``)."""
    repeat, policy = repeat_flags.parse(args)
    flags = SessionFlags(
        repeat=repeat,
        policy=policy,
        slurm=slurm_options.parse(args),
        timeout=FIELD_PARSERS["timeout"](args.timeout) if args.timeout is not None else None,
        interval=FIELD_PARSERS["interval"](args.interval),
        workload_path=parse_workload_path(args.workload_path),
    )
    check_outputs(args)
    return flags
