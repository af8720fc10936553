"""The one-line error every qtui command prints, and its exit code.

Every command reports bad input the same way: ``qtui: error: <field>: <what
is wrong and what is allowed>`` on stderr, one line, exit 2.  A value echoed in it
can come from anywhere (a file name, a workload's exception), so the line is
``qtui.core.safe_text.one_line``: newlines and control characters as ``\\n``,
``\\x1b``, never raw.
One function so no command can drift from it.
"""

from __future__ import annotations

import sys

from qtui.core import safe_text

EXIT_USAGE = 2


def one_line(text: str) -> str:
    """Newlines and control characters escaped (``\\n``), so a message can never break the
    one-line contract nor reach the terminal as a control sequence."""
    return safe_text.one_line(str(text).strip())


def fail(message: str) -> int:
    """Print ``qtui: error: <message>`` (one line) on stderr; return the usage exit code."""
    print(f"qtui: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE
