"""``qtui report FILE --format md|html|csv|json [-o OUT] [--force]``: re-render a summary.

FILE is a summary JSON (``qtui run --json``/the TUI's export) or a JSONL event
log (``qtui run --events``), which is folded into a summary first.  Without
``-o`` the text goes to stdout (md, csv, json); HTML, a ~5 MB page, needs
``-o``.  ``--format all -o FOLDER`` writes every format into FOLDER.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qtui.export import FORMATS, ExportError, format_for_path, load_summary, render, write_all
from qtui.export import write_summary as _write


def fail(message: str) -> int:
    """The one-line error every qtui command prints; exit code 2."""
    print(f"qtui: error: {message}", file=sys.stderr)
    return 2


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report",
        help="re-render a saved summary (or event log) as Markdown, HTML, CSV or JSON",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="summary .json or event log .jsonl")
    p.add_argument(
        "-f",
        "--format",
        choices=[*FORMATS, "markdown", "all"],
        default=None,
        help="output format (default: from -o's extension, else md)",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="write to this file (folder for 'all')")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    fmt = args.format or (format_for_path(args.output) if args.output else None) or "md"
    try:
        summary = load_summary(args.file)
        if fmt == "all":
            if not args.output:
                return fail("--format all needs -o FOLDER")
            for path in write_all(summary, args.output, force=args.force):
                print(f"wrote {path}", file=sys.stderr)
            return 0
        if args.output:
            path = _write(summary, args.output, fmt, force=args.force)
            print(f"wrote {path}", file=sys.stderr)
            return 0
        if fmt == "html":
            return fail("the HTML report is a single ~5 MB file: give -o OUT.html")
        text = render(summary, fmt)
        out: Any = text if isinstance(text, str) else text.decode("utf-8")
    except ExportError as exc:
        return fail(str(exc))
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `qtui report x.json | head`
        return 0
    return 0
