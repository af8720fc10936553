"""``qtui exec [flags] -- python train.py [args]``: an unmodified script as monitored runs.

The script runs in the run's own child (``qtui.engine.script_child``) under
qtui's interpreter, with the same supervisor, sampler, progress, table,
``--json``, ``--events`` and history as ``qtui run``.  ``--device`` and
``--diff-method`` (comma lists) replace what the script asks ``qml.device`` and
its QNodes for: one run per combination, each ``--repeat`` times.  Without them
the run is recorded under the device and method that ran.

``--executor slurm`` (and the SLURM flags of ``qtui run``) runs each as a job
on the cluster: the script and the working directory must then be on storage
the compute nodes share.

Every flag is checked before anything starts: one line, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from qtui.cli import repeat_flags
from qtui.cli.combos import split_combos, usable_devices
from qtui.cli.errors import fail
from qtui.cli.shared_flags import add_bell_flag, check_outputs
from qtui.cluster import slurm_options
from qtui.core.config import (
    DIFF_METHODS,
    FIELD_PARSERS,
    SCRIPT_CHOICE,
    ConfigError,
    RunSpec,
    limit_help,
    parse_devices,
    parse_diff_methods,
)
from qtui.session.exec_spec import exec_params, parse_command


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "exec",
        help="run an unmodified training script as monitored runs",
        description=(
            "Run `python train.py [args]` as a monitored run: CPU, memory, threads, "
            "warnings, the devices that executed circuits, and the loss (every "
            ".backward() on a one-element tensor).  --device/--diff-method replace what "
            "the script asks for (comma lists: one run per combination).  Exit 0 when "
            "every run finished (the script exited 0)."
        ),
        usage="qtui exec [flags] -- [python] SCRIPT [ARGS...]",
    )
    p.add_argument(
        "--device", default=None,
        help="comma list of PennyLane devices replacing the script's qml.device name "
        "(default: the script's own)",
    )
    p.add_argument(
        "--diff-method", default=None,
        help=f"comma list replacing every QNode's diff_method: {', '.join(DIFF_METHODS)} "
        "(default: the script's own)",
    )
    repeat_flags.add_flags(p, "combination")
    slurm_options.add_flags(p)
    add_bell_flag(p)
    p.add_argument("--timeout", default=None, metavar="SECONDS",
                   help="per run, from process start; a run past it is stopped")
    p.add_argument("--interval", default="0.1", metavar="SECONDS",
                   help="sampling interval (default 0.1)")
    p.add_argument("--threads", default=None, metavar="THREADS",
                   help=f"OMP/torch threads in the child{limit_help('threads')} (default: "
                   "the libraries' own)")
    p.add_argument("--no-loss-capture", dest="loss_capture", action="store_false",
                   help="do not record .backward() calls as loss points (qtui.log(loss=...) "
                   "still does)")
    p.add_argument("--allow-foreign-device", action="store_true",
                   help="a run whose circuits executed elsewhere than --device/--diff-method "
                   "(a device built without qml.device) is recorded under what ran instead "
                   "of failing")
    p.add_argument("--quiet", dest="show_output", action="store_false",
                   help="do not print the script's own stdout and stderr (their last lines "
                   "are still kept in the run record)")
    p.add_argument("--events", metavar="FILE", help="write every event to FILE as JSON lines")
    p.add_argument("--json", metavar="FILE", help="write the summary JSON to FILE")
    p.add_argument("--force", action="store_true",
                   help="overwrite existing --json/--events files")
    p.add_argument("script_argv", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=handle)



def _known_devices() -> Any:
    from qtui.cli.combos import get_capabilities

    return get_capabilities()


def build_specs(
    args: argparse.Namespace, caps: Any = None
) -> tuple[list[RunSpec], list[dict[str, Any]], Any]:
    """The runs ``args`` ask for (device × method × repeat), the refused pairs, the policy."""
    if args.device is not None:
        parse_devices(args.device, None)  # list errors before the (slow) probe
    methods = [SCRIPT_CHOICE] if args.diff_method is None else parse_diff_methods(args.diff_method)
    repeat, policy = repeat_flags.parse(args)
    timeout = FIELD_PARSERS["timeout"](args.timeout) if args.timeout is not None else None
    threads = FIELD_PARSERS["threads"](args.threads) if args.threads is not None else 0
    check_outputs(args)
    command = parse_command(args.script_argv)
    devices = [SCRIPT_CHOICE]
    if args.device is not None:
        caps = caps if caps is not None else _known_devices()
        devices = usable_devices(caps, args.device)

    def check(d: str, m: str) -> str | None:
        return caps.check(d, m) if SCRIPT_CHOICE not in (d, m) else None

    combos, refused = split_combos(devices, methods, check)
    params = exec_params(command, threads)
    specs = [
        RunSpec(
            device=d, diff_method=m, params=params, repeat_index=r, timeout_s=timeout,
            allow_foreign_device=args.allow_foreign_device, command=command,
            cwd=os.getcwd(), loss_capture=args.loss_capture, show_output=args.show_output,
        )
        for r in range(repeat)
        for d, m in combos
    ]
    return specs, refused, policy


def check(args: argparse.Namespace) -> None:
    """The script's command line (a Python script that exists, ``ConfigError`` otherwise);
    ``qtui serve`` runs it on the command it serves before its server starts."""
    parse_command(args.script_argv)


def handle(args: argparse.Namespace) -> int:
    from qtui.session.capabilities import ProbeError

    try:
        if getattr(args, "isolation", None) == "thread":
            # Its hooks (fds 1 and 2, torch, qml.device) would be qtui's own.
            raise ConfigError("isolation", "a `qtui exec` script runs in its own process only; "
                              "use --isolation process (the default) or spawn, not thread")
        interval = FIELD_PARSERS["interval"](args.interval)
        slurm = slurm_options.parse(args)
        specs, refused, policy = build_specs(args)
    except ConfigError as exc:
        return fail(str(exc))
    except ProbeError as exc:
        print(f"qtui: error: could not probe the PennyLane devices: {exc}", file=sys.stderr)
        return 1
    from qtui.cli.session_start import headless_session

    return headless_session(args, specs, refused, interval, policy, slurm)
