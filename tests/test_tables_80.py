"""Tables that keep their names at 80 columns (issue 23, item 6).

``qtui run ... | cat`` and ``COLUMNS=80`` print the console report at 80
columns: a combination's name is never cut nor folded (the other columns wrap,
or the table splits and repeats its name columns), a note under a name is said
once, not under every part of a split table, and a contended combination is
marked ``⚠`` beside its name with the legend saying what it means, once.

The summaries are real ones written by qtui (tests/data/*.json;
``sweep_notes.json`` is ``qtui sweep --qubits 2,3,4,5,6 --repeat 2`` on this
2-core machine, contended and oversubscribed), read as a user's file is read;
a long-label case gives run_v1 the labels of a sweep over three parameters.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

from qtui.core.summary_schema import Summary
from qtui.core.workload_groups import WorkloadGroups
from qtui.report import narrative
from qtui.report import results as results_model
from qtui.report.analysis_report import print_analysis
from qtui.report.console_report import print_report

DATA = Path(__file__).resolve().parent / "data"
REAL = ("run_v1", "sweep_v1", "warn_v1", "sweep_notes")
#: A sweep over three parameters names its combinations like this (49 characters).
LONG = " (qubits=4, layers=2, batch_size=10)"


def load(name: str) -> Summary:
    return Summary.loads((DATA / f"{name}.json").read_bytes())


def long_labels() -> Summary:
    s = load("run_v1")
    for r in s.results:
        r.label = f"{r.combo}{LONG}"
    return s


CASES = {**{name: (lambda n=name: load(n)) for name in REAL}, "long_labels": long_labels}


def console_text(summary: Summary, width: int = 80) -> str:
    """What ``qtui run`` prints at the end at ``width`` columns."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None)
    print_report(summary, console)
    print_analysis(summary, console)
    return buf.getvalue()


def names(summary: Summary) -> set[str]:
    """Every name a table shows: results' labels, runs' labels, sweep series, verdicts."""
    model = results_model.build(summary)
    groups = WorkloadGroups(summary.runs)
    out = {row.label for row in model.rows} | {row.result.combo or "" for row in model.rows}
    out |= {groups.run_label(r.parameters, r.repeat_index) for r in summary.runs}
    for axis in summary.sweep.values():
        out |= set(axis.series) | {v.a for v in axis.verdicts} | {v.b for v in axis.verdicts}
        out |= {p.combo for p in axis.predictions}
    out |= {f"{r.device}+{r.diff_method}" for r in summary.refused}
    return out


def cut_names(text: str, known: set[str]) -> list[str]:
    """Lines where a name starts but is not there whole: cut (``default.qubit+…``,
    ``default.qubit+backp``) or folded (the rest of it under it on the next line)."""
    starts = {n[: n.index("+") + 1] for n in known if "+" in n}
    size = {len(s) for s in starts}
    lines = text.splitlines()
    bad = []
    for i, line in enumerate(lines):
        for m in re.finditer(r"(?:(?<=^)|(?<=\s))\S", line):
            at = m.start()
            if not any(line[at:at + k] in starts for k in size):
                continue
            whole = [n for n in known if line.startswith(n, at)]
            if not whole:
                bad.append(line)
                continue
            got = max(whole, key=len)
            below = lines[i + 1][at:] if i + 1 < len(lines) else ""
            for longer in (n for n in known if n.startswith(got) and n != got):
                rest = longer[len(got):].strip()
                if rest and below.strip() and below.lstrip().startswith(rest) and \
                        len(below) - len(below.lstrip()) <= 1:
                    bad.append(f"{line!r} / {below!r}")
                # "default.qubit+backprop (qubits=4, layers=2," then the rest below
                common = len(os.path.commonprefix([line[at:].rstrip(), longer]))
                if len(got) + 1 < common < len(longer):
                    bad.append(line)
    return bad


