"""Contention is measured and shown (issue 9, item 1).

A real CPU hog started by the test runs beside a real run: the run's
``run_finished`` says how many cores others used and flags it contended.
Then a contended result is marked in every view, and compare and the
recommendation call it unreliable.
"""

from __future__ import annotations

import io
import subprocess
import sys

from rich.console import Console

from qtui.analysis.comparison import compare, row_texts
from qtui.analysis.fold import SessionSummary
from qtui.analysis.recommend import describe
from qtui.analysis.summary_builder import document
from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.sampler import contended_threshold
from qtui.report.console_report import print_report
from qtui.report.export import render
from tests.engine_helpers import run_session, tiny
from tests.test_one_truth import events as quiet_events

HOG = "import time\nend = time.time() + 60\nwhile time.time() < end:\n    pass\n"


def test_a_cpu_hog_beside_a_run_makes_it_contended(warm_executor: ProcessExecutor) -> None:
    """Two hogs for one epoch of the forum model, forked from the suite's warm server
    (the hogs burn two cores for as long as the run takes: it is kept short)."""
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(2)]
    try:
        spec = RunSpec(device="default.qubit", diff_method="backprop",
                       params=tiny(epochs=1, samples=200, threads=1), run_id="hogged")
        _, rec = run_session([spec], interval=0.05, executor=warm_executor)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    fin = next(e for e in rec.events if isinstance(e, ev.RunFinished))
    assert fin.contention_cores is not None and fin.contention_cores_max is not None
    # two hogs on a 2-core machine: others hold about a core whatever our run gets
    assert fin.contention_cores >= 0.6, fin
    assert fin.contended is True
    assert fin.contention_cores_max >= fin.contention_cores


def contended_events() -> list[ev.Event]:
    out = quiet_events()
    for i, e in enumerate(out):
        if isinstance(e, ev.RunFinished) and e.run_id.startswith("adjoint"):
            out[i] = ev.replace(e, contention_cores=1.2, contention_cores_max=1.9, contended=True)
        elif isinstance(e, ev.RunFinished):
            out[i] = ev.replace(e, contention_cores=0.05, contention_cores_max=0.2)
    return out


def test_a_contended_result_is_marked_everywhere_and_called_unreliable() -> None:
    summary = SessionSummary()
    for e in contended_events():
        summary.apply(e)
    doc = document(summary)
    adj = next(r for r in doc.results if r.parameters["diff_method"] == "adjoint")
    assert adj.contended_runs == 2 and adj.resources.contention_cores == 1.2
    assert adj.resources.contention_cores_max == 1.9

    buf = io.StringIO()
    print_report(doc, Console(file=buf, width=200, color_system=None))
    console = buf.getvalue()
    assert "1.20 ⚠" in console and "contended" in console
    for fmt in ("md", "html"):
        text = str(render(doc, fmt))
        assert "1.20 ⚠" in text and "contended" in text, fmt
    rows = render(doc, "csv")
    assert "contention_cores" in str(rows).splitlines()[0]

    lines = describe(doc.recommendation)
    fastest = next(line for line in lines if line.startswith("Fastest"))
    assert "no winner: unstable (lightning.qubit+adjoint contended); rerun on a quiet node" in fastest

    quiet = SessionSummary()
    for e in quiet_events():
        quiet.apply(e)
    row = next(r for r in compare(document(quiet), doc).combinations
               if "adjoint" in r.combination)
    assert row.reliable is False and row.contended == {"a": False, "b": True}
    assert "no winner: unstable (B contended); rerun on a quiet node" in row_texts(row)["speed"]


def test_the_threshold_scales_with_the_node() -> None:
    assert contended_threshold(2) == 0.5
    assert contended_threshold(128) == 12.8
