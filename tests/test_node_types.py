"""Node types: a sweep run on a cluster is summarised like a local one, and a crossover
across different machines is not called one (issue 13, items 2 and 5).

Summaries are folded by the real ``SessionSummary`` from events shaped like a SLURM
session's: ``session_started``, ``run_queued``, ``job_state`` (with the node's
``machine_info``), ``run_started``, ``run_finished``.
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.console import Console
from textual.app import App
from textual.widgets import DataTable

from qtui.analysis.fold import SessionSummary
from qtui.analysis.recommend import describe
from qtui.analysis.summary_builder import document
from qtui.cli.main import main
from qtui.core import events as ev
from qtui.core import node_types
from qtui.core.config import RunSpec, WorkloadParams
from qtui.core.summary_schema import Summary
from qtui.report.console_report import print_report
from qtui.report.export import render
from qtui.report.results import build
from qtui.store.loading import validate_summary

AMD = {"hostname": "n1", "cpu_model": "AMD EPYC 7763 64-Core Processor", "logical_cores": 128,
       "physical_cores": 64, "memory_total": 5.0e11}
INTEL = {"hostname": "n9", "cpu_model": "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz",
         "logical_cores": 80, "physical_cores": 40, "memory_total": 3.8e11}
LOGIN = {"hostname": "login1", "cpu_model": "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz",
         "logical_cores": 16}
AMD_LABEL = "AMD EPYC 7763 ×128"
INTEL_LABEL = "Intel Xeon Gold 6148 @ 2.40GHz ×80"

#: (method, qubits) -> per-step seconds of three repeats: backprop is faster at 2
#: qubits, adjoint at 4 (a crossover, with repeats, so the rule has a p-value).
PER_STEP = {
    ("backprop", 2): [0.0100, 0.0102, 0.0099],
    ("adjoint", 2): [0.0200, 0.0203, 0.0198],
    ("backprop", 4): [0.0400, 0.0404, 0.0398],
    ("adjoint", 4): [0.0250, 0.0252, 0.0249],
}
DEVICES = {"backprop": "default.qubit", "adjoint": "lightning.qubit"}
STEPS = 10


def sweep_events(place: Any = None) -> list[ev.Event]:
    """The 2-combination × 2-point sweep, three repeats, as events.

    ``place(method, qubits, repeat)`` -> (node, machine) puts a run on a cluster
    node; ``None`` is a local session.
    """
    specs = [
        RunSpec(device=DEVICES[m], diff_method=m,
                params=WorkloadParams(qubits=q, steps=STEPS, warmup=1, epochs=1),
                repeat_index=i, run_id=f"{m}-{q}-{i}")
        for i in range(3) for (m, q) in PER_STEP
    ]
    out: list[ev.Event] = [ev.SessionStarted(
        session_id="cluster" if place else "local", machine=LOGIN, qtui_version="0.1.0",
        runs=[s.to_dict() for s in specs], t=1_700_000_000.0,
        executor={"name": "slurm", "jobs_dir": "/shared/jobs"} if place else {},
    )]
    for n, spec in enumerate(specs):
        m, q = spec.diff_method, spec.params.qubits
        out.append(ev.RunQueued(run_id=spec.run_id, spec=spec.to_dict()))
        if place:
            node, machine = place(m, q, spec.repeat_index)
            job = {"run_id": spec.run_id, "executor": "slurm", "job_id": "4242",
                   "array_task_id": str(n)}
            out.append(ev.JobState(**job, state="PENDING", reason="Priority"))
            out.append(ev.JobState(**job, state="RUNNING", node=node, machine=machine))
        out.append(ev.RunStarted(run_id=spec.run_id, spec=spec.to_dict(), pid=1,
                                 host="x", versions={"torch": "2.13.0"},
                                 resolved_diff_method=m))
        per_step = PER_STEP[(m, q)][spec.repeat_index]
        out.append(ev.RunFinished(
            run_id=spec.run_id, accuracy=None, train_s=per_step * STEPS, final_loss=0.3,
            epoch_losses=[0.3], steps=STEPS, core_s=per_step * STEPS,
            cores_in_use=1.0, core_s_per_step=per_step, peak_rss=300_000_000, peak_threads=4,
        ))
        if place:
            out.append(ev.JobState(run_id=spec.run_id, executor="slurm", job_id="4242",
                                   array_task_id=str(n), state="COMPLETED"))
    out.append(ev.SessionFinished(session_id="cluster" if place else "local"))
    return out


def fold(events: list[ev.Event]) -> Summary:
    summary = SessionSummary()
    for e in events:
        summary.apply(e)
    return document(summary)


def all_amd(m: str, q: int, i: int) -> tuple[str, dict[str, Any]]:
    return f"n{1 + i}", {**AMD, "hostname": f"n{1 + i}"}


def four_qubits_on_intel(m: str, q: int, i: int) -> tuple[str, dict[str, Any]]:
    return ("n9", INTEL) if q == 4 else all_amd(m, q, i)


def adjoint_at_4_on_intel(m: str, q: int, i: int) -> tuple[str, dict[str, Any]]:
    return ("n9", INTEL) if (m, q) == ("adjoint", 4) else all_amd(m, q, i)


def test_labels() -> None:
    assert node_types.label(AMD) == AMD_LABEL
    assert node_types.label(INTEL) == INTEL_LABEL
    assert node_types.label({}) == "" and node_types.label("x") == ""
    assert node_types.label({"logical_cores": 8}) == "unknown CPU ×8"


def test_a_local_sweep_has_one_node_type_and_no_cluster_fields() -> None:
    doc = fold(sweep_events())
    assert doc.nodes == []
    assert {tuple(r.node_types) for r in doc.results} == {
        (node_types.label(LOGIN),)}
    assert all(r.nodes == [] for r in doc.results)
    assert all(r.executor is None for r in doc.runs)
    assert "node" not in [c.key for c in build(doc).columns]
    assert "executor" not in str(render(doc, "csv")).splitlines()[0]
    assert doc.recommendation is not None and doc.recommendation.node_types == []


def test_one_node_type_gives_the_same_crossovers_as_a_local_sweep() -> None:
    local, cluster = fold(sweep_events()), fold(sweep_events(all_amd))
    lv, cv = (d.sweep["qubits"].verdicts for d in (local, cluster))
    assert [v.verdict for v in cv] == [v.verdict for v in lv] == ["faster", "slower"]
    assert all(v.node_types == [AMD_LABEL] for v in cv)
    assert cluster.sweep["qubits"].crossovers == local.sweep["qubits"].crossovers
    assert cluster.sweep["qubits"].crossovers == [
        "default.qubit+backprop is faster than lightning.qubit+adjoint up to 2 qubits; "
        "from 4 qubits it is slower."
    ]
    assert describe(cluster.recommendation) == describe(local.recommendation)
    # the runs keep where they ran (item 2) and the document lists the node type
    run = next(r for r in cluster.runs if r.run_id == "adjoint-4-2")
    assert (run.executor, run.job_id, run.node, run.job_state) == (
        "slurm", "4242", "n3", "COMPLETED")
    assert run.array_task_id and (run.node_machine or {})["cpu_model"] == AMD["cpu_model"]
    assert msgspec.to_builtins(cluster.nodes) == [{
        "label": AMD_LABEL, "cpu_model": AMD["cpu_model"], "logical_cores": 128,
        "nodes": ["n1", "n2", "n3"], "run_ids": [r.run_id for r in cluster.runs],
    }]
    assert validate_summary(json.loads(cluster.dumps())) == cluster


def test_a_series_across_node_types_is_not_a_crossover() -> None:
    doc = fold(sweep_events(four_qubits_on_intel))
    axis = doc.sweep["qubits"]
    # each point compares like with like, so each verdict stands...
    assert [(v.point, v.verdict, v.node_types) for v in axis.verdicts] == [
        (2, "faster", [AMD_LABEL]), (4, "slower", [INTEL_LABEL])]
    # ...but the change between them is the machines' as much as the qubits'
    text = axis.crossovers
    assert text == [
        "default.qubit+backprop and lightning.qubit+adjoint were measured on different node"
        f" types ({AMD_LABEL}, {INTEL_LABEL}): not a crossover ({AMD_LABEL} at 2 qubits;"
        f" {INTEL_LABEL} at 4 qubits)."
    ]
    assert [d.label for d in doc.nodes] == [AMD_LABEL, INTEL_LABEL]
    assert doc.nodes[1].nodes == ["n9"]


def test_two_sides_on_different_node_types_are_heterogeneous() -> None:
    doc = fold(sweep_events(adjoint_at_4_on_intel))
    axis = doc.sweep["qubits"]
    four = next(v for v in axis.verdicts if v.point == 4)
    assert four.verdict == "heterogeneous"
    assert four.node_types == [AMD_LABEL, INTEL_LABEL]
    assert axis.crossovers == [
        "default.qubit+backprop and lightning.qubit+adjoint were measured on different node"
        f" types ({AMD_LABEL}, {INTEL_LABEL}): not a crossover ({AMD_LABEL} at 2 qubits;"
        " the two sides on different node types at 4 qubits)."
    ]
    assert not any("from 4 qubits" in t for t in axis.crossovers)


def test_the_recommendation_is_per_node_type() -> None:
    doc = fold(sweep_events(four_qubits_on_intel))
    rec = doc.recommendation
    assert rec is not None and rec.fastest is None and rec.groups == []
    assert [t.node_type for t in rec.node_types] == [AMD_LABEL, INTEL_LABEL]
    lines = describe(rec)
    assert any(line.startswith(f"On {AMD_LABEL}: Fastest: default.qubit+backprop")
               for line in lines), lines
    assert any(line.startswith(f"On {INTEL_LABEL}: Fastest: lightning.qubit+adjoint")
               for line in lines), lines
    assert all(line.startswith("On ") for line in lines)
    # a sweep with several points on one node type still groups by parameters within it
    mixed = fold(sweep_events(lambda m, q, i: ("n9", INTEL) if i == 2 else all_amd(m, q, i)))
    lines = describe(mixed.recommendation)
    assert any(line.startswith(f"On {AMD_LABEL} + {INTEL_LABEL}, at qubits=2: Fastest:")
               for line in lines), lines


def table_text(table: DataTable[Any]) -> str:
    return "\n".join(" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count))


@pytest.fixture(scope="module")
def mixed_doc() -> Summary:
    return fold(sweep_events(four_qubits_on_intel))


def test_the_node_column_reads_the_same_in_console_md_html_and_csv(
    mixed_doc: Summary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = build(mixed_doc)
    assert model.columns[-1].key == "node"
    cells = {r.label: r.text("node") for r in model.rows}
    assert sorted(set(cells.values())) == [AMD_LABEL, INTEL_LABEL]
    for width in (80, 200):
        buf = io.StringIO()
        print_report(mixed_doc, Console(file=buf, width=width, color_system=None))
        out = buf.getvalue()
        assert AMD_LABEL in out and INTEL_LABEL in out, out
    md = str(render(mixed_doc, "md"))
    header = next(line for line in md.splitlines() if line.startswith("| Combination"))
    assert header.rstrip(" |").endswith("Node")
    for text in cells.values():
        assert f"| {text} |" in md
    assert (f"- Measured on: {AMD_LABEL}: n1, n2, n3 (6 runs); {INTEL_LABEL}: n9 (6 runs)"
            in md), md
    # CSV: one row per run, its node type is its combination's Node text
    rows = list(csv.DictReader(io.StringIO(str(render(mixed_doc, "csv")))))
    by_run = {row["run_id"]: row for row in rows}
    for r in model.rows:
        for run_id in r.result.run_ids:
            assert by_run[run_id]["node_type"] == r.text("node")
            assert by_run[run_id]["executor"] == "slurm" and by_run[run_id]["job_id"] == "4242"
            assert by_run[run_id]["node"] and by_run[run_id]["array_task_id"]
    # qtui report writes every format from the saved summary
    saved = tmp_path / "cluster.json"
    saved.write_bytes(mixed_doc.dumps())
    for fmt in ("json", "md", "csv", "html"):
        target = tmp_path / f"report.{fmt}"
        assert main(["report", str(saved), "-o", str(target)]) == 0, fmt
        text = target.read_text(encoding="utf-8")
        text = json.dumps(json.loads(text), ensure_ascii=False) if fmt == "json" else text
        text = html.unescape(text)
        assert INTEL_LABEL in text, fmt
        if fmt != "csv":
            assert "not a crossover" in text, fmt
    assert json.loads((tmp_path / "report.json").read_text())["nodes"] == msgspec.to_builtins(
        mixed_doc.nodes)
    capsys.readouterr()


async def test_the_tui_results_table_shows_the_same_node_text(
    mixed_doc: Summary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtui.ui.screens.history import SessionResultsScreen
    from qtui.ui.widgets.results_table import ResultsTable

    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    screen = SessionResultsScreen("cluster", mixed_doc)

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Host().run_test(size=(250, 40)) as pilot:
        await pilot.pause(0.2)
        table = screen.query_one(ResultsTable)
        assert str(table.ordered_columns[-1].label).startswith("Node")
        shown = table_text(table)
    for row in build(mixed_doc).rows:
        line = next(line for line in shown.splitlines() if line.startswith(row.label))
        assert line.endswith(f"| {row.text('node')}"), line


def test_per_node_type_sentences_follow_the_warning() -> None:
    """Two points on each of two node types: each type gets its own sentence."""
    from test_sweep_analysis import repeated

    from qtui.analysis.crossovers import crossovers, series

    results = []
    for q, kind, (a, b) in [(2, AMD_LABEL, (0.010, 0.020)), (4, AMD_LABEL, (0.020, 0.040)),
                            (6, INTEL_LABEL, (0.090, 0.050)), (8, INTEL_LABEL, (0.200, 0.100))]:
        for cmd, t in (("a+backprop", a), ("b+adjoint", b)):
            entry = repeated(cmd, q, [t, t * 1.01, t * 0.99])
            entry.node_types = [kind]
            results.append(entry)
    assert crossovers(series(results, "qubits"), "qubits") == [
        f"a+backprop and b+adjoint were measured on different node types ({AMD_LABEL},"
        f" {INTEL_LABEL}): not a crossover ({AMD_LABEL} at 2, 4 qubits; {INTEL_LABEL} at"
        " 6, 8 qubits).",
        f"On {AMD_LABEL}: a+backprop is faster than b+adjoint at every qubit count measured"
        " (2–4).",
        f"On {INTEL_LABEL}: a+backprop is slower than b+adjoint at every qubit count measured"
        " (6–8).",
    ]


@pytest.mark.parametrize("where, value", [
    (("results", 0, "node_types"), {"a": 1}),
    (("results", 0, "node_types"), [1, None]),
    (("results", 0, "nodes"), "n1"),
    (("runs", 0, "node_machine"), {"logical_cores": "many"}),
    (("runs", 0, "executor"), ["slurm"]),
    (("nodes",), {"label": 3}),
    (("nodes", 0, "label"), None),
    (("recommendation", "node_types"), [{"node_type": ["x"], "fastest": 3}, "junk"]),
])
def test_a_malformed_cluster_field_is_refused_naming_the_field(
    mixed_doc: Summary, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    where: tuple[Any, ...], value: Any,
) -> None:
    doc = mixed_doc.to_builtins()
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    saved = tmp_path / "bad.json"
    saved.write_text(json.dumps(doc), encoding="utf-8")
    # the field's path as the refusal names it: results[0].node_types, nodes, ...
    field = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")
    for fmt in ("md", "csv", "html", "json"):
        target_file = tmp_path / f"out.{fmt}"
        rc = main(["report", str(saved), "-o", str(target_file), "--force"])
        out = capsys.readouterr()
        # refused, in one line naming the field, and nothing written
        assert rc == 2, (fmt, rc, out.err)
        assert out.err.startswith("qtui: error: ") and f'field "{field}' in out.err, out.err
        assert "Traceback" not in out.err + out.out and not target_file.exists()
