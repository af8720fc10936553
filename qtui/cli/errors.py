"""The one-line error every qtui command prints, and its exit code.

Every command reports bad input the same way: ``qtui: error: <field>: <what
is wrong and what is allowed>`` on stderr, one line (newlines folded), exit 2.
One function so no command can drift from it.
"""

from __future__ import annotations

import sys

EXIT_USAGE = 2


def one_line(text: str) -> str:
    """Newlines folded to spaces, so a message can never break the one-line contract."""
    return " ".join(str(text).split())


def fail(message: str) -> int:
    """Print ``qtui: error: <message>`` (one line) on stderr; return the usage exit code."""
    print(f"qtui: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE
