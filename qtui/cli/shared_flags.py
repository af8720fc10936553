"""Flags that ``run`` and ``sweep`` share.

Kept apart from any one command so each command module holds only its own
``register`` and ``handle``: the workload flags, ``--allow-foreign-device`` and
``--workload-path``.
"""

from __future__ import annotations

from typing import Any

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
    ("--threads", "threads", "OMP/torch threads in the child (0 = library defaults)"),
    ("--workload", "workload", "your own workload, module:function (see README)"),
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