def section(text: str, title: str) -> str:
    """The lines of one section: from its heading to the next heading."""
    lines = text.splitlines()
    headings = [f"{t}:" for t in narrative.TITLES.values()]
    start = lines.index(f"{title}:")
    end = next((i for i in range(start + 1, len(lines)) if lines[i] in headings), len(lines))
    return "\n".join(lines[start + 1:end])


@pytest.mark.parametrize("name", list(CASES))
def test_no_name_is_cut_or_folded_at_80_columns(name: str) -> None:
    summary = CASES[name]()
    text = console_text(summary)
    lines = text.splitlines()
    assert max(len(x.rstrip()) for x in lines if not x.startswith("  qtui ")) <= 80
    assert "…" not in text, [x for x in lines if "…" in x]
    bad = cut_names(text, names(summary))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", list(CASES))
def test_a_table_header_is_never_folded(name: str) -> None:
    """warn_v1's runs table printed its ``Run`` header as ``Ru`` over ``n``."""
    text = console_text(CASES[name]())
    rule = re.compile(r"^─{5,}$")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if rule.match(line.strip()) and i >= 1:
            header = lines[i - 1]
            above = lines[i - 2] if i >= 2 else ""
            # a header folded over two lines leaves a fragment of a word above it
            words = re.split(r"\s{2,}", above.strip())
            assert not any(len(w) <= 3 and w.isalpha() for w in words), (above, header)


@pytest.mark.parametrize("name", ["run_v1", "sweep_v1", "sweep_notes"])
def test_contention_is_said_once_with_its_legend(name: str) -> None:
    """Every row of every part was followed by ``⚠ contended (1 run(s))``."""
    summary = CASES[name]()
    model = results_model.build(summary)
    contended = [r for r in model.rows if results_model.contended(r.result)]
    assert contended, "the fixture has contended combinations"
    results = section(console_text(summary), "Results")
    assert results.count("contended") == 1, results  # the legend's entry
    assert results_model.CONTENDED_NOTE.split(":")[0] in " ".join(results.split())
    # the mark is beside the name of each contended combination, in every part
    for row in contended:
        assert f"{row.label} {results_model.CONTENDED_MARK}" in results, row.label
    clean = [r for r in model.rows if r not in contended]
    for row in clean:
        assert f"{row.label} {results_model.CONTENDED_MARK}" not in results, row.label


def test_a_note_under_a_name_is_said_once() -> None:
    """A split table repeats its names in each part; the notes under them come once."""
    summary = load("sweep_notes")
    model = results_model.build(summary)
    results = section(console_text(summary), "Results")
    noted = [r for r in model.rows if any("oversubscribed" in n for n in r.notes)]
    assert noted, "the fixture has oversubscribed combinations"
    assert results.count("oversubscribed (") == len(noted), results
    for row in noted:
        note = next(n for n in row.notes if "oversubscribed" in n)
        # whole, on one line: not wrapped into a column as wide as the name
        assert f"{row.marked_label}: {note}" in " ".join(results.split()), (row.label, results)


def test_the_device_table_keeps_a_long_name_on_one_line() -> None:
    """A 49-character name and "Ran on" did not fit 80 columns: the name was folded
    over 5 lines; now "Ran on" wraps and the name stays whole."""
    summary = long_labels()
    devices = section(console_text(summary), "What the devices executed")
    lines = devices.splitlines()
    at = [next(i for i, x in enumerate(lines) if x.startswith(r.label)) for r in summary.results]
    # each row is its name and "Ran on" in two lines at most (the name took five)
    assert [b - a for a, b in zip(at, at[1:], strict=False)] == [2, 2], devices
    assert "wires) · backprop" in devices, devices


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_sweep_table_names_each_line_whole(width: int) -> None:
    """``qtui sweep``'s table per step: each combination once per part, whole."""
    summary = load("sweep_notes")
    sweep = section(console_text(summary, width), "Sweep")
    for name in summary.sweep["qubits"].series:
        rows = [x for x in sweep.splitlines() if x.startswith(name)]
        assert rows, (name, sweep)
        assert all(re.match(rf"{re.escape(name)}(\s|$)", x) for x in rows), rows
