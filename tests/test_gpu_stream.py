"""GPU figures travel in the event stream and reach every view (issue 8, point 8).

The engine side (NVML read by the sampler, a fake NVML) is tested in
tests/test_sampler.py and the TUI panel in tests/test_ui_gpu.py; here the
events a GPU run produces are folded and rendered: the summary, every export,
the console report, ``watch`` and history.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rich.console import Console

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.cli.main import main
from qtui.core import events as ev
from qtui.core import units
from qtui.core.config import RunSpec, WorkloadParams
from qtui.report.console_report import print_report
from qtui.report.export import render
from qtui.store.history_db import HistoryDB

GPU_PEAK = 3 * 1024**3 + 123 * 1024**2


def gpu_events() -> list[ev.Event]:
    spec = RunSpec(device="default.qubit", diff_method="backprop",
                   params=WorkloadParams(epochs=1), run_id="g1")
    return [
        ev.SessionStarted(session_id="gpu", machine={}, qtui_version="0.1.0",
                          runs=[spec.to_dict()]),
        ev.RunStarted(run_id="g1", spec=spec.to_dict(), pid=1, host="h", versions={}),
        ev.Sample(run_id="g1", percpu=[10.0], rss=1, peak_rss=1, threads=1, peak_threads=1,
                  cpu_s=0.1, wall_s=1.0, cores_in_use=0.1, gpu_util=[87.0],
                  gpu_mem_used=[GPU_PEAK], gpu_mem_total=[16 * 1024**3], run_gpu_mem=GPU_PEAK),
        ev.RunFinished(run_id="g1", accuracy=0.5, train_s=1.0, final_loss=0.3, epoch_losses=[0.3],
                       steps=4, core_s=1.0, cores_in_use=1.0, core_s_per_step=0.25,
                       peak_rss=10**8, peak_threads=4, gpu_util_mean=87.0, gpu_mem_peak=GPU_PEAK,
                       gpu_mem_scope="run"),
        ev.SessionFinished(session_id="gpu"),
    ]


def test_gpu_figures_reach_summary_exports_console_watch_and_history(tmp_path: Path) -> None:
    summary = SessionSummary()
    for e in gpu_events():
        summary.apply(e)
    doc = document(summary)
    res = doc.results[0].resources
    assert res.gpu_mem_peak_bytes == GPU_PEAK and res.gpu_util_mean == 87.0
    assert res.gpu_mem_scope == "run"
    mem, util = units.memory(GPU_PEAK), "87.0 %"

    md = render(doc, "md")
    assert isinstance(md, str) and "GPU mem" in md and mem in md and util in md
    rows = list(csv.DictReader(io.StringIO(str(render(doc, "csv")))))
    assert rows[0]["gpu_mem_peak_bytes"] == str(GPU_PEAK) and rows[0]["gpu_mem_scope"] == "run"
    buf = io.StringIO()
    print_report(doc, Console(file=buf, width=200, color_system=None))
    assert mem in buf.getvalue() and util in buf.getvalue()

    log = tmp_path / "gpu.jsonl"
    log.write_bytes(b"".join(ev.encoded(e) + b"\n" for e in gpu_events()))
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "qtui", "watch", "--no-tui", str(log)],
        capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "COLUMNS": "200"},
    ).stdout
    assert f"GPU0 87.0 % {mem}" in out and f"run GPU mem {mem}" in out  # live sample line
    assert "GPU mem" in out  # the results table

    db_path = tmp_path / "h.sqlite3"
    assert main(["history", "--db", str(db_path), "--import", str(log)]) == 0
    with HistoryDB(db_path) as db:
        past = db.summary("gpu")
    assert past.results[0].resources.gpu_mem_peak_bytes == GPU_PEAK
    assert json.loads(past.dumps())  # serialisable as exported
