"""A narrative table on a console of any width, its names whole (issue 23, item 6).

``qtui run ... | cat`` and ``COLUMNS=80`` print at 80 columns.  Rules, in order:

* A **name** (``narrative.Column.name``: a combination, a run) is never cut nor
  folded.  A table too wide is split by column group, then in runs that fit
  (``(cont.)``), and each part repeats the name columns and those before them
  (a run's id) whole.
* Text columns (Ran on, a verdict's method) **wrap** at their spaces to fit
  beside the names; figures never do.
* **Notes** under a name (``split batch``, ``oversubscribed …``) are said once:
  under the name when the table is whole, else one line per name under the
  last part (every part used to repeat them).
* When the names are too long for any figure to sit beside them, each is
  replaced by a **key** (``[1]``) and a key line under the table names it whole.
"""

from __future__ import annotations

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from qtui.core.safe_text import visible
from qtui.report import narrative as nv

TONES = {"warn": "yellow", "note": "dim"}
#: The least a wrapping text column is given beside the names.
WRAP_MIN = 12


def _new_table(title: str) -> Table:
    return Table(
        title=Text(visible(title)) if title else None,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
        pad_edge=False,
    )


def text(cell: nv.Cell, with_note: bool = True) -> Text:
    style = "bold green" if cell.best else TONES.get(cell.tone, "")
    out = Text(visible(cell.text), style=style)
    if cell.note and with_note:
        out.append("\n" + visible(cell.note), style="dim")
    return out


def _width(block: nv.Table, i: int, notes: bool = True) -> int:
    """The widest line of column ``i`` (a figure is never cut); ``notes``: with the
    quieter second lines."""
    return max(
        (max([len(visible(row[i].text))]
             + [len(line) for line in visible(row[i].note).split("\n") if notes])
         for row in block.rows),
        default=1,
    )


def lead(block: nv.Table) -> int:
    """How many leading columns name a row (up to the last ``name`` column): a split
    table repeats them whole in every part."""
    named = [i for i, c in enumerate(block.columns) if c.name]
    return max(named) + 1 if named else 1


def _wraps(col: nv.Column) -> bool:
    """Text that may wrap at its spaces (Ran on, a method); names and figures never do."""
    return col.align == "l" and not col.name


def header(block: nv.Table, i: int, whole: bool) -> str:
    """Column ``i``'s title; in a split table its short one where the title is much
    wider than the figures (``Circuits/step`` for ``Circuits/step (simulations)``)."""
    col = block.columns[i]
    if whole or i < lead(block) or len(col.title) <= _width(block, i) + 2:
        return col.title
    return col.short or col.title


def _size(block: nv.Table, i: int, whole: bool = False) -> int:
    """Column ``i``'s width: its widest line and title (a name column's notes aside)."""
    return max(_width(block, i, notes=i >= lead(block)), len(header(block, i, whole)))


def _names_width(block: nv.Table) -> int:
    n = lead(block)
    return sum(_size(block, i) for i in range(n)) + 2 * (n - 1)


def _needs(block: nv.Table, width: int, whole: bool = False) -> dict[int, int]:
    """Each other column's room, its gap included: a text column at most what is
    left beside the names (it wraps); ``whole``: with the full titles."""
    room = max(width - _names_width(block) - 2, WRAP_MIN)
    return {
        i: 2 + (min(_size(block, i, whole), room) if _wraps(block.columns[i])
                else _size(block, i, whole))
        for i in range(lead(block), len(block.columns))
    }


def parts(block: nv.Table, width: int, name: str) -> list[tuple[str, list[int]]]:
    """Column indices per printed table: all in one when they fit, else by group,
    each group in runs that fit (``(cont.)``).  ``name`` titles the parts of a
    table that has no title of its own."""
    label = _names_width(block)
    rest = list(range(lead(block), len(block.columns)))
    if label + sum(_needs(block, width, whole=True).values()) <= width or not rest:
        return [(block.title, rest)]
    need = _needs(block, width)
    name = block.title or name
    groups = list(dict.fromkeys(block.columns[i].group for i in rest))
    if len(groups) > 1:
        return [
            part
            for g in groups
            for part in _pack([i for i in rest if block.columns[i].group == g], need, label,
                              width, f"{name}: {g}", f"{name}: {g}")
        ]
    # the first part sits under its section's heading: no second title
    return _pack(rest, need, label, width, block.title, name)


