"""What a ``qtui exec`` run is: the script's command line, checked, and its parameters.

Pure Python, shared by ``qtui exec`` (``qtui.cli.commands.exec``) and the TUI form's
command field, so both say the same thing about a bad command.  The run itself
is ``qtui.engine.script_child``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys

from qtui.core.config import ConfigError, WorkloadParams

_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")


def split_command(text: str) -> list[str]:
    """A command typed as one line (the form's field), split as a shell would."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ConfigError("command", f"cannot be split into words: {exc}") from None


def parse_command(argv: list[str], cwd: str | None = None) -> tuple[str, ...]:
    """``[python] script args`` -> ``(absolute script, *args)``; ``ConfigError`` if unusable.

    The interpreter, when named, must be qtui's own (the script's child is
    started with it so that qtui's hooks are in place); interpreter options
    (``-u``, ``-m``, ``-c``) are refused.
    """
    cwd = cwd or os.getcwd()
    words = list(argv)
    if words and words[0] == "--":
        words = words[1:]
    if not words or not words[0].strip():
        raise ConfigError(
            "command", "give the script to run after --, e.g. qtui exec -- python train.py"
        )
    first = words[0]
    if first.startswith("-"):
        raise ConfigError("command", f"{first}: unknown option for qtui exec, or put -- "
                          "before the script")
    if _PYTHON.fullmatch(os.path.basename(first)):
        found = shutil.which(first)
        if found is None:
            raise ConfigError("command", f"no interpreter {first!r} found")
        if os.path.dirname(os.path.abspath(found)) != os.path.dirname(
            os.path.abspath(sys.executable)
        ) and not os.path.samefile(found, sys.executable):
            raise ConfigError(
                "command",
                f"{first} is {found}, not qtui's interpreter ({sys.executable}); the script "
                f"runs under qtui's: install qtui there, or give the script alone",
            )
        words = words[1:]
        if not words:
            raise ConfigError("command", f"give the script after {first}, e.g. {first} train.py")
        if words[0].startswith("-"):
            raise ConfigError(
                "command", f"interpreter options ({words[0]}) are not supported; give the "
                "script path right after the interpreter",
            )
    script = words[0]
    path = os.path.join(cwd, os.path.expanduser(script))
    if not os.path.exists(path):
        raise ConfigError("command", f"no such script: {script!r}")
    if not os.path.isfile(path):
        raise ConfigError("command", f"{script!r} is not a file")
    if not os.access(path, os.R_OK):
        raise ConfigError("command", f"{script!r} cannot be read")
    if not is_python_script(path):
        raise ConfigError(
            "command", f"{script!r} is not a Python script (it needs a .py name or a python "
            "#! line): qtui exec runs the script under qtui's Python interpreter",
        )
    return (os.path.abspath(path), *words[1:])


def is_python_script(path: str) -> bool:
    """A ``.py`` name, or a first line ``#!`` naming python (``#!/usr/bin/env python3``).

    The script is run by qtui's interpreter whatever it is: a shell script given
    here would be read as Python (``exec -- train.sh``), so anything else is refused.
    """
    if path.lower().endswith(".py"):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(256)
    except OSError:
        return False
    if not first.startswith(b"#!"):
        return False
    words = first[2:].decode("ascii", "replace").split()
    return any(_PYTHON.fullmatch(os.path.basename(word)) for word in words)


def exec_params(command: tuple[str, ...], threads: int = 0) -> WorkloadParams:
    """The parameters of a ``qtui exec`` run: the workload names the script, the
    forum's knobs are zero (the script does not read them)."""
    shown = shlex.join([os.path.relpath(command[0]) if command[0].startswith(os.getcwd())
                        else command[0], *command[1:]])
    return WorkloadParams(
        seed=0, samples=0, noise=0.0, batch_size=0, epochs=0, lr=0.0, qubits=0, layers=0,
        workload=f"exec {shown}", threads=threads,
    )
