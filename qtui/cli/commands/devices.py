"""``qtui devices``: the capability matrix, devices × diff methods, as PennyLane answers it.

The answer comes from the probe (``qtui.session.capabilities``; a child builds the
forum circuit on every device × method and runs forward + backward), cached
until PennyLane, lightning, torch or the set of installed devices changes.
Refusals are footnoted with PennyLane's own reason so the table fits 80
columns.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "devices",
        help="show which devices and diff methods work here",
        description="The capability matrix: devices × diff methods (supported, refused "
        "with PennyLane's reason, what 'best' resolves to, batch split).",
    )
    p.add_argument("--refresh", action="store_true", help="probe again instead of using the cache")
    p.add_argument("--json", action="store_true", help="print the matrix as JSON")
    p.set_defaults(func=handle)


#: Short column labels so the matrix fits 80 columns.
SHORT = {"parameter-shift": "param-shift"}


def matrix_table(caps: Any) -> tuple[Table, list[str]]:
    """The usable devices × methods table, and the footnotes it refers to."""
    table = Table(
        title="Devices × diff methods",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
    )
    table.add_column("Device", no_wrap=True)
    for m in caps.methods:
        table.add_column(SHORT.get(m, m), justify="center", no_wrap=True)
    notes: list[str] = []
    for info in caps.ordered():
        if not info.usable:
            continue
        cells: list[Text | str] = [info.name]
        for m in caps.methods:
            ms = info.methods.get(m)
            if ms is None:
                cells.append(Text("?", style="dim"))
                continue
            if not ms.supported:
                notes.append(f"{info.name}+{m}: {ms.reason}")
                cells.append(Text(f"✗ [{len(notes)}]", style="red"))
                continue
            if m == "best" and ms.resolved:
                cell = Text(f"→ {SHORT.get(ms.resolved, ms.resolved)}", style="green")
            else:
                cell = Text("✓", style="green")
            if ms.split_batch:
                cell.append("*")
            cells.append(cell)
        table.add_row(*cells)
    return table, notes


def handle(args: argparse.Namespace) -> int:
    from qtui.session.capabilities import ProbeError, load_capabilities

    if args.refresh and not args.json:
        print("qtui: probing the installed PennyLane devices...", file=sys.stderr)
    try:
        caps = load_capabilities(refresh=args.refresh)
    except ProbeError as exc:
        print(f"qtui: error: could not probe the PennyLane devices: {exc}", file=sys.stderr)
        return 1
    if args.json:
        data = caps.to_dict()
        data["usable_devices"] = caps.usable_devices()
        data["cache_path"] = caps.cache_path
        print(json.dumps(data, indent=2))
        return 0
    console = Console()
    table, notes = matrix_table(caps)
    console.print(table)
    for i, note in enumerate(notes, 1):
        console.print(f"[{i}] {note}", highlight=False, markup=False)
    console.print(
        "✓ supported  ✗ refused (PennyLane's reason above)  → what 'best' picks\n"
        "* batch split: one circuit per sample (no gradients of broadcast tapes)",
        style="dim",
    )
    gone = caps.unavailable()
    if gone:
        console.print("Unavailable here:", style="bold")
        for info in gone:
            console.print(f"  {info.name}: {info.reason}", highlight=False, markup=False)
    for info in caps.ordered():
        if info.usable and info.note:
            console.print(Text(f"Note: {info.name} {info.note}", style="dim"), highlight=False)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(caps.probed_at)) if caps.probed_at else "?"
    source = "cached" if caps.from_cache else "probed now"
    console.print(
        f"Probed {when} ({source}; `qtui devices --refresh` probes again).",
        style="dim",
        highlight=False,
    )
    return 0
