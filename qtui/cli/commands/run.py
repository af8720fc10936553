"""``qtui run``: device × diff-method benchmarks, headless.

Every flag is validated before anything starts; bad input gets one line,
``qtui: error: <field>: <what is wrong and what is allowed>``, and exit 2.
Device names are checked against the capability probe; pairs PennyLane
refuses are listed and not run; a custom ``--workload`` is loaded and called
once in a short child before the runs start.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qtui.cli import repeat_flags
from qtui.cli.combos import resolve_combos
from qtui.cli.errors import fail
from qtui.cli.session_start import early_server, start_session
from qtui.cli.shared_flags import (
    WORKLOAD_FLAGS,
    add_bell_flag,
    add_foreign_device_flag,
    add_workload_path_flag,
    parse_session_flags,
)
from qtui.cluster import slurm_options
from qtui.core.config import (
    DIFF_METHODS,
    ConfigError,
    RunSpec,
    WorkloadParams,
    build_params,
    limit_help,
    parse_devices,
    parse_diff_methods,
)


def register(subparsers: Any) -> None:
    defaults = WorkloadParams()
    p = subparsers.add_parser(
        "run",
        help="run device × diff-method benchmarks headless",
        description=(
            "Run the cross product of --device and --diff-method (each --repeat times, "
            "one run at a time, each in its own process), show live progress, and end "
            "with a hyperfine-style table.  Exit 0 when every run finished."
        ),
    )
    p.add_argument(
        "--device", default="default.qubit", help="comma list of PennyLane devices (`qtui devices`)"
    )
    p.add_argument(
        "--diff-method",
        default="backprop",
        help=f"comma list of diff methods: {', '.join(DIFF_METHODS)}",
    )
    repeat_flags.add_flags(p, "combination")
    slurm_options.add_flags(p)
    add_bell_flag(p)
    p.add_argument(
        "--timeout",
        default=None,
        metavar="SECONDS",
        help="per run, from process start (imports included); a run past it is stopped",
    )
    p.add_argument(
        "--interval", default="0.1", metavar="SECONDS", help="sampling interval (default 0.1)"
    )
    p.add_argument("--events", metavar="FILE", help="write every event to FILE as JSON lines")
    p.add_argument("--json", metavar="FILE", help="write the summary JSON to FILE")
    p.add_argument("--force", action="store_true", help="overwrite existing --json/--events files")
    g = p.add_argument_group("workload (defaults: the forum's)")
    for flag, field_name, text in WORKLOAD_FLAGS:
        g.add_argument(
            flag,
            dest=field_name,
            default=None,
            metavar=field_name.upper().replace("_", "-") if field_name != "workload" else "MOD:FUNC",
            help=f"{text}{limit_help(field_name)} (default {getattr(defaults, field_name)})",
        )
    add_workload_path_flag(g)
    add_foreign_device_flag(p)
    p.set_defaults(func=handle)


def check(args: argparse.Namespace) -> tuple[WorkloadParams, Any]:
    """Every check that needs no device probe (``ConfigError``); ``qtui serve`` runs it on
    the command it serves before its server starts."""
    parse_devices(args.device, None)  # list errors before the (slow) probe
    parse_diff_methods(args.diff_method)
    values = {name: getattr(args, name) for _, name, _ in WORKLOAD_FLAGS}
    params = build_params(values)
    return params, parse_session_flags(args)


def handle(args: argparse.Namespace) -> int:
    """Validate, then run; see the module docstring."""
    try:
        params, flags = check(args)
    except ConfigError as exc:
        return fail(str(exc))
    with early_server(args, flags.slurm):  # its imports overlap the probe and the checks
        return _start(args, params, flags)


def _start(args: argparse.Namespace, params: WorkloadParams, flags: Any) -> int:
    """The checks that need the probe, then the session (``handle``'s second half)."""
    from qtui.session.capabilities import ProbeError

    try:
        combos, refused = resolve_combos(args.device, args.diff_method)
    except ProbeError as exc:
        print(f"qtui: error: could not probe the PennyLane devices: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        return fail(str(exc))

    # Repeats are interleaved (A B A B, not A A B B) so slow drift on a shared
    # node spreads over every combination instead of biasing one.
    specs = [
        RunSpec(
            device=d, diff_method=m, params=params, repeat_index=r, timeout_s=flags.timeout,
            workload_path=flags.workload_path,
            allow_foreign_device=getattr(args, "allow_foreign_device", False),
        )
        for r in range(flags.repeat)
        for d, m in combos
    ]
    return start_session(
        args, specs, combos, refused, params.workload, flags.interval, flags.policy, flags.slurm
    )


