"""``qtui report`` and ``qtui compare`` on summaries folded from a real session."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from qtui.analysis.comparison import compare, row_texts
from qtui.analysis.fold import SessionSummary
from qtui.analysis.stats import t_quantile, welch
from qtui.analysis.summary_builder import document
from qtui.cli.commands import compare as compare_cmd
from qtui.cli.commands import report as report_cmd
from qtui.core import events as ev
from qtui.core.summary_schema import Summary
from qtui.report.export import write_summary


@pytest.fixture(scope="module")
def summary(real_events: list[ev.Event]) -> Summary:
    s = SessionSummary()
    for e in real_events:
        s.apply(e)
    return document(s)


@pytest.fixture()
def saved(summary: Summary, tmp_path: Path) -> Path:
    return write_summary(summary, tmp_path / "a.json", "json")


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="qtui")
    sub = parser.add_subparsers()
    report_cmd.register(sub)
    compare_cmd.register(sub)
    args = parser.parse_args(list(argv))
    return int(args.func(args))


# --- report -------------------------------------------------------------------------


def test_report_md_to_stdout(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("report", str(saved)) == 0  # md by default
    out = capsys.readouterr().out
    assert out.startswith("### qtui benchmark") and "| default.qubit+backprop |" in out


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_report_other_text_formats(
    saved: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("report", str(saved), "--format", fmt) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["schema"] == "qtui.summary"
    else:
        assert out.splitlines()[0].startswith("session_id,run_id")


def test_report_html_needs_output(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("report", str(saved), "--format", "html") == 2
    err = capsys.readouterr().err
    assert err.startswith("qtui: error:") and "-o" in err and err.count("\n") == 1


def test_report_to_file_and_overwrite(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert cli("report", str(saved), "-o", str(out)) == 0  # format from the extension
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    capsys.readouterr()
    assert cli("report", str(saved), "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert f"qtui: error: {out} already exists; use --force" in err
    assert cli("report", str(saved), "-o", str(out), "--force", "--format", "md") == 0
    assert out.read_text(encoding="utf-8").startswith("### qtui")


def test_report_all_formats(saved: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    assert cli("report", str(saved), "--format", "all", "-o", str(folder)) == 0
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv", ".csv", ".html", ".json", ".md"]


def test_report_all_makes_the_folder_it_is_given(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 23, item 8: ``-f all -o allout`` refused a folder that did not exist yet."""
    folder = tmp_path / "exports" / "allout"
    assert cli("report", str(saved), "--format", "all", "-o", str(folder)) == 0
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv", ".csv", ".html", ".json", ".md"]
    capsys.readouterr()
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli("report", str(saved), "--format", "all", "-o", str(afile / "sub")) == 2
    assert "Not a directory" in capsys.readouterr().err
    assert afile.read_text() == "x"


