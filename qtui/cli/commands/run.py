"""``qtui run``: device × diff-method benchmarks, headless.

Every flag is validated before anything starts; bad input gets one line,
``qtui: error: <field>: <what is wrong and what is allowed>``, and exit 2.
Device names are checked against the capability probe; pairs PennyLane
refuses are listed and not run; a custom ``--workload`` is loaded and called
once in a short child before the runs start.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from qtui.cli import repeat_flags
from qtui.cluster import slurm_options
from qtui.cluster.slurm_options import SlurmOptions
from qtui.core.config import (
    DEFAULT_WORKLOAD,
    DIFF_METHODS,
    FIELD_PARSERS,
    ConfigError,
    RunSpec,
    WorkloadParams,
    build_params,
    limit_help,
    parse_devices,
    parse_diff_methods,
    parse_workload_path,
)
from qtui.core.paths import check_output_path
from qtui.engine.pycmd import python_command
from qtui.session.adaptive import AdaptiveRepeats, RepeatPolicy

EXIT_USAGE = 2
WORKLOAD_CHECK_TIMEOUT_S = 300.0

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


def _fail(message: str) -> int:
    print(f"qtui: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def workload_builds(specs: list[RunSpec]) -> list[RunSpec]:
    """One spec per distinct (device, method, parameters) that will run: building each is the check.

    Repeats build the same thing; ``threads`` only sets the child's
    environment before import, so it is not a different build.
    """
    seen: dict[tuple[str, str, WorkloadParams], RunSpec] = {}
    for s in specs:
        seen.setdefault((s.device, s.diff_method, replace(s.params, threads=0)), s)
    return list(seen.values())


def _point(spec: RunSpec) -> str:
    """``default.qubit+adjoint, qubits=4`` (parameters that differ from the forum's)."""
    defaults = WorkloadParams().to_dict()
    diff = [
        f"{k}={v}" for k, v in spec.params.to_dict().items()
        if k not in ("workload", "threads") and v != defaults[k]
    ]
    return ", ".join([spec.combo, *diff])


def check_workload(specs: list[RunSpec]) -> str | None:
    """Build a custom workload in a child for every distinct run; None if all built, else why not.

    The child's answer is a result file with this check's nonce
    (``qtui.engine.workload_check``), never its stdout, so a workload that
    prints a success and exits 0 does not pass.
    """
    from qtui.engine.workload_check import read_result

    builds = workload_builds(specs)
    if not builds:
        return None
    workload = builds[0].params.workload
    with tempfile.TemporaryDirectory(prefix="qtui-check-") as folder:
        result_path = os.path.join(folder, "result.json")
        nonce = secrets.token_hex(16)
        request = {
            "nonce": nonce,
            "result_path": result_path,
            "workload": workload,
            "workload_path": list(builds[0].workload_path),
            "builds": [
                {"device": b.device, "diff_method": b.diff_method, "params": b.params.to_dict()}
                for b in builds
            ],
        }
        try:
            proc = subprocess.run(
                python_command("qtui.engine.workload_check"),
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=WORKLOAD_CHECK_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return f"building {workload!r} took longer than {WORKLOAD_CHECK_TIMEOUT_S:g} s"
        try:
            index, problem = read_result(result_path, nonce, len(builds))
        except ValueError as exc:
            tail = (proc.stderr or "").strip().splitlines()[-1:]
            why = f"; last stderr line: {tail[0]}" if tail else ""
            return f"checking {workload!r} failed: {exc} (exit code {proc.returncode}{why})"
    if index is None:
        return None
    return f"{problem} (building {_point(builds[index])})"


def get_capabilities(refresh: bool = False) -> Any:
    from qtui.session.capabilities import cache_path, load_capabilities

    if refresh or not cache_path().is_file():
        print(
            "qtui: probing the installed PennyLane devices (once; the answer is cached)...",
            file=sys.stderr,
        )
    return load_capabilities(refresh=refresh)


def resolve_combos(
    device_text: str, method_text: str
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The runnable (device, method) pairs and the refused ones, with PennyLane's reasons.

    Raises ``ConfigError`` for an unknown or unusable device, an unknown
    method, or when nothing requested can run; ``ProbeError`` when probing fails.
    """
    methods = parse_diff_methods(method_text)
    caps = get_capabilities()
    return split_combos(usable_devices(caps, device_text), methods, caps.check)


def usable_devices(caps: Any, device_text: str) -> list[str]:
    """The listed devices, checked against the probe: ``ConfigError`` for an unusable one."""
    for name in [d.strip() for d in str(device_text).split(",") if d.strip()]:
        info = caps.devices.get(name)
        if info is not None and not info.usable:
            raise ConfigError("device", f"{name!r} is unavailable here: {info.reason}")
    return parse_devices(device_text, caps.usable_devices())


def split_combos(
    devices: list[str], methods: list[str], check: Any
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """devices × methods split by ``check(d, m)`` (None: runnable, else PennyLane's
    reason); ``ConfigError`` when nothing can run."""
    combos: list[tuple[str, str]] = []
    refused: list[dict[str, Any]] = []
    for d in devices:
        for m in methods:
            reason = check(d, m)
            if reason is None:
                combos.append((d, m))
            else:
                refused.append({"device": d, "diff_method": m, "reason": reason})
    if not combos:
        why = "; ".join(f"{r['device']}+{r['diff_method']}: {r['reason']}" for r in refused)
        raise ConfigError("diff-method", f"no requested combination can run here ({why})")
    return combos, refused


def handle(args: argparse.Namespace) -> int:
    """Validate, then run; see the module docstring."""
    from qtui.session.capabilities import ProbeError

    try:
        parse_devices(args.device, None)  # list errors before the (slow) probe
        parse_diff_methods(args.diff_method)
        values = {name: getattr(args, name) for _, name, _ in WORKLOAD_FLAGS}
        params = build_params(values)
        repeat, policy = repeat_flags.parse(args)
        slurm = slurm_options.parse(args)
        timeout = FIELD_PARSERS["timeout"](args.timeout) if args.timeout is not None else None
        interval = FIELD_PARSERS["interval"](args.interval)
        workload_path = parse_workload_path(args.workload_path)
        check_output_path("json", args.json, args.force)
        check_output_path("events", args.events, args.force)
        if args.json and args.events and Path(args.json).resolve() == Path(args.events).resolve():
            raise ConfigError("events", "must not be the same file as --json")
    except ConfigError as exc:
        return _fail(str(exc))

    try:
        combos, refused = resolve_combos(args.device, args.diff_method)
    except ProbeError as exc:
        print(f"qtui: error: could not probe the PennyLane devices: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        return _fail(str(exc))

    # Repeats are interleaved (A B A B, not A A B B) so slow drift on a shared
    # node spreads over every combination instead of biasing one.
    specs = [
        RunSpec(
            device=d, diff_method=m, params=params, repeat_index=r, timeout_s=timeout,
            workload_path=workload_path,
            allow_foreign_device=getattr(args, "allow_foreign_device", False),
        )
        for r in range(repeat)
        for d, m in combos
    ]
    return start_session(args, specs, combos, refused, params.workload, interval, policy, slurm)


def cluster_executor(slurm: SlurmOptions | None) -> tuple[Any, str | None]:
    """``(SlurmExecutor, session id)`` for ``--executor slurm``; ``(None, None)`` locally."""
    if slurm is None:
        return None, None
    import uuid

    from qtui.cluster.slurm_executor import SlurmExecutor

    return SlurmExecutor(slurm, argv=["qtui", *sys.argv[1:]]), uuid.uuid4().hex[:12]


def start_session(
    args: argparse.Namespace,
    specs: list[RunSpec],
    combos: list[tuple[str, str]],
    refused: list[dict[str, Any]],
    workload: str,
    interval: float,
    policy: RepeatPolicy | None = None,
    slurm: SlurmOptions | None = None,
) -> int:
    """Check a custom workload in a child, then run the specs headless (run and sweep);
    with ``slurm``, as one job array on the cluster (``qtui.cluster``)."""
    if workload != DEFAULT_WORKLOAD:
        problem = check_workload(specs)
        if problem:
            return _fail(f"workload: {problem}")
    return headless_session(args, specs, refused, interval, policy, slurm)


def headless_session(
    args: argparse.Namespace,
    specs: list[RunSpec],
    refused: list[dict[str, Any]],
    interval: float,
    policy: RepeatPolicy | None,
    slurm: SlurmOptions | None,
) -> int:
    """Run checked specs headless with the flags every running command shares (run,
    sweep, exec): ``--events``, ``--json``, ``--force``, ``--repeat auto``, ``--executor``."""
    from qtui.cli.console_session import run_session

    executor, session_id = cluster_executor(slurm)
    return run_session(
        specs,
        refused=refused,
        interval=interval,
        events_path=args.events,
        json_path=args.json,
        force=args.force,
        argv=["qtui", *sys.argv[1:]],
        planner=AdaptiveRepeats(specs, policy) if policy is not None else None,
        executor=executor,
        session_id=session_id,
        isolation=getattr(args, "isolation", None) or "process",
    )
