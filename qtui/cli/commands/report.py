"""``qtui report FILE --format md|html|csv|json [-o OUT] [--force]``: re-render a summary.

FILE is a summary JSON (``qtui run --json``/the TUI's export) or a JSONL event
log (``qtui run --events``), which is folded into a summary first.  Without
``-o`` the text goes to stdout (md, csv, json); HTML, a ~5 MB page, needs
``-o`` (``-o -`` writes any format to stdout; a file named - is ``-o ./-``).
``--format all -o FOLDER`` writes every format into FOLDER.  OUT must be a
regular file or absent: a device, FIFO or folder is refused, --force or not.
A CSV written to a file has each run's samples over time beside it, in
OUT-samples.csv (standard output gets the runs only).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qtui.cli.errors import fail
from qtui.report.export import (
    FORMATS,
    ExportError,
    beside_paths,
    format_for_path,
    render,
    write_all,
)
from qtui.report.export import write_summary as _write
from qtui.store.loading import LoadError, load_summary


def description(doc: str | None) -> str | None:
    """A module docstring, minus its title line and reST quoting, for ``--help``."""
    if not doc:
        return None
    return doc.split("\n\n", 1)[-1].replace("``", "")


def fit_table(
    console: Any,
    title: str,
    headers: list[str],
    rows: list[list[str]],
    align: list[str],
    drop_order: tuple[str, ...] = (),
) -> Any:
    """A rich Table that fits the console: the first column never wraps, and on a
    narrow terminal (80 columns over SSH) the columns named in ``drop_order``
    (header prefixes) go first, rather than every cell folding into slivers.
    Cells are plain text, never markup (``[ms]`` must stay ``[ms]``)."""
    from rich.table import Table
    from rich.text import Text

    keep = list(range(len(headers)))

    def width() -> int:
        return sum(max([len(headers[i])] + [len(r[i]) for r in rows]) + 3 for i in keep) + 1

    for name in drop_order:
        if width() <= console.width:
            break
        keep = [i for i in keep if not headers[i].startswith(name)]
    table = Table(title=Text(title), title_justify="left")
    for i in keep:
        table.add_column(
            Text(headers[i]),
            justify="right" if align[i] == "r" else "left",
            overflow="fold",
            no_wrap=i == 0,
        )
    for row in rows:
        table.add_row(*(Text(row[i]) for i in keep))
    return table


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report",
        help="re-render a saved summary (or event log) as Markdown, HTML, CSV or JSON",
        description=description(__doc__),
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
    p.add_argument(
        "-o", "--output", metavar="OUT",
        help="write to this file (folder for 'all'; - for stdout); its extension (.json, .md, "
        ".csv, .html) gives the format unless -f does",
    )
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=handler)


def extensions() -> str:
    """The file name endings ``-o`` understands: ``.json, .md, .csv, .html``."""
    from qtui.report.export import get_exporter

    return ", ".join(f".{get_exporter(f).extension}" for f in FORMATS)


#: ``-o -``: standard output, as every Unix tool reads it.
STDOUT = "-"


def handler(args: argparse.Namespace) -> int:
    if args.output is not None and not args.output.strip():
        return fail("output: needs a file name (or a folder for -f all)")
    if args.output == STDOUT:
        if args.format == "all":
            return fail("output: -f all writes one file per format: give -o FOLDER, not -")
        return _to_stdout(args.file, args.format or "md")
    if args.output and args.format != "all":
        from qtui.core.paths import output_problem

        _, problem = output_problem(args.output, args.force, hint="use --force to overwrite it")
        if problem:  # a device, FIFO, folder, qtui's own file: before the summary is read
            return fail(problem)
    if args.output and args.format is None and format_for_path(args.output) is None:
        # never guess: Markdown under ``x.weird`` is a file nothing opens correctly
        return fail(
            f"output: cannot tell the format from {args.output!r}; end it in {extensions()}, "
            "or give -f"
        )
    fmt = args.format or (format_for_path(args.output) if args.output else None) or "md"
    try:
        summary = load_summary(args.file)
        if fmt == "all":
            if not args.output:
                return fail("output: --format all needs -o FOLDER")
            written = write_all(summary, args.output, force=args.force)
            for path in written:
                print(f"wrote {path}", file=sys.stderr)
            _header_only(summary, [p for p in written if p.name.endswith("-samples.csv")])
            return 0
        if args.output:
            path = _write(summary, args.output, fmt, force=args.force)
            for written_path in (path, *beside_paths(path, fmt)):
                print(f"wrote {written_path}", file=sys.stderr)
            if fmt == "csv":
                _header_only(summary, beside_paths(path, fmt))
            return 0
        if fmt == "html":
            return fail("output: the HTML report is a single ~5 MB file: give -o OUT.html "
                        "(or -o - for stdout)")
    except (ExportError, LoadError) as exc:
        return fail(str(exc))
    return _to_stdout(args.file, fmt, summary)


def _header_only(summary: Any, samples_files: list[Any]) -> None:
    """Say why a samples file has its header only (``csv_export.samples_note``)."""
    from qtui.report.export.csv_export import samples_note

    note = samples_note(summary)
    for path in samples_files if note else []:
        print(f"qtui: note: {path} has its header only: {note}", file=sys.stderr)


def _to_stdout(file: str, fmt: str, summary: Any = None) -> int:
    """The report as text on stdout (``-o -``, or no ``-o``)."""
    try:
        if summary is None:
            summary = load_summary(file)
        text = render(summary, fmt)
        out: Any = text if isinstance(text, str) else text.decode("utf-8")
    except (ExportError, LoadError) as exc:
        return fail(str(exc))
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `qtui report x.json | head`
        return 0
    return 0
