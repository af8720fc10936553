"""Threads that fit the node (issue 20, item 4).

A real CPU hog, started by the test and pinned to one of two CPUs the test
allows, runs beside real lightning.qubit runs from a fork server started under
that limit: the run at the libraries' default pool size (2 threads) is flagged
oversubscribed in every view with ``--threads 1``; the same run with
``--threads auto`` is not, and records the 1 it chose.  Then the parts: the
cgroup and SLURM limits read from files and the environment, the one rule,
and the per-combination answer of a sweep over ``--threads``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from warm_executor import close_warm, start_warm

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.analysis.thread_choice import choose
from qtui.core import cpu_fit
from qtui.core import events as ev
from qtui.core.config import THREADS_AUTO, RunSpec
from qtui.core.summary_schema import Resources, Result, RunCount
from qtui.engine import cpu_budget
from qtui.report.console_report import print_report
from qtui.report.export import render
from qtui.store.history_db import HistoryDB
from qtui.ui.screens.run_detail import run_text
from tests.engine_helpers import run_session, tiny

pytestmark = pytest.mark.xdist_group("timing")  # a hog: not beside another worker's timing

HOG = "while True: pass"
#: How long the hog may take to be seen burning its CPU.
HOG_WAIT_S = 20.0


def _cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid``, in clock ticks (``/proc/<pid>/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def _wait_burning(pid: int) -> None:
    """Until the hog has burnt 30 ticks (0.3 s of CPU) since it was first seen."""
    start = _cpu_ticks(pid)
    deadline = time.monotonic() + HOG_WAIT_S
    while _cpu_ticks(pid) - start < 30:
        assert time.monotonic() < deadline, "the hog never got its CPU"
        time.sleep(0.02)  # polling the condition above, not waiting a fixed time


@pytest.fixture(scope="module")
def hogged_session() -> list[ev.Event]:
    """Two lightning runs (default pools, then --threads auto) on 2 CPUs, one of them hogged."""
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this OS")
    saved = os.sched_getaffinity(0)
    if len(saved) < 2:
        pytest.skip("needs 2 CPUs")
    two = set(sorted(saved)[:2])
    os.sched_setaffinity(0, two)  # the fork server and its runs inherit it: a 2-CPU node
    hog = subprocess.Popen([sys.executable, "-c", HOG])
    executor = None
    try:
        os.sched_setaffinity(hog.pid, {min(two)})
        _wait_burning(hog.pid)
        executor = start_warm()
        specs = [
            RunSpec(device="lightning.qubit", diff_method="adjoint", params=tiny(threads=t),
                    run_id=name)
            for name, t in (("default", 0), ("auto", THREADS_AUTO))
        ]
        _, rec = run_session(specs, interval=0.05, executor=executor)
    finally:
        hog.kill()
        hog.wait()
        if executor is not None:
            close_warm(executor)
        os.sched_setaffinity(0, saved)
    return rec.events


def _doc(events: list[ev.Event]):  # type: ignore[no-untyped-def]
    summary = SessionSummary()
    for e in events:
        summary.apply(e)
    return document(summary)


def test_the_default_pool_beside_a_hog_is_oversubscribed_and_auto_fits(
    hogged_session: list[ev.Event],
) -> None:
    doc = _doc(hogged_session)
    runs = {r.run_id: r for r in doc.runs}
    assert {r.state for r in runs.values()} == {"finished"}, [r.error for r in runs.values()]
    default, auto = runs["default"].cpus, runs["auto"].cpus
    assert default is not None and auto is not None
    assert default.usable == 2 and default.affinity == 2
    assert default.busy is not None and default.busy >= 0.5, default  # the hog's core
    assert default.free == 1
    assert default.largest_pool == 2 and default.oversubscribed
    assert auto.threads_auto == 1 and auto.largest_pool == 1
    assert not auto.oversubscribed
    pools = [p["num_threads"] for p in runs["auto"].threadpools]
    assert pools and set(pools) == {1}, runs["auto"].threadpools
    assert runs["auto"].parameters["threads"] == "auto"


def test_the_flag_and_the_choice_reach_every_view(
    hogged_session: list[ev.Event], tmp_path: Path,
) -> None:
    doc = _doc(hogged_session)
    flagged = "oversubscribed (1 run(s)): rerun with --threads 1"
    buf = io.StringIO()
    print_report(doc, Console(file=buf, width=250, color_system=None))
    console = buf.getvalue()
    for name, text in (("console", console), ("md", str(render(doc, "md"))),
                       ("html", str(render(doc, "html")))):
        assert flagged in text, name
        assert "--threads auto chose 1" in text, name
        assert "oversubscribed, rerun with --threads 1" in text, name  # the run's own line
    data = json.loads(str(render(doc, "json")))
    by_id = {r["run_id"]: r for r in data["runs"]}
    assert by_id["default"]["cpus"]["oversubscribed"] is True
    assert by_id["auto"]["cpus"]["threads_auto"] == 1
    csv_lines = str(render(doc, "csv")).splitlines()
    header = csv_lines[0].split(",")
    rows = {line.split(",")[header.index("run_id")]: line.split(",") for line in csv_lines[1:]}
    assert rows["default"][header.index("oversubscribed")] == "true"
    assert rows["default"][header.index("threads_advice")] == "1"
    assert rows["auto"][header.index("threads_auto")] == "1"
    # history: the events stored and folded back give the same flag
    with HistoryDB(tmp_path / "h.sqlite3") as db:
        db.import_events(hogged_session)
        sid = db.sessions()[0]["session_id"]
        again = db.summary(sid)
    assert {r.run_id: r.cpus.oversubscribed for r in again.runs if r.cpus} == {
        "default": True, "auto": False}
    # the TUI's run detail
    summary = SessionSummary()
    for e in hogged_session:
        summary.apply(e)
    detail = run_text(summary.runs["default"], "default", None).plain
    assert "oversubscribed, rerun with --threads 1" in detail


def test_an_explicit_thread_count_is_applied_and_auto_is_recorded_as_chosen() -> None:
    """The budget in this (test) process: what a run records, and what auto picks."""
    b = cpu_budget.measure(THREADS_AUTO, window_s=0.05)
    assert b.usable >= 1 and b.threads == cpu_fit.free_cpus(b.usable, b.busy)
    assert cpu_budget.pool_size(THREADS_AUTO, b) == b.threads
    assert cpu_budget.pool_size(3, b) == 3 and cpu_budget.pool_size(0, b) == 0
    assert cpu_budget.measure(0, window_s=0.05).threads is None


# --- the limits, read from files and the environment ---------------------------------


def _cgroup(tmp_path: Path, proc: str, files: dict[str, str]) -> float | None:
    (tmp_path / "proc").write_text(proc)
    root = tmp_path / "cg"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    root.mkdir(exist_ok=True)
    return cpu_budget.cgroup_quota(tmp_path / "proc", root)


def test_cgroup_v2_quota_is_the_smallest_on_the_path(tmp_path: Path) -> None:
    files = {"a/cpu.max": "300000 100000\n", "a/b/cpu.max": "150000 100000\n"}
    assert _cgroup(tmp_path, "0::/a/b\n", files) == 1.5


def test_cgroup_v2_max_means_no_quota(tmp_path: Path) -> None:
    assert _cgroup(tmp_path, "0::/a\n", {"a/cpu.max": "max 100000\n"}) is None


def test_cgroup_v1_quota_and_no_quota(tmp_path: Path) -> None:
    proc = "4:cpu,cpuacct:/job\n"
    v1 = {"cpu,cpuacct/job/cpu.cfs_quota_us": "200000", "cpu,cpuacct/job/cpu.cfs_period_us": "100000"}
    assert _cgroup(tmp_path, proc, v1) == 2.0
    unlimited = {"cpu,cpuacct/job/cpu.cfs_quota_us": "-1", "cpu,cpuacct/job/cpu.cfs_period_us": "100000"}
    (tmp_path / "unlimited").mkdir()
    assert _cgroup(tmp_path / "unlimited", proc, unlimited) is None


def test_no_cgroup_file_means_no_quota(tmp_path: Path) -> None:
    assert cpu_budget.cgroup_quota(tmp_path / "absent", tmp_path) is None


def test_usable_cpus_is_the_smallest_limit() -> None:
    assert cpu_budget.usable_cpus({0, 1, 2, 3}, None, None) == 4
    assert cpu_budget.usable_cpus({0, 1, 2, 3}, 1.5, None) == 1
    assert cpu_budget.usable_cpus({0, 1, 2, 3}, 8.0, 2) == 2
    assert cpu_budget.usable_cpus({0}, 0.2, None) == 1
    assert cpu_budget.slurm_cpus({"SLURM_CPUS_PER_TASK": "3"}) == 3
    assert cpu_budget.slurm_cpus({"SLURM_CPUS_PER_TASK": "x"}) is None
    assert cpu_budget.slurm_cpus({}) is None


def test_the_rule() -> None:
    assert cpu_fit.free_cpus(2, 0.97) == 1
    assert cpu_fit.free_cpus(2, 0.3) == 2
    assert cpu_fit.free_cpus(2, 2.5) == 1
    assert cpu_fit.free_cpus(16, 1.0) == 15
    fit = cpu_fit.fit({"usable": 2, "busy": 1.0}, [{"num_threads": 2}, {"num_threads": 1}])
    assert fit is not None and fit.oversubscribed and fit.free == 1 and fit.largest_pool == 2
    assert cpu_fit.fit({"usable": 2, "busy": 0.1}, [{"num_threads": 2}]).oversubscribed is False  # type: ignore[union-attr]
    assert cpu_fit.fit(None, [{"num_threads": 64}]) is None  # an older log: no flag
    assert cpu_fit.fit({"usable": 2, "busy": 1.0}, []).oversubscribed is False  # type: ignore[union-attr]


# --- a sweep over --threads: how many each combination should get ----------------------


def _point(combo: str, threads: int, per_step: list[float], core_s: list[float]) -> Result:
    device, _, method = combo.partition("+")
    return Result(
        combo=combo,
        parameters={"device": device, "diff_method": method, "threads": threads, "steps": 10},
        times=[t * 10 for t in per_step], mean=sum(per_step) * 10 / len(per_step),
        time_per_step=sum(per_step) / len(per_step), steps=10,
        resources=Resources(core_s_values=[c * 10 for c in core_s],
                            core_s_per_step=sum(core_s) / len(core_s)),
        runs=RunCount(total=len(per_step), finished=len(per_step)),
    )


def test_a_threads_sweep_names_the_best_count_per_combination() -> None:
    results = [
        _point("lightning.qubit+adjoint", 1, [0.100, 0.101, 0.099], [0.10, 0.10, 0.10]),
        _point("lightning.qubit+adjoint", 2, [0.060, 0.061, 0.059], [0.12, 0.12, 0.12]),
        _point("default.qubit+backprop", 1, [0.050, 0.051], [0.05, 0.05]),
        _point("default.qubit+backprop", 2, [0.050, 0.052], [0.09, 0.10]),
    ]
    choices = {c.combo: c for c in choose(results)}
    light = choices["lightning.qubit+adjoint"]
    assert (light.fastest, light.cheapest) == (2, 1)
    assert "better than 1 thread" in light.fastest_note
    assert "better than 2 threads" in light.cheapest_note
    dq = choices["default.qubit+backprop"]
    assert dq.fastest == 1 and "too few runs to tell (n=2)" in dq.fastest_note
    assert light.sentence.startswith("lightning.qubit+adjoint: best time with 2 threads")
    assert choose(results[:1]) == []  # no threads axis: nothing to say


def test_the_forms_threads_field_takes_auto_alone() -> None:
    from qtui.core.config import ConfigError
    from qtui.ui.widgets.run_form import parse_field

    assert parse_field("sweep_threads", " auto ") == [THREADS_AUTO]
    with pytest.raises(ConfigError, match="auto stands alone"):
        parse_field("sweep_threads", "1,auto")