def _pack(
    columns: list[int], need: dict[int, int], label: int, width: int, first: str, name: str
) -> list[tuple[str, list[int]]]:
    """``columns`` in runs that fit ``width`` beside the name columns: the first run
    titled ``first``, the others ``<name> (cont.)``."""
    out: list[tuple[str, list[int]]] = []
    used = label
    for i in columns:
        if not out or used + need[i] > width:
            out.append((f"{name} (cont.)" if out else first, []))
            used = label
        out[-1][1].append(i)
        used += need[i]
    return out


def keyed(block: nv.Table, width: int) -> tuple[nv.Table, list[str]]:
    """``block`` with ``[1]``, ``[2]`` … for names too long for a figure to sit beside
    them, and the key lines that name them; ``block`` itself and no lines otherwise."""
    n = lead(block)
    figures = [w for i, w in _needs(block, width).items() if not _wraps(block.columns[i])]
    if _names_width(block) + max(figures, default=0) <= width:
        return block, []
    key: dict[str, str] = {}
    for row in block.rows:
        for i, cell in enumerate(row[:n]):
            if block.columns[i].name:
                key.setdefault(cell.text, f"[{len(key) + 1}]")

    def swap(cell: nv.Cell, col: nv.Column) -> nv.Cell:
        return nv.Cell(key[cell.text], cell.best, "", cell.tone) if col.name else cell

    rows = tuple(
        tuple(swap(c, block.columns[i]) if i < n else c for i, c in enumerate(row))
        for row in block.rows
    )
    notes = {row[n - 1].text: row_note(row, n) for row in block.rows}
    lines = [f"  {k} {name}" + (f": {notes[name]}" if notes.get(name) else "")
             for name, k in key.items()]
    return nv.Table(block.columns, rows, block.title), lines


def row_note(row: tuple[nv.Cell, ...], n: int) -> str:
    return ", ".join(c.note for c in row[:n] if c.note)


def tables(block: nv.Table, width: int = 80, name: str = "") -> list[Table]:
    """A narrative table as one rich table, or several when the console is narrow;
    split, the notes under the names are left to ``notes``."""
    split = parts(block, width, name)
    n = lead(block)
    whole = len(split) == 1
    noted = whole and any(row_note(row, n) for row in block.rows)
    beside = width - _names_width(block) - 2
    out = []
    for title, cols in split:
        table = _new_table(title)
        for i in range(n):
            # only a name longer than the console folds; a whole table's notes wrap
            table.add_column(visible(block.columns[i].title), overflow="fold", no_wrap=not noted,
                             min_width=_size(block, i), ratio=1 if noted and i == n - 1 else None)
        for i in cols:
            col = block.columns[i]
            need = _width(block, i)
            title = visible(header(block, i, whole))
            if _wraps(col):
                table.add_column(title, overflow="fold", min_width=max(min(need, beside), 1))
            else:
                table.add_column(title, justify="right" if col.align == "r" else "left",
                                 no_wrap=True, min_width=need)
        for row in block.rows:
            table.add_row(*[text(c, whole) for c in row[:n]], *[text(row[i]) for i in cols])
        out.append(table)
    return out


def notes(block: nv.Table) -> list[Text]:
    """The notes under the names, one line per name: ``name: note``."""
    n = lead(block)
    out = []
    for row in block.rows:
        said = row_note(row, n)
        if said:
            tone = next((c.tone for c in row[:n] if c.tone), "")
            out.append(Text(visible(f"  {row[n - 1].text}: {said}"), style=TONES.get(tone, "dim")))
    return out


def render(block: nv.Table, width: int, name: str) -> list[RenderableType]:
    """The tables, then the notes said once (when split), then the key lines."""
    shown, keys = keyed(block, width)
    out: list[RenderableType] = list(tables(shown, width, name))
    if keys:
        out += [Text(visible(line), style="dim") for line in keys]
    elif len(parts(block, width, name)) > 1:
        out += notes(block)
    return out
