"""``qtui``: the command line.  No subcommand launches the TUI.

Subcommands live in ``qtui/commands/<name>.py``; each exposes
``register(subparsers)`` and sets ``func`` (``args -> exit code``).  Modules
listed in ``COMMANDS`` that are not there (yet) are skipped, so one missing or
broken command never takes the others down.

This process never imports torch or pennylane: training, probing and workload
checks happen in children.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from types import ModuleType

from qtui import __version__

#: Subcommand modules under ``qtui.commands``, in the order ``--help`` lists them.
COMMANDS: list[str] = [
    "run",
    "devices",
    "sweep",
    "report",
    "compare",
    "history",
    "watch",
    "serve",
]

EXIT_USAGE = 2


def error(message: str) -> int:
    """Print ``qtui: error: <message>`` (one line) and return the usage exit code."""
    print(f"qtui: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _load_command(name: str) -> ModuleType | None:
    module_name = f"qtui.commands.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None  # not written yet
        _warn_broken(name, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - a broken command must not break the rest
        _warn_broken(name, exc)
        return None
    return module if callable(getattr(module, "register", None)) else None


def _warn_broken(name: str, exc: BaseException) -> None:
    if os.environ.get("QTUI_DEBUG"):
        print(
            f"qtui: warning: command {name!r} is unavailable: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )


def build_parser() -> argparse.ArgumentParser:
    from qtui.engine.executor import executor_names

    parser = argparse.ArgumentParser(
        prog="qtui",
        description=(
            "Terminal monitor and benchmark bench for hybrid quantum-classical training "
            "(PennyLane + PyTorch).  With no command, opens the TUI."
        ),
    )
    parser.add_argument("--version", action="version", version=f"qtui {__version__}")
    parser.add_argument("--theme", metavar="NAME", help="TUI colour theme (see themes/)")
    parser.add_argument(
        "--isolation",
        choices=tuple(executor_names()),
        default="process",
        help="TUI only: train each run in its own process (default) or, less "
        "faithfully, in a thread of the UI process",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _load_command(name)
        if module is not None:
            module.register(sub)
    return parser


def launch_tui(args: argparse.Namespace) -> int:
    try:
        from qtui.ui.app import run_app
    except ModuleNotFoundError as exc:
        if exc.name in ("qtui.ui", "qtui.ui.app"):
            print(
                "qtui: the TUI is not available in this build; use `qtui run` for headless runs "
                "(`qtui --help` lists the commands)",
                file=sys.stderr,
            )
            return 1
        raise
    return int(run_app(args) or 0)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "command", None) is None:
            return launch_tui(args)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return EXIT_USAGE
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("qtui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `qtui devices | head`: the reader went away; exit quietly.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
        return 1


if __name__ == "__main__":
    sys.exit(main())