@pytest.mark.parametrize(
    "content",
    ["{broken", '{"hello": "world"}', '{"schema": "qtui.summary", "schema_version": 7}'],
)
def test_report_rejects_bad_input(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert cli("report", str(bad)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("qtui: error: ") and captured.err.count("\n") == 1


def test_report_through_the_real_cli(saved: Path, tmp_path: Path) -> None:
    bad = tmp_path / "foreign.json"
    bad.write_text('{"results": []}')
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "report", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("qtui: error:") and "not a qtui summary" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "report", str(saved), "--format", "md"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0 and "Relative" in proc.stdout


# --- compare: the statistics --------------------------------------------------------


def test_welch_matches_reference_values() -> None:
    # Reference: scipy.stats.ttest_ind(a, b, equal_var=False) -> t=-4.817, df=4.776, p=0.005428
    t, df, p = welch([1.0, 1.1, 0.95, 1.05], [1.2, 1.25, 1.18])
    assert t == pytest.approx(4.81699, rel=1e-4)
    assert df == pytest.approx(4.77552, rel=1e-4)
    assert p == pytest.approx(0.0054278, rel=1e-3)
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, rel=1e-4)
    assert t_quantile(0.975, 10) == pytest.approx(2.22814, rel=1e-4)


# --- compare: the command -----------------------------------------------------------


def test_compare_same_file_is_no_change(
    saved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("compare", str(saved), str(saved), "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["only_in_a"] == [] and result["only_in_b"] == []
    timed = [r for r in result["combinations"] if r["a"]["mean"] is not None]
    assert len(timed) == 2
    # the same samples on both sides, but the real session ran 2 and 1: too few to tell
    assert {r["combination"]: r["speed_text"] for r in timed} == {
        "default.qubit+backprop": "too few runs to tell (n=2); rerun with --repeat 3 or more"
                                  " (or --repeat auto)",
        "lightning.qubit+adjoint": "too few runs to tell (n=1); rerun with --repeat 3 or more"
                                   " (or --repeat auto)"}
    assert all(r["memory"] == "no significant change" for r in timed)
    [untimed] = [r for r in result["combinations"] if r["a"]["mean"] is None]
    assert untimed["speed"] == "not measured"  # the failed finite-diff run


def _copy(summary: Summary) -> Summary:
    return Summary.loads(summary.dumps())


def _scaled(summary: Summary, combo: str, factor: float) -> Summary:
    s = _copy(summary)
    for r in s.results:
        if r.combo == combo:
            r.times = [t * factor if t is not None else None for t in r.times]
            r.mean = r.mean * factor if r.mean is not None else None
            if r.stddev:
                r.stddev *= factor
    return s


def _steady(summary: Summary) -> Summary:
    """The real repeats ran in parallel on a shared machine: give them a known spread,
    and three runs, the fewest a verdict rests on."""
    s = _copy(summary)
    bp = next(r for r in s.results if r.combo == "default.qubit+backprop")
    bp.times, bp.mean, bp.stddev = [0.100, 0.102, 0.101], 0.101, 0.001
    return s


def test_compare_verdicts_on_real_summaries(summary: Summary) -> None:
    summary = _steady(summary)
    faster = _scaled(summary, "default.qubit+backprop", 0.5)  # 3 repeats each: Welch
    faster = _scaled(faster, "lightning.qubit+adjoint", 1.05)  # 1 run each
    result = compare(summary, faster)
    by = {r.combination: r for r in result.combinations}
    bp = by["default.qubit+backprop"]
    assert bp.speed == "faster" and bp.time_change == pytest.approx(-0.5)
    assert bp.speed_method.startswith("Welch")
    assert row_texts(bp)["speed"].startswith("2.00× faster, ") and "confidence" in bp.speed_text
    adj = by["lightning.qubit+adjoint"]
    assert adj.speed == "too few" and adj.speed_method == "too few runs to tell (n=1)"
    # one run on each side is too few however far apart (the old 10 % rule called it slower)
    slower = compare(summary, _scaled(summary, "lightning.qubit+adjoint", 1.5))
    adj = {r.combination: r for r in slower.combinations}["lightning.qubit+adjoint"]
    assert adj.speed == "too few"
    assert row_texts(adj)["speed"] == (
        "too few runs to tell (n=1); rerun with --repeat 3 or more (or --repeat auto)")


def test_compare_table_and_only_in_one(
    summary: Summary, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    summary = _steady(summary)
    b = _scaled(summary, "default.qubit+backprop", 2.0)
    b.results = [r for r in b.results if r.combo != "lightning.qubit+adjoint"]
    a_path = write_summary(summary, tmp_path / "a.json", "json")
    b_path = write_summary(b, tmp_path / "b.json", "json")
    assert cli("compare", str(a_path), str(b_path)) == 0
    out = capsys.readouterr().out
    assert "slower" in out and "2.00× slower" in out
    assert "only in A: lightning.qubit+adjoint" in out
    assert cli("compare", str(a_path), str(b_path), "--fail-on-slower") == 1


def test_compare_rejects_foreign_json(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "other.json"
    bad.write_text("[]")
    assert cli("compare", str(saved), str(bad)) == 2
    err = capsys.readouterr().err
    assert err.startswith("qtui: error:") and str(bad) in err and err.count("\n") == 1
