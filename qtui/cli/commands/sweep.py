"""``qtui sweep``: time and cost per training step as circuits, batches or thread pools grow.

Every point of --device × --diff-method × --qubits × --layers × --batch-size
× --threads runs in its own child: --warmup unmeasured steps, then
--steps measured ones.  --threads sets OMP_NUM_THREADS (and MKL/
OpenBLAS) and torch's thread count in the child before anything is imported;
--threads auto gives every run's pools the CPUs free at its start.
The end of the output is a table per swept axis (wall time and core-seconds
per step), the crossovers named in words, and the recommendation.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from typing import Any

from qtui.cli import repeat_flags
from qtui.cli.shared_flags import add_bell_flag
from qtui.cluster import slurm_options
from qtui.core.config import (
    DIFF_METHODS,
    FIELD_PARSERS,
    MAX_RUNS,
    ConfigError,
    WorkloadParams,
    limit_help,
    parse_devices,
    parse_diff_methods,
    parse_float,
    parse_list,
)
from qtui.core.sweep import (
    AXES,
    DEFAULT_STEPS,
    DEFAULT_WARMUP,
    OPEN_END,
    base_params,
    expand,
    parse_axis,
    parse_steps,
)

#: The single-valued workload flags, as ``qtui run`` defines them; the swept ones take lists.
_SINGLE = ("seed", "samples", "noise", "lr", "workload")


def _single_flags() -> list[tuple[str, str, str]]:
    from qtui.cli.shared_flags import WORKLOAD_FLAGS

    return [f for f in WORKLOAD_FLAGS if f[1] in _SINGLE]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="measure time and core-seconds per step across qubits, layers, batch sizes, threads",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("--device", default="default.qubit,lightning.qubit", help="comma list of devices (default default.qubit,lightning.qubit)")
    p.add_argument(
        "--diff-method",
        default="backprop,adjoint",
        help="comma list of diff methods (default backprop,adjoint)",
    )
    p.add_argument(
        "--combos",
        default=None,
        metavar="LIST",
        help="device+method pairs instead of the cross product, "
        "e.g. default.qubit+backprop,lightning.qubit+adjoint",
    )
    p.add_argument(
        "--qubits", default="2,4,8", metavar="LIST",
        help=f"qubit counts{limit_help('qubits')}, or 2.. : from 2 up, every other "
        "qubit, until --max-memory or --max-step-time stops it (default 2,4,8)",
    )
    p.add_argument("--layers", default=None, metavar="LIST", help="layer counts (default 1)")
    p.add_argument("--batch-size", default=None, metavar="LIST", help="batch sizes (default 5)")
    p.add_argument(
        "--threads", default=None, metavar="LIST",
        help=f"OMP/torch threads per child, a list or auto alone{limit_help('threads')} "
        "(default: library's)",
    )
    p.add_argument(
        "--predict", default=None, metavar="LIST",
        help="qubit counts to predict time, core-seconds and peak memory at, from the "
        "measured ones (a cost model per combination; needs 3 or more --qubits)",
    )
    p.add_argument(
        "--max-memory", default=None, metavar="SIZE",
        help="skip a point whose predicted peak memory exceeds SIZE (500M, 16G; 0: no "
        "limit; default 80%% of the memory a run may use here)",
    )
    p.add_argument(
        "--max-step-time", default=None, metavar="SECONDS",
        help="skip a point whose predicted time per step exceeds SECONDS (default: no limit)",
    )
    p.add_argument("--steps", default=str(DEFAULT_STEPS), metavar="N", help=f"measured steps per point (default {DEFAULT_STEPS})")
    p.add_argument("--warmup", default=str(DEFAULT_WARMUP), metavar="N", help=f"unmeasured warm-up steps before them (default {DEFAULT_WARMUP})")
    repeat_flags.add_flags(p, "point")
    slurm_options.add_flags(p)
    add_bell_flag(p)
    p.add_argument("--timeout", default=None, metavar="SECONDS", help="per run, from process start; a run past it is stopped")
    p.add_argument("--interval", default="0.1", metavar="SECONDS", help="sampling interval (default 0.1)")
    p.add_argument("--events", metavar="FILE", help="write every event to FILE as JSON lines")
    p.add_argument("--json", metavar="FILE", help="write the summary JSON to FILE")
    p.add_argument("--force", action="store_true", help="overwrite existing --json/--events files")
    for flag, name, text in _single_flags():
        p.add_argument(
            flag, dest=name, default=None,
            help=f"{text}{limit_help(name)} (default {getattr(WorkloadParams(), name)})",
        )
    from qtui.cli.shared_flags import add_foreign_device_flag, add_workload_path_flag

    add_workload_path_flag(p)
    add_foreign_device_flag(p)
    p.set_defaults(func=handle)


def parse_combos(text: str) -> list[tuple[str, str]]:
    """``"default.qubit+backprop,lightning.qubit+adjoint"`` -> pairs.

    Empty (``--combos ""``), an empty item or a pair given twice is refused,
    as for every list flag (``qtui.core.config.parse_list``); methods are checked
    here, devices against the probe later.
    """
    pairs = []
    for item in parse_list("combos", text):
        device, plus, method = item.rpartition("+")
        if not plus or not device.strip() or not method.strip():
            raise ConfigError("combos", f"each item must be device+method, got {item!r}")
        device, method = device.strip(), method.strip()
        if method not in DIFF_METHODS:
            raise ConfigError(
                "combos", f"unknown method {method!r} in {item!r}; allowed: {', '.join(DIFF_METHODS)}"
            )
        if (device, method) in pairs:
            raise ConfigError("combos", f"{device}+{method} is listed twice; give each pair once")
        pairs.append((device, method))
    return pairs


def parse_predict(text: str, qubits: list[int] | None) -> list[int]:
    """``--predict 16,18,20``: whole qubit counts from 1 to 64, and 3 or more measured
    ``--qubits`` to fit a model on (a model needs 3 sizes)."""
    sizes = []
    for item in parse_list("predict", text):
        item = item.strip()
        if not (item.isascii() and item.isdigit()) or not 1 <= int(item) <= 64:
            raise ConfigError("predict", f"each size must be a whole number of qubits from 1 to 64, got {item!r}")
        sizes.append(int(item))
    if not qubits or len(set(qubits)) < 3:
        raise ConfigError(
            "predict", "needs 3 or more measured sizes to fit a model on: give --qubits with 3 or more values"
        )
    return sizes


_UNITS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_memory(text: str) -> float:
    """``--max-memory``: ``500M``, ``16G``, ``1.5T`` (binary units, as sbatch's --mem) or 0."""
    s = text.strip().upper().removesuffix("B").removesuffix("I")
    if s == "0":
        return 0.0
    unit = _UNITS.get(s[-1:]) if s else None
    if unit is None:
        raise ConfigError("max-memory", f"a size like 500M, 16G or 1T, or 0 for no limit; got {text!r}")
    return parse_float("max-memory", s[:-1], positive=True) * unit


def parse_limits(max_memory: str | None, max_step_time: str | None) -> Any:
    """The sweep's limits (``qtui.session.size_limits``)."""
    from qtui.session.size_limits import limits_from

    memory = parse_memory(max_memory) if max_memory is not None else None
    step = parse_float("max-step-time", max_step_time, positive=True) if max_step_time is not None else None
    return limits_from(memory, step)


def check(args: argparse.Namespace) -> tuple[Any, dict[str, list[int]], Any, Any]:
    """Every check that needs no device probe (``ConfigError``): the pairs, the axes, the
    base parameters and the session flags; ``qtui serve`` runs it on the command it serves."""
    from qtui.cli.shared_flags import parse_session_flags

    # list syntax before the (slow) probe: --combos "" is an error, not the default sweep
    pairs = parse_combos(args.combos) if args.combos is not None else None
    if pairs is None:
        parse_devices(args.device, None)
        parse_diff_methods(args.diff_method)
    axes: dict[str, list[int]] = {}
    for name in AXES:
        text = getattr(args, name)
        if text is not None:
            axes[name] = parse_axis(name, text)
    args.predict_sizes = parse_predict(args.predict, axes.get("qubits")) if args.predict else None
    args.size_limits = parse_limits(args.max_memory, args.max_step_time)
    flags = parse_session_flags(args)
    if str(args.qubits or "").strip().endswith(OPEN_END):
        limits = args.size_limits
        if not (limits.max_memory or limits.max_step_time):
            raise ConfigError("qubits", "an open-ended range (2..) grows until a limit stops it: "
                              "keep --max-memory on, or give --max-step-time")
        if flags.slurm is not None or flags.repeat != 1 or flags.policy is not None:
            raise ConfigError("qubits", "an open-ended range (2..) runs locally, one run per "
                              "size: not with --executor slurm or --repeat")
    steps = parse_steps(args.steps)
    warmup = FIELD_PARSERS["warmup"](args.warmup)
    values: dict[str, Any] = {name: getattr(args, name) for _, name, _ in _single_flags()}
    base = base_params(values, axes, steps, warmup)
    return pairs, axes, base, flags


def handle(args: argparse.Namespace) -> int:
    from qtui.cli.errors import fail
    from qtui.cli.session_start import early_server

    try:
        pairs, axes, base, flags = check(args)
    except ConfigError as exc:
        return fail(str(exc))
    with early_server(args, flags.slurm):  # its imports overlap the probe and the checks
        return _start(args, pairs, axes, base, flags)


def _start(args: argparse.Namespace, pairs: Any, axes: dict[str, list[int]], base: Any, flags: Any) -> int:
    """The checks that need the probe, then the session (``handle``'s second half)."""
    from qtui.cli.combos import resolve_combos
    from qtui.cli.errors import fail
    from qtui.cli.session_start import start_session
    from qtui.session.capabilities import ProbeError

    try:
        if pairs is not None:
            combos, refused = [], []
            for device, method in pairs:
                ok, no = resolve_combos(device, method)
                combos += ok
                refused += no
        else:
            combos, refused = resolve_combos(args.device, args.diff_method)
        points = math.prod(len(v) for v in axes.values())
        planned = points * len(combos) * flags.repeat
        if planned > MAX_RUNS:
            raise ConfigError(
                "sweep",
                f"{planned} runs planned ({len(combos)} combinations x {points} points x "
                f"{flags.repeat} repeats); at most {MAX_RUNS}: give fewer values or repeats",
            )
        devices = list(dict.fromkeys(d for d, _ in combos))
        methods = list(dict.fromkeys(m for _, m in combos))
        specs = [
            dataclasses.replace(
                s, workload_path=flags.workload_path,
                allow_foreign_device=getattr(args, "allow_foreign_device", False),
            )
            for s in expand(
                devices, methods, axes, base, repeat=flags.repeat, timeout_s=flags.timeout
            )
            if (s.device, s.diff_method) in combos
        ]
    except ConfigError as exc:
        return fail(str(exc))
    except ProbeError as exc:
        print(f"qtui: error: could not probe the PennyLane devices: {exc}", file=sys.stderr)
        return 1

    return start_session(
        args, specs, combos, refused, base.workload, flags.interval, flags.policy, flags.slurm
    )
