"""One narrative for every format (issue 18, item 3): the console report, the
Markdown and the HTML export of one summary carry the same sections, every
note, each mark with its legend, every warning and a command line that pastes.

The summaries are real ones written by qtui (tests/data/*_v1.json: contended
and refused combinations, a sweep, warnings and failed runs), read as a user's
file is read.
"""

from __future__ import annotations

import html
import io
import re
import shlex
import time
from pathlib import Path

import pytest
from rich.console import Console
from test_ui_data import fixed_caps

from qtui.cli.main import COMMANDS, build_parser
from qtui.core.config import RunSpec
from qtui.core.summary_schema import Summary, WarningRecord
from qtui.report import narrative
from qtui.report import results as results_model
from qtui.report.analysis_report import print_analysis
from qtui.report.console_report import print_report
from qtui.report.export import render

DATA = Path(__file__).resolve().parent / "data"
FIXTURES = ("run_v1", "sweep_v1", "warn_v1")
#: The sections each fixture must have, whatever the narrative decides.
EXPECTED = {
    "run_v1": {"Results", "Unstable results", "Where the time goes", "What the devices executed",
               "Runs", "Refused by PennyLane (not run)", "Recommendation", "Notes",
               "Environment", "Command line"},
    "sweep_v1": {"Results", "Sweep", "Recommendation", "Refused by PennyLane (not run)", "Notes",
                 "Environment", "Command line"},
    "warn_v1": {"Results", "Runs", "Warnings", "Recommendation", "Notes", "Environment",
                "Command line"},
}


def load(name: str) -> Summary:
    return Summary.loads((DATA / f"{name}.json").read_bytes())


def many_warnings() -> Summary:
    """warn_v1 with seven distinct warnings on one combination (Markdown kept five)
    and a combination that burns cores (the ``!`` mark, which HTML did not explain)."""
    s = load("warn_v1")
    s.results[0].warnings = [
        WarningRecord(category="UserWarning", message=f"warning number {i}\nsecond line",
                      filename=f"/x/site-packages/pkg/m{i}.py", lineno=i, count=i + 1)
        for i in range(7)
    ]
    s.results[0].resources.cores_in_use = 3.5
    return s


def flat(text: str) -> str:
    return " ".join(text.split())


def console_text(summary: Summary, width: int = 300) -> str:
    """What ``qtui run`` prints at the end: the report, then the analysis."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None)
    print_report(summary, console)
    print_analysis(summary, console)
    return buf.getvalue()


def html_text(page: str) -> str:
    """The HTML's words, without the embedded JSON and plotly (which hold every string)."""
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def renders(summary: Summary) -> dict[str, str]:
    md = render(summary, "md")
    page = render(summary, "html")
    assert isinstance(md, str) and isinstance(page, str)
    return {"console": console_text(summary), "md": md, "html": page}


CASES = [(name, load) for name in FIXTURES] + [("many_warnings", lambda _: many_warnings())]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_every_format_carries_the_same_narrative(name: str, make: object) -> None:
    summary = make(name)  # type: ignore[operator]
    doc = narrative.build(summary)
    titles = [s.title for s in doc.sections]
    assert EXPECTED.get(name, EXPECTED["warn_v1"]) <= set(titles), titles
    out = renders(summary)

    # the same headings, in the same order
    assert re.findall(r"^#### (.+)$", out["md"], flags=re.M) == titles
    assert re.findall(r"<h2[^>]*>([^<]+)</h2>", out["html"]) == [html.escape(t) for t in titles]
    lines = out["console"].splitlines()
    at = [lines.index(f"{t}:") for t in titles]
    assert at == sorted(at), titles

    texts = {"console": flat(out["console"]), "md": flat(out["md"]),
             "html": flat(html_text(out["html"]))}
    model = results_model.build(summary)
    marks = model.marks()
    argv = shlex.join(summary.argv)
    for fmt, text in texts.items():
        for note in summary.notes:
            assert flat(note) in text, (fmt, note)
        for mark in marks:
            assert f" {mark}" in text and flat(results_model.MARK_LEGENDS[mark]) in text, (fmt, mark)
        for row in model.rows:
            for w in row.result.warnings:
                first = (w.message or "").splitlines()[0]
                assert f"{w.count}× {w.category}: {flat(first)}" in text, (fmt, first)
            for key in ("mean", "relative", "peak_rss", "cores", "contention", "core_s"):
                assert row.cells[key].shown in text, (fmt, key, row.cells[key].shown)
        for line in narrative.describe(summary.recommendation):
            assert flat(line) in text, (fmt, line)
        for axis in summary.sweep.values():
            for crossing in axis.crossovers:
                assert flat(crossing) in text, (fmt, crossing)
        assert argv in text, fmt


