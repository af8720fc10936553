"""Text from a run, a file or a script, made safe to show: the one sanitiser.

A warning, an exception, a stderr tail, a label or a path can carry terminal
control sequences (``ESC]0;title BEL`` retitles the window, ``ESC[2J`` clears
the screen, a carriage return lets a line overwrite itself).  Every view that
shows such text (the CLI, the TUI, Markdown, HTML, CSV) passes it through
``visible`` (or ``one_line`` where the text must stay on one line) at the
point where it is rendered.

The escapes are Python's ``repr`` spelling (``\\x1b``, ``\\r``), not symbols such as
``␛``: they are ASCII, they say exactly which byte it was, they read the same in
every font and format, and they are what ``one_line`` already writes for a
newline.  A backslash is left as it is (a Windows path, a regex in a message
reads as written), so ``\\x1b`` shown could have been typed; the data itself
keeps the raw text: the JSON summary stores it, escaped by JSON (``json_text``).

What is escaped: C0 controls (U+0000–U+001F) except newline and tab, which are
layout; DEL (U+007F); C1 controls (U+0080–U+009F, U+009B is a one-character
CSI to some terminals).  A ``\\r\\n`` line end is read as ``\\n``.
"""

from __future__ import annotations

import re
from typing import Any

_LAYOUT = {"\n", "\t"}
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape(code: int) -> str:
    char = chr(code)
    return _NAMED.get(char, f"\\x{code:02x}")


_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
#: str.translate tables: the text shown where newlines are layout, and on one line.
_VISIBLE = {c: _escape(c) for c in _CONTROLS if chr(c) not in _LAYOUT}
_ONE_LINE = {c: _escape(c) for c in _CONTROLS}
#: JSON escapes U+0000–U+001F itself; these it leaves raw.
_JSON_RAW = re.compile("[\x7f-\x9f]")
#: What ``visible`` would change.
_VISIBLE_SEARCH = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Any control character, newline and tab included: what a one-line field may not hold.
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def visible(text: object) -> str:
    """``text`` with every control character but newline and tab written as its escape."""
    return str(text).replace("\r\n", "\n").translate(_VISIBLE)


def one_line(text: object) -> str:
    """``text`` on one line: newlines and tabs escaped too (``\\n``), trailing line ends dropped."""
    return str(text).replace("\r\n", "\n").rstrip("\n").translate(_ONE_LINE)


def json_text(encoded: str) -> str:
    """JSON text with DEL and the C1 controls written as ``\\u00XX`` escapes: still the
    same data once parsed, but nothing in the file a terminal would act on."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def control_in(text: str) -> str | None:
    """Why ``text`` cannot go into a one-line field (an ``#SBATCH`` line, a name): the
    first control character it holds, escaped, and where; None when it holds none."""
    found = _ANY_CONTROL.search(text)
    if found is None:
        return None
    return f"holds a control character ({_escape(ord(found.group()))} at character {found.start() + 1})"


def visible_rich(text: Any) -> Any:
    """A ``rich.text.Text`` with ``visible`` applied to its characters, styles kept: for
    a view that builds one Text from many pieces (the TUI's run detail, the warning's)."""
    from rich.text import Span, Text

    if not isinstance(text, Text):
        return visible(text)
    if _VISIBLE_SEARCH.search(text.plain) is None:
        return text
    edges = sorted({e for s in text.spans for e in (s.start, s.end)} - {0, len(text.plain)})
    out = text.blank_copy()  # the Text's own style, justify, overflow...
    for piece in text.divide(edges):
        plain = visible(piece.plain)
        out.append_text(Text(plain, spans=[Span(0, len(plain), s.style) for s in piece.spans]))
    return out
