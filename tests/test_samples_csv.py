"""Each run's samples over time in the CSV export, as a second file (issue 23).

``<stem>-samples.csv`` beside ``<stem>.csv``: one row per reading of the sampler
(the run's CPU, RSS and threads, and how busy the machine was), for people who
plot them elsewhere.  The readings come from the summary (``runs[].samples``),
so the JSON of a session, its event log, the history's summary and the app's
export all give the same file.  Checked on the recorded real session
(``tests/data/real_events.jsonl``), on a real tiny ``qtui run``, and on a
version-1 summary, which holds no samples (the file then has its header only,
and ``qtui report`` says why).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import msgspec
import pytest
from cli_in_process import QtuiCli

from qtui.analysis.fold import SessionSummary
from qtui.analysis.sample_series import MAX_SAMPLES
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.core.summary_schema import Summary
from qtui.report.export import write_summary
from qtui.report.export.csv_export import SAMPLE_COLUMNS, render_samples

TESTS = Path(__file__).resolve().parent
REAL_LOG = TESTS / "data" / "real_events.jsonl"
V1 = TESTS / "data" / "run_v1.json"
#: A tiny forum run: 1 epoch of 4 steps.
TINY_ARGS = ("--epochs", "1", "--samples", "20", "--batch-size", "5")

pytestmark = pytest.mark.timeout(240)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _log_samples(events: list[ev.Event]) -> dict[str, list[ev.Sample]]:
    out: dict[str, list[ev.Sample]] = {}
    for e in events:
        if isinstance(e, ev.Sample) and e.run_id:
            out.setdefault(e.run_id, []).append(e)
    return out


def _same_readings(rows: list[dict[str, str]], samples: list[ev.Sample]) -> None:
    """The file's rows are the log's readings, in order (rounded to what the file keeps)."""
    assert len(rows) == len(samples), (len(rows), len(samples))
    for row, s in zip(rows, samples, strict=True):
        assert float(row["t_s"]) == pytest.approx(s.wall_s, abs=1e-3)
        assert float(row["cpu_s"]) == pytest.approx(s.cpu_s, abs=1e-3)
        assert float(row["cores_in_use"]) == pytest.approx(s.cores_in_use, abs=1e-3)
        assert int(row["rss_bytes"]) == s.rss
        assert int(row["threads"]) == s.threads
        busy = sum(s.percpu) / 100
        assert float(row["machine_busy_cores"]) == pytest.approx(busy, abs=0.01)
    times = [float(r["t_s"]) for r in rows]
    assert times == sorted(times)


def test_report_of_an_event_log_writes_every_runs_samples_beside_the_runs(
    qtui_cli: QtuiCli, real_events: list[ev.Event], tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    proc = qtui_cli("report", str(REAL_LOG), "-f", "csv", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    samples_file = tmp_path / "out-samples.csv"
    assert f"wrote {samples_file}" in proc.stderr, proc.stderr
    with samples_file.open(newline="") as f:
        assert next(csv.reader(f)) == SAMPLE_COLUMNS
    rows = _rows(samples_file)
    runs = {r["run_id"]: r for r in _rows(out)}
    by_run: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_run.setdefault(row["run_id"], []).append(row)
    logged = _log_samples(real_events)
    assert set(by_run) == set(logged) and set(by_run) <= set(runs)
    for run_id, run_rows in by_run.items():
        _same_readings(run_rows, logged[run_id])
        assert {r["session_id"] for r in run_rows} == {runs[run_id]["session_id"]}
        assert {r["group"] for r in run_rows} == {runs[run_id]["group"]}
    labels = {run_id: rs[0]["label"] for run_id, rs in by_run.items()}
    assert labels["r1"] == "default.qubit+backprop #1"
    assert labels["r2"] == "default.qubit+backprop #2"
    assert labels["r3"] == "lightning.qubit+adjoint #1"


def test_a_real_runs_summary_holds_its_samples_and_every_path_writes_the_same_file(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    """``qtui run --json`` keeps the readings in ``runs[].samples``; the report of the
    JSON and of the event log, and ``-f all``, write the same samples file."""
    summary, log = tmp_path / "s.json", tmp_path / "s.jsonl"
    proc = qtui_cli("run", *TINY_ARGS, "--json", str(summary), "--events", str(log),
                    env={"QTUI_NO_HISTORY": "1"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(summary.read_text())
    (run,) = doc["runs"]
    series = run["samples"]
    assert series["t"] and len(series["t"]) == len(series["rss"]) == len(series["threads"])
    written = []
    for source, name in ((summary, "a.csv"), (log, "b.csv")):
        proc = qtui_cli("report", str(source), "-f", "csv", "-o", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        written.append((tmp_path / name.replace(".csv", "-samples.csv")).read_text())
    proc = qtui_cli("report", str(summary), "-f", "all", "-o", str(tmp_path / "all"))
    assert proc.returncode == 0, proc.stderr
    written.append((tmp_path / "all" / f"qtui-{doc['session_id']}-samples.csv").read_text())
    assert written[0] == written[1] == written[2]
    rows = list(csv.DictReader(io.StringIO(written[0])))
    events = [ev.decode(line)[0] for line in log.read_bytes().splitlines() if line.strip()]
    _same_readings(rows, _log_samples([e for e in events if e is not None])[run["run_id"]])
    assert {r["label"] for r in rows} == {"default.qubit+backprop #1"}
    assert max(int(r["rss_bytes"]) for r in rows) > 0
    assert max(float(r["cpu_s"]) for r in rows) > 0


def test_a_summary_without_samples_gets_a_header_only_file_and_a_line_that_says_why(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    out = tmp_path / "v1.csv"
    proc = qtui_cli("report", str(V1), "-f", "csv", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    samples_file = tmp_path / "v1-samples.csv"
    assert samples_file.read_text() == ",".join(SAMPLE_COLUMNS) + "\n"
    assert "holds no samples" in proc.stderr and str(samples_file) in proc.stderr, proc.stderr
    assert len(_rows(out)) >= 1  # the runs file is as before


def test_the_samples_file_is_never_replaced_without_force_and_nothing_is_half_written(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    out, beside = tmp_path / "out.csv", tmp_path / "out-samples.csv"
    beside.write_text("mine\n")
    proc = qtui_cli("report", str(REAL_LOG), "-f", "csv", "-o", str(out))
    assert proc.returncode == 2
    assert "out-samples.csv already exists" in proc.stderr, proc.stderr
    assert not out.exists() and beside.read_text() == "mine\n"
    beside.unlink()
    beside.mkdir()  # a folder where the file should go: refused, --force or not
    proc = qtui_cli("report", str(REAL_LOG), "-f", "csv", "-o", str(out), "--force")
    assert proc.returncode == 2 and "folder" in proc.stderr, proc.stderr
    assert not out.exists()
    beside.rmdir()
    proc = qtui_cli("report", str(REAL_LOG), "-f", "csv", "-o", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert _rows(beside)


def _summary() -> Summary:
    from qtui.store.loading import load_summary

    return load_summary(REAL_LOG)


def test_run_text_in_the_samples_file_is_escaped(tmp_path: Path) -> None:
    """A label carries a run's text (a script's arguments): its control characters are
    written as escapes, as in the runs file."""
    summary = _summary()
    run = summary.runs[0]
    odd = msgspec.structs.replace(run, parameters={**run.parameters, "device": "dq\x1b[2J\r"})
    summary = msgspec.structs.replace(summary, runs=[odd, *summary.runs[1:]])
    text = render_samples(summary)
    assert "\x1b" not in text and "\r" not in text
    assert "dq\\x1b[2J\\r" in text
    path = write_summary(summary, tmp_path / "odd.csv", "csv")
    assert (path.parent / "odd-samples.csv").read_text() == text


def test_a_long_run_keeps_evenly_spaced_readings_within_the_bound() -> None:
    """The summary keeps at most ``MAX_SAMPLES`` readings a run (its size): past that,
    every other one is dropped and one reading in 2, 4, ... is kept from then on."""
    folded = SessionSummary()
    folded.apply(ev.RunQueued(run_id="r1", spec={"run_id": "r1", "device": "default.qubit",
                                                  "diff_method": "backprop"}, t=0.0))
    n = MAX_SAMPLES * 3 + 7
    for i in range(n):
        folded.apply(ev.Sample(run_id="r1", percpu=[50.0, 25.0], rss=1000 + i, peak_rss=1000 + i,
                               threads=2, peak_threads=2, cpu_s=i * 0.1, wall_s=i * 0.1,
                               cores_in_use=1.0, t=float(i)))
    (run,) = document(folded).runs
    series = run.samples
    assert series is not None
    assert MAX_SAMPLES // 2 <= len(series.t) <= MAX_SAMPLES
    steps = {b - a for a, b in zip(series.rss, series.rss[1:], strict=False) if a is not None and b is not None}
    assert steps == {series.every} and series.every == 4, (steps, series.every)
    assert series.rss[0] == 1000 and series.busy_cores == [0.75] * len(series.t)
