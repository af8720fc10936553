"""``qtui compare A.json B.json``: what changed between two sessions, per combination.

The matching and verdict rules live in ``qtui.analysis.comparison`` (shared with the
TUI's history screen); ``--help`` shows them from there.  ``--html FILE`` also writes
the comparison as a page: both sessions' loss curves in one chart (the curves the
app's comparison screen draws) and the verdicts.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from qtui.analysis.comparison import (
    DEFAULT_THRESHOLD,
    Comparison,
    compare,
    loss_overlay,
    row_texts,
    rule_text,
    same_session,
)
from qtui.cli.commands.report import description
from qtui.cli.errors import fail
from qtui.core.safe_text import one_line, visible
from qtui.store.loading import LoadError, load_summary


def print_comparison(result: Comparison, a_name: str, b_name: str) -> None:
    """One block per combination: readable at 80 columns and pasteable as text."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    console.print(Text(visible(f"A = {a_name}\nB = {b_name}"), style="bold"))
    styles = {"faster": "green", "slower": "red", "less memory": "green", "more memory": "red"}
    for row in result.combinations:
        console.print()
        console.print(Text(visible(row.combination), style="bold"))  # names from the files
        t = row_texts(row)
        line = Text("  time    ")
        line.append(f"{t['time_a']} → {t['time_b']}  {t['time_change']}  ")
        line.append(t["speed"], style=styles.get(row.speed, ""))  # with its method
        console.print(line)
        mem = Text(f"  memory  {t['memory_a']} → {t['memory_b']}  {t['memory_change']}  ")
        mem.append(row.memory, style=styles.get(row.memory, ""))
        console.print(mem)
        if row.core_s_change is not None:
            console.print(Text(f"  core-s  {t['core_s_change']}"))
    for label, items in (("only in A", result.only_in_a), ("only in B", result.only_in_b)):
        if items:
            console.print()
            console.print(Text(visible(f"{label}: {', '.join(items)}")))
    console.print()
    console.print(Text(f"{rule_text(result.threshold)}; see qtui compare --help", style="dim"))


def comparison_doc() -> str | None:
    import qtui.analysis.comparison

    return qtui.analysis.comparison.__doc__


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare two summaries per combination: faster, slower, tie, unstable or too few runs",
        description=description(comparison_doc()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("a", metavar="A.json", help="the baseline summary (or event log)")
    p.add_argument("b", metavar="B.json", help="the new summary (or event log)")
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="FRACTION",
        help="peak memory with one run on each side: the relative change that counts (default 0.10)",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument(
        "--fail-on-slower",
        action="store_true",
        help="exit 1 when any combination is significantly slower (for CI)",
    )
    p.add_argument(
        "--html", metavar="FILE",
        help="also write the comparison as an HTML page: both sessions' loss curves in one chart, "
        "and the verdicts",
    )
    p.add_argument("--force", action="store_true", help="overwrite the --html FILE if it exists")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    if not (0 < args.threshold < 10):
        return fail(
            f"threshold: must be a fraction such as 0.1 (above 0, below 10), got {args.threshold:g}"
        )
    try:
        a, b = load_summary(args.a), load_summary(args.b)
    except LoadError as exc:
        return fail(str(exc))
    if args.force and not args.html:
        return fail("force: overwrites the --html FILE; give it with --html")
    result = compare(a, b, args.threshold)
    same = same_session(a, b)
    if same:  # said, not refused: a first CI baseline is its own B
        print(one_line(f"qtui: note: {same}: it is compared with itself"), file=sys.stderr)
    if args.html:
        from qtui.report.export import ExportError
        from qtui.report.export.comparison_html import write_comparison_html

        overlay = loss_overlay([(str(args.a), a), (str(args.b), b)])
        try:
            written = write_comparison_html(args.html, overlay, result, args.force)
        except ExportError as exc:
            return fail(f"html: {exc}")
        print(one_line(f"qtui: wrote {written}"), file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_builtins(), indent=2, default=str))
    else:
        if not result.combinations:
            print("No combination appears in both files.", file=sys.stderr)
        print_comparison(result, str(args.a), str(args.b))
    slower = any(r.speed == "slower" for r in result.combinations)
    return 1 if args.fail_on_slower and slower else 0
