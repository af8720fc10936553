"""``qtui``: the command line.  No subcommand launches the TUI.

Subcommands live in ``qtui/cli/commands/<name>.py``; each exposes
``register(subparsers)`` and sets ``func`` (``args -> exit code``).  A command
that fails to import does not take the others down, and is never hidden: its
name and the reason are printed on stderr in one line, and invoking it exits 1.

``qtui`` alone (the app, with at most the global flags) is parsed without loading
any subcommand (``tui_args``): their modules bring the report renderers, the SQLite
history and the statistics, none of which the app's first frame shows
(``tests/test_app_lightness.py``).  Any other command line loads them all.

Every parse error, whatever the subcommand, is one line,
``qtui: error: <field>: <what is wrong>``, and exit 2 (``QtuiParser``); the
usage is printed only on request (``--help``).

This process never imports torch or pennylane: training, probing and workload
checks happen in children.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any, NoReturn

from qtui import __version__
from qtui.cli.errors import EXIT_USAGE, one_line

#: Subcommand modules under ``qtui.cli.commands``, in the order ``--help`` lists them.
COMMANDS: list[str] = [
    "run",
    "exec",
    "devices",
    "sweep",
    "report",
    "compare",
    "history",
    "watch",
    "serve",
]

#: Exit code of a command that failed to load (a broken install, not bad input).
EXIT_BROKEN = 1



# --- argparse, made to keep the one-line contract --------------------------------

_ARGUMENT = re.compile(r"^argument (?P<name>[^:]+): (?P<msg>.*)$", re.S)
_CHOICE = re.compile(r"^invalid choice: (?P<value>.+?) \(choose from (?P<choices>.*)\)$", re.S)
_BAD_TYPE = re.compile(r"^invalid (?P<type>\w+) value: (?P<value>.*)$", re.S)
_AMBIGUOUS = re.compile(r"^ambiguous option: (?P<option>\S+) could match (?P<matches>.*)$", re.S)
_REQUIRED = re.compile(r"^the following arguments are required: (?P<names>.*)$", re.S)
_PLAIN = {
    "expected one argument": "needs a value",
    "expected at most one argument": "takes at most one value",
    "expected at least one argument": "needs at least one value",
}


def field_name(argument: str) -> str:
    """``-n/--limit`` -> ``limit``; ``COMMAND`` -> ``command``; ``A.json`` stays."""
    name = argument.split("/")[-1].lstrip("-")
    return name.lower() if name.isupper() else name


def _unquote_list(text: str) -> str:
    return ", ".join(p.strip().strip("'\"") for p in text.split(","))


def _ascii_int(text: str) -> int:
    """``type=int`` in every qtui parser: ASCII digits only (``int("１")`` would take it)."""
    from qtui.core.config import ConfigError, parse_int

    try:
        return parse_int("value", text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.detail) from None


def _finite_float(text: str) -> float:
    """``type=float`` in every qtui parser: ASCII, finite."""
    from qtui.core.config import ConfigError, parse_float

    try:
        return parse_float("value", text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.detail) from None


def _theme(text: str) -> str:
    """``--theme``: a theme's name, refused with the names available (``qtui.ui.themes``)."""
    try:
        from qtui.ui.themes import check_theme
    except ModuleNotFoundError:  # a build without the TUI: there is nothing to check against
        return text
    try:
        return check_theme(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class QtuiParser(argparse.ArgumentParser):
    """An ArgumentParser whose every error is one line, ``qtui: error: <field>: ...``, exit 2.

    ``type=int`` and ``type=float`` are replaced by strict parsers (ASCII
    digits, 64-bit, finite), so a subcommand's plain ``type=int`` gets the
    same checks as the fields in ``qtui.core.config``.  Subparsers are created with
    this class too (``add_subparsers(parser_class=...)``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("type", int, _ascii_int)
        self.register("type", float, _finite_float)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """As argparse's, but a left-over argument names the subcommand it was given to."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras and not getattr(parsed, "broken_command", False):
            self.unexpected(extras, getattr(parsed, "command", None))
        return parsed

    def unexpected(self, extras: list[str], command: str | None) -> NoReturn:
        prog = f"{self.prog} {command}" if command else self.prog
        first = extras[0]
        if first.startswith("-") and len(first) > 1 and not _looks_negative(first):
            flag = first.split("=", 1)[0]
            self.fail(f"{flag}: unknown option for {prog} (`{prog} --help` lists them)")
        self.fail(
            f"{first}: unexpected argument for {prog} (`{prog} --help` says what it takes)"
        )

    def error(self, message: str) -> NoReturn:
        """argparse's error text, reworded as ``<field>: <what is wrong>`` on one line."""
        self.fail(self.reword(message))

    def reword(self, message: str) -> str:
        m = _ARGUMENT.match(message)
        if m:
            name, msg = field_name(m["name"]), m["msg"]
            choice = _CHOICE.match(msg)
            if choice and name == "command":
                return (
                    f"command: unknown command {choice['value']}; "
                    f"commands: {_unquote_list(choice['choices'])}"
                )
            if choice:
                return f"{name}: {choice['value']} is not allowed; allowed: {_unquote_list(choice['choices'])}"
            bad = _BAD_TYPE.match(msg)
            if bad:
                return f"{name}: must be a valid {bad['type']}, got {bad['value']}"
            if msg.startswith("ignored explicit argument "):
                return f"{name}: takes no value, got {msg.removeprefix('ignored explicit argument ')}"
            return f"{name}: {_PLAIN.get(msg, msg)}"
        m = _AMBIGUOUS.match(message)
        if m:
            return f"{m['option']}: ambiguous option for {self.prog}, could match {m['matches']}"
        m = _REQUIRED.match(message)
        if m:
            first = field_name(m["names"].split(",")[0].strip())
            return f"{first}: required (`{self.prog} --help` says what it takes)"
        return message

    def fail(self, message: str) -> NoReturn:
        print(f"qtui: error: {one_line(message)}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _looks_negative(arg: str) -> bool:
    return bool(re.fullmatch(r"-\d[\d.eE+-]*", arg))


# --- loading the subcommands -------------------------------------------------------


def _load_command(name: str) -> tuple[ModuleType | None, str | None]:
    """The command's module, or None and why it could not be loaded (one line)."""
    module_name = f"qtui.cli.commands.{name}"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - boundary: _warn_broken says it; the other commands still load
        return None, one_line(f"{type(exc).__name__}: {exc}")
    if not callable(getattr(module, "register", None)):
        return None, f"{module_name} has no register(subparsers)"
    return module, None


def _warn_broken(name: str, why: str) -> None:
    """Always said, in one line: a broken install must not look like a missing command."""
    print(f"qtui: warning: command {name!r} failed to load: {why}", file=sys.stderr)


def _broken_command(args: argparse.Namespace) -> int:
    """A command that failed to load: the warning already said which and why."""
    return EXIT_BROKEN


class _Isolations:
    """``--isolation``'s choices, read from the executors' registry when argparse first
    looks (a value given, ``--help``): plain ``qtui`` then opens the app without the
    engine's modules (the event schema, msgspec) before its first frame."""

    def _names(self) -> list[str]:
        from qtui.engine.executor import executor_names

        return [n for n in executor_names() if n != "slurm"]  # the form picks SLURM

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _parser_with_global_flags(parser_class: type[QtuiParser] = QtuiParser) -> QtuiParser:
    """The top-level parser and the flags every command line may carry (the app's own)."""
    parser = parser_class(
        prog="qtui",
        description=(
            "Terminal monitor and benchmark bench for hybrid quantum-classical training "
            "(PennyLane + PyTorch).  With no command, opens the TUI.  Bad input: one line, "
            "`qtui: error: <field>: ...`, exit 2."
        ),
    )
    parser.add_argument("--version", action="version", version=f"qtui {__version__}")
    parser.add_argument(
        "--theme", metavar="NAME", type=_theme,
        help="TUI colour theme: a name from themes/ or the user's themes folder, or Textual's own",
    )
    parser.add_argument(
        "--isolation",
        choices=_Isolations(),  # type: ignore[arg-type]  # a container, as argparse uses it
        # argparse lists the choices as the metavar: the app's own parser never prints
        # its usage (help and errors are the full parser's), so it need not list them
        metavar="MODE" if parser_class is _AppOnlyParser else None,
        default="process",
        help="how local runs are started (TUI, run, sweep, exec): process (default: "
        "forked from a warm server, imports paid once), spawn (a fresh interpreter "
        "per run) or, less faithfully, thread (a thread of qtui's own process)",
    )
    parser.add_argument(
        "--no-bell", action="store_true", default=False,
        help="no bell (and no OSC 9 notification) when a session of a minute or more ends "
        "(the app: only while its terminal is not focused)",
    )
    return parser


class _NotTheApp(Exception):
    """Raised by ``_AppOnlyParser`` where the full parser must answer (and word the error)."""


class _AppOnlyParser(QtuiParser):
    """The global flags alone; any error goes to the full parser, which words it."""

    def fail(self, message: str) -> NoReturn:
        raise _NotTheApp(message)


def tui_args(words: Sequence[str]) -> argparse.Namespace | None:
    """``words`` parsed when they open the app (no command, no ``--help``/``--version``),
    without loading a subcommand; None for any other command line, or one in error."""
    if not _only_flag_values(words):
        return None  # a command, help: the full parser decides (and words any error)
    try:
        args, extras = _parser_with_global_flags(_AppOnlyParser).parse_known_args(list(words))
    except _NotTheApp:
        return None
    if extras:
        return None
    args.command = None
    return args


def _only_flag_values(words: Sequence[str]) -> bool:
    """True when every word not starting with ``-`` is the value of the flag before it
    (``--theme nord``, ``--isolation spawn``), and none asks for help or the version."""
    takes_value = ("--theme", "--isolation")
    for i, word in enumerate(words):
        if word in ("-h", "--help", "--version"):
            return False
        if not word.startswith("-") and not (i and words[i - 1] in takes_value):
            return False
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = _parser_with_global_flags()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=QtuiParser)
    for name in COMMANDS:
        module, why = _load_command(name)
        if module is not None:
            module.register(sub)
            continue
        reason = why or "unknown reason"
        _warn_broken(name, reason)
        stub = sub.add_parser(name, help=f"(failed to load: {reason})", add_help=False)
        stub.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        stub.set_defaults(func=_broken_command, broken_command=True)
    return parser


def launch_tui(args: argparse.Namespace) -> int:
    # Until the app's first frame (it turns the collector back on then), no cyclic garbage
    # collection: what starting makes (modules, widgets) lives as long as the app, and the
    # collector walked it 42 times before the first frame, 19-34 ms of the app's start.
    gc.disable()
    try:
        from qtui.ui.app import run_app
    except ModuleNotFoundError as exc:
        gc.enable()
        if exc.name in ("qtui.ui", "qtui.ui.app"):
            print(
                "qtui: the TUI is not available in this build; use `qtui run` for headless runs "
                "(`qtui --help` lists the commands)",
                file=sys.stderr,
            )
            return 1
        raise
    try:
        return int(run_app(args) or 0)
    finally:
        gc.enable()  # an app that stopped before its first frame


def main(argv: list[str] | None = None, *, executor: Any = None) -> int:
    """Parse ``argv`` (``sys.argv[1:]`` when None), run the subcommand, return its exit code.

    ``executor`` is a seam for callers that keep a warm local executor (the test
    suite's shared fork server): ``run``, ``sweep`` and ``exec`` with process
    isolation use it instead of starting their own, and never close it.  ``qtui``
    itself always passes None."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = tui_args(words)  # the app: no subcommand is loaded before its first frame
    if args is None:
        parser = build_parser()
        try:
            args = parser.parse_args(words)
        except SystemExit as exc:  # --help, --version (0) or a parse error (2, already said)
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    args.argv = ["qtui", *words]  # what the summary and a SLURM job record as the command
    args.local_executor = executor
    try:
        if getattr(args, "command", None) is None:
            return launch_tui(args)
        func = getattr(args, "func", None)
        if func is None:
            build_parser().print_help()
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