def test_all_seven_warnings_and_the_burn_legend_are_in_every_format() -> None:
    out = renders(many_warnings())
    for fmt, text in out.items():
        body = html_text(text) if fmt == "html" else text
        assert all(f"warning number {i}" in body for i in range(7)), fmt
        assert results_model.BURN_NOTE in flat(body), fmt


def test_the_recorded_command_lines_paste() -> None:
    for name in FIXTURES:
        argv = load(name).argv
        line = narrative.command_line(argv)
        assert shlex.split(line) == argv
        assert_pasteable(argv)


def assert_pasteable(argv: list[str]) -> None:
    """``qtui`` then a real command (or none: the TUI), and the flags parse."""
    assert argv[0] == "qtui", argv
    args = build_parser().parse_args(argv[1:])
    assert args.command is None or args.command in COMMANDS, argv


async def test_a_tui_session_records_a_command_line_that_pastes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TUI's session is ``qtui --isolation=…`` (it once recorded ``qtui tui``,
    a command that does not exist)."""
    from qtui.ui.app import QtuiApp
    from qtui.ui.messages import StartRequested

    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
    app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False,
                  persist_theme=False, isolation="spawn")
    async with app.run_test(size=(100, 30)) as pilot:
        app.post_message(StartRequested([RunSpec("default.qubit", "backprop")], 0.1, []))
        deadline = time.monotonic() + 60
        while not app.state.summary.session.get("argv") and time.monotonic() < deadline:
            await pilot.pause(0.05)
        app.control.cancel_all()
        # wait on the event loop (a blocking wait would leave the session's end to be
        # handled after the app's screens are gone)
        deadline = time.monotonic() + 30
        while app.control.active and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause()
    argv = app.state.summary.session.get("argv")
    assert argv, "the session never started"
    assert_pasteable(list(argv))
    assert argv[1:] == ["--isolation=spawn"]


@pytest.mark.parametrize("name", [*FIXTURES, "sweep_notes"])
def test_an_80_column_console_never_folds_a_combinations_name(name: str) -> None:
    """A table too wide for the terminal is split into parts, each repeating the
    combination column whole ("default.qubit+backp / rop" was printed before); the
    same holds for the runs, the device, the sweep and the verdict tables (issue 23,
    item 6: a name over 5 lines in "What the devices executed"), and a contended
    combination is marked beside its name, not by a note under every part."""
    from test_tables_80 import cut_names, names, section

    summary = load(name)
    text = console_text(summary, width=80)
    lines = text.splitlines()
    assert max(len(line.rstrip()) for line in lines if not line.startswith("  qtui ")) <= 80
    cut = cut_names(text, names(summary))
    assert not cut, "combination names folded:\n" + "\n".join(cut)
    results = section(text, "Results")
    assert "contended (" not in results, results
    for row in results_model.build(summary).rows:
        assert row.marked_label in results, row.marked_label


def test_the_workload_line_has_no_made_up_zeros() -> None:
    """Issue 23, item 8: a run of whole epochs read ``steps=0, warmup=0, threads=0``."""
    for name, steps in (("run_v1", None), ("sweep_v1", "steps=5, warmup=1")):
        text = render(load(name), "md")
        (line,) = [x for x in text.splitlines() if "Workload" in x]
        assert "steps=0" not in line and "warmup=0" not in line, line
        assert "threads=0" not in line and "threads=default" in line, line
        assert steps is None or steps in line, line
