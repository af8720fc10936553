"""Issue 24, as light as the script it measures: what a run and qtui itself cost.

Real runs through ``qtui run`` in this process (the suite's warm fork server), real
fresh fork servers where the server's own start is the subject, a real app.

* each run counts its page faults (``ru_minflt``/``ru_majflt``) over the measured
  window, into the JSON (``runs[].result``, ``results[].resources``) and the CSV;
* qtui's own CPU over the session (children excluded) is in the summary and in the
  environment section of every view;
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_in_process import QtuiCli

pytestmark = pytest.mark.timeout(240)

#: A tiny forum run: 1 epoch of 4 steps.
TINY_ARGS = ("--epochs", "1", "--samples", "20", "--batch-size", "5")


def test_a_run_counts_its_page_faults_in_the_measured_window(qtui_cli: QtuiCli, tmp_path: Path) -> None:
    """The window's faults, as the run's process counted them (getrusage): a real run
    writes to memory as it trains, so it takes minor faults; major ones may be none."""
    out = tmp_path / "s.json"
    proc = qtui_cli("run", *TINY_ARGS, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    (run,) = doc["runs"]
    minor, major = run["result"]["minor_faults"], run["result"]["major_faults"]
    assert isinstance(minor, int) and minor > 0
    assert isinstance(major, int) and major >= 0
    resources = doc["results"][0]["resources"]
    assert resources["minor_faults"] == minor and resources["major_faults"] == major
    report = qtui_cli("report", str(out), "--format", "csv", "-o", "-")
    assert report.returncode == 0, report.stderr
    (row,) = list(csv.DictReader(io.StringIO(report.stdout)))
    assert int(row["minor_faults"]) == minor and int(row["major_faults"]) == major


def test_pretouch_moves_the_forks_copy_on_write_faults_out_of_the_window(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    """A forked run's first step writes to pages it shares with the fork server: ~1,800
    copy-on-write faults in its window that a spawned run does not take.  With
    ``QTUI_PRETOUCH=1`` those pages are copied before the window, and its faults fall to
    a fresh process's (~300); the run's losses are the same."""
    counts: dict[str, int] = {}
    losses: dict[str, list[float]] = {}
    for arm, value in (("plain", "0"), ("pretouch", "1")):
        out = tmp_path / f"{arm}.json"
        proc = qtui_cli("run", *TINY_ARGS, "--json", str(out), env={"QTUI_PRETOUCH": value})
        assert proc.returncode == 0, proc.stderr
        (run,) = json.loads(out.read_text())["runs"]
        counts[arm], losses[arm] = run["result"]["minor_faults"], run["epoch_losses"]
    assert counts["pretouch"] * 2 < counts["plain"], counts
    assert losses["pretouch"] == losses["plain"]


def test_qtuis_own_cpu_is_in_the_summary_and_every_views_environment(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    """``resources.qtui_cpu_s``: the qtui process's own CPU seconds over the session
    (``os.times``, its children excluded), and per second of the runs' training."""
    out = tmp_path / "s.json"
    proc = qtui_cli("run", *TINY_ARGS, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    cpu, per = doc["resources"]["qtui_cpu_s"], doc["resources"]["qtui_cpu_per_train_s"]
    train_s = doc["runs"][0]["result"]["train_s"]
    assert cpu > 0 and per == pytest.approx(cpu / train_s)
    line = "qtui's own CPU"
    assert line in proc.stdout and "of a core per training second" in proc.stdout
    md = qtui_cli("report", str(out), "--format", "md", "-o", "-")
    assert md.returncode == 0, md.stderr
    (said,) = [x for x in md.stdout.splitlines() if line in x]
    assert "of a core per training second" in said
