"""Exporters, atomic writes and loading, on a summary folded from a real session."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import stat
from pathlib import Path

import pytest

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.core import phase_names
from qtui.core.summary_schema import Summary
from qtui.report.export import (
    FORMATS,
    ExportError,
    render,
    write_all,
    write_summary,
)
from qtui.store.loading import LoadError, load_summary


def fold(events: list[ev.Event]) -> Summary:
    s = SessionSummary()
    for e in events:
        s.apply(e)
    return document(s)


@pytest.fixture(scope="module")
def summary(real_events: list[ev.Event]) -> Summary:
    return fold(real_events)


def test_formats_are_the_four_named() -> None:
    assert set(FORMATS) == {"json", "md", "csv", "html"}


def test_json_round_trip(summary: Summary, tmp_path: Path) -> None:
    path = write_summary(summary, tmp_path / "s.json", "json")
    back = load_summary(path)
    assert back == Summary.loads(summary.dumps())
    assert back.schema == "qtui.summary" and back.schema_version == 2
    assert {r.combo for r in back.results} == {
        "default.qubit+backprop",
        "lightning.qubit+adjoint",
        "default.qubit+finite-diff",
    }


def test_json_turns_nan_into_null(summary: Summary) -> None:
    s = copy.deepcopy(summary)
    s.results[0].final_loss = float("nan")
    text = render(s, "json")
    assert isinstance(text, str) and "NaN" not in text
    assert json.loads(text)["results"][0]["final_loss"] is None


def test_markdown_table_environment_refused_failed(summary: Summary) -> None:
    md = render(summary, "md")
    assert isinstance(md, str)
    lines = md.splitlines()
    header = next(line for line in lines if line.startswith("| Combination"))
    for col in ("Mean ± σ", "Min", "Max", "Relative", "Peak RSS", "Cores in use", "Core-s",
                "Threads", "Accuracy", "Loss (last epoch)", "Warnings"):
        assert col in header
    backprop = next(line for line in lines if line.startswith("| default.qubit+backprop"))
    values = [c.strip().strip("*") for c in backprop.strip("|").split("|")]  # best is **bold**
    titles = [c.strip() for c in header.strip("|").split("|")]
    cells = dict(zip(titles, values, strict=True))  # by column name: columns may be added
    assert "**1.00**" in backprop
    assert cells["Runs"] == "2/2"
    assert "±" in cells["Mean ± σ"]  # two repeats: a σ
    assert cells["Relative"] == "1.00"  # the fastest
    assert cells["Peak RSS"].endswith("MiB")
    assert cells["Accuracy"] == "50.0 %"  # accuracy of the tiny run
    assert cells["Warnings"] == "6"  # 3 warnings per run × 2 runs
    for key in ("CPU:", "Cores:", "Memory:", "OS:", "Python:", "torch ", "pennylane "):
        assert key in md
    assert "`lightning.qubit+backprop`: Device does not support backprop" in md
    assert "RuntimeError: the test workload refuses finite-diff" in md
    assert "Fastest:" in md  # the recommendation lines


def test_markdown_escapes_pipes(summary: Summary) -> None:
    s = copy.deepcopy(summary)
    s.results[0].label = "a|b"
    md = render(s, "md")
    assert isinstance(md, str) and "| a\\|b" in md


def test_csv_one_row_per_run_with_parameter_columns(summary: Summary) -> None:
    text = render(summary, "csv")
    assert isinstance(text, str)
    rows = list(csv.DictReader(io.StringIO(text)))
    runs = [r for r in rows if r["state"] != "refused"]
    assert [r["run_id"] for r in runs] == ["r1", "r2", "r3", "r4"]
    assert {"parameter_device", "parameter_diff_method", "parameter_epochs",
            "parameter_batch_size"} <= set(rows[0])
    r1 = runs[0]
    assert r1["parameter_device"] == "default.qubit" and r1["state"] == "finished"
    assert 0 < float(r1["train_s"]) < 60  # raw seconds
    assert int(r1["peak_rss_bytes"]) > 50 * 2**20  # raw bytes
    assert float(r1["accuracy"]) == 0.5 and r1["warnings"] == "3"
    failed = runs[3]
    assert failed["state"] == "failed" and failed["error_type"] == "RuntimeError"
    assert failed["train_s"] == ""
    refused = [r for r in rows if r["state"] == "refused"]
    assert refused[0]["parameter_diff_method"] == "backprop"


def test_html_is_self_contained(summary: Summary, tmp_path: Path) -> None:
    path = write_summary(summary, tmp_path / "r.html", "html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert re.search(r"<script[^>]*\bsrc=", text) is None  # nothing fetched
    assert "Plotly.newPlot" in text  # figures present
    assert len(text) > 1_000_000  # plotly.js embedded, no CDN
    for title in ("Loss curves", "Core-seconds", "Peak memory"):
        assert title in text
    start = text.index('id="qtui-summary">') + len('id="qtui-summary">')
    embedded = json.loads(text[start:text.index("</script>", start)])
    assert embedded["session_id"] == summary.session_id


def test_write_refuses_to_overwrite(summary: Summary, tmp_path: Path) -> None:
    target = tmp_path / "s.md"
    target.write_text("keep me")
    with pytest.raises(ExportError) as info:
        write_summary(summary, target, "md")
    msg = str(info.value)
    assert str(target) in msg and "--force" in msg and "\n" not in msg
    assert target.read_text() == "keep me"
    write_summary(summary, target, "md", force=True)
    assert target.read_text().startswith("### qtui benchmark")
    assert [p.name for p in tmp_path.iterdir()] == ["s.md"]  # no temp files left


def test_failed_render_keeps_old_file_and_leaves_no_temp(
    summary: Summary, tmp_path: Path
) -> None:
    target = tmp_path / "r.html"
    target.write_text("old report")
    broken = copy.deepcopy(summary)
    broken.runs[0].epoch_losses = 5  # type: ignore[assignment]  # not a list: no loss chart
    with pytest.raises(ExportError, match="could not render the html export"):
        write_summary(broken, target, "html", force=True)
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_write_errors_are_clear(summary: Summary, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        write_summary(summary, tmp_path / "nope" / "s.json", "json")
    with pytest.raises(ExportError, match="unknown format 'pdf'"):
        write_summary(summary, tmp_path / "s.pdf", "pdf")


def test_written_file_follows_umask(summary: Summary, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_summary(summary, tmp_path / "s.csv", "csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_all(summary: Summary, tmp_path: Path) -> None:
    paths = write_all(summary, tmp_path)
    assert sorted(p.suffix for p in paths) == [".csv", ".csv", ".html", ".json", ".md"]
    assert paths[0].suffix == ".json"  # the data first
    assert all(p.name.startswith("qtui-test-") for p in paths)
    assert [p.name for p in paths if p.name.endswith("-samples.csv")] == [
        next(p for p in paths if p.suffix == ".csv").stem + "-samples.csv"
    ]  # each run's samples beside the runs (tests/test_samples_csv.py)
    before = {p: p.stat().st_mtime_ns for p in paths}
    with pytest.raises(ExportError, match="already exist"):
        write_all(summary, tmp_path)
    assert {p: p.stat().st_mtime_ns for p in paths} == before
    assert len(write_all(summary, tmp_path, force=True)) == 5


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2, 3]", "not a qtui summary"),
        (b'{"results": [{"command": "sleep 1", "mean": 1.0}]}', "hyperfine"),
        (b'{"schema": "qtui.summary", "schema_version": 99, "results": []}', "newer qtui"),
        (b'{"schema": "qtui.summary", "schema_version": "1"}', "schema_version"),
        (b'{"schema": "qtui.summary", "schema_version": 1, "results": {}}', '"results"'),
    ],
)
def test_load_rejects_with_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    with pytest.raises(LoadError) as info:
        load_summary(path)
    assert expected in str(info.value)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        load_summary(tmp_path / "missing.json")


def test_load_event_log_folds_it(real_events: list[ev.Event], tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    log.write_text("\n".join(e.to_json() for e in real_events) + "\n{broken\n")
    s = load_summary(log)
    assert s.schema == "qtui.summary"
    assert [r.state for r in s.runs] == ["finished", "finished", "finished", "failed"]
    assert any("malformed" in n for n in s.notes)


def test_every_format_shows_where_the_time_goes(summary: Summary) -> None:
    """Phase breakdown (issue 5): Markdown table, CSV columns, HTML stacked chart."""
    finished = [r for r in summary.results if r.phases and r.steps]
    assert finished, "the real runs should carry phase timings"
    md = render(summary, "md")
    assert "#### Where the time goes" in md
    assert "| Combination | Data | Fwd classical | Fwd quantum | Bwd quantum | Bwd classical | Optimiser |" in md
    header, *rows = list(csv.DictReader(io.StringIO(render(summary, "csv"))))
    done = [row for row in [header, *rows] if row["state"] == "finished"]
    # real_events.jsonl was recorded before issue 20: its phases keep their older keys
    assert done and all(float(row["phase_forward_quantum_s"]) > 0 for row in done)
    assert all(float(row["phase_backward_classical_s"]) > 0 for row in done)
    assert "phase_forward_nn_s" not in header
    assert phase_names.LEGACY_NOTE in md
    html = render(summary, "html")
    assert "Where the time goes: milliseconds per training step, by phase" in html


def _session_with(extra: list[ev.Event]) -> Summary:
    from test_ui_data import session_events

    return fold(session_events() + extra)


def test_a_run_active_at_export_time_is_said_to_be_running_once() -> None:
    from test_ui_data import T0, _spec

    spec = _spec("r4", "default.qubit", "backprop", 1)
    summary = _session_with([
        ev.RunQueued(run_id="r4", spec=spec, t=T0 + 90),
        ev.RunStarted(run_id="r4", spec=spec, pid=9, host="test", versions={},
                      resolved_diff_method="backprop", batches_per_epoch=40, t=T0 + 91),
    ])
    md = render(summary, "md")
    assert isinstance(md, str)
    assert "running — running" not in md and ": running" not in md
    assert md.count("Still running at export time") == 1
    assert re.search(r"- `default\.qubit\+backprop[^`]*` repeat 2 \(r4\)\n", md), md
    # the failed run is still listed as not finished, with its reason
    assert "**Did not finish**" in md and "adjoint is slow here" in md
    html = render(summary, "html")
    assert isinstance(html, str) and html.count("Still running at export time") == 1


def test_html_runs_with_identical_losses_stay_visible_and_say_so() -> None:
    summary = _session_with([])
    runs = [r for r in summary.runs if r.epoch_losses]
    assert len(runs) == 2 and runs[0].epoch_losses == runs[1].epoch_losses
    html = render(summary, "html")
    assert isinstance(html, str)
    assert "(same curve as default.qubit+backprop #1)" in html
    # the second curve is shifted along x, so both can be seen
    xs = re.findall(r'"x":\[([0-9.,]+)\]', html)
    assert "1,2,3,4,5,6" in xs and any(x.startswith("1.08,2.08") for x in xs), xs[:4]
