"""qtui's device counts agree with PennyLane's own ``qml.Tracker`` (issue 20, item 2).

Real runs of the forum model through the real supervisor and child (1 epoch,
batches of 5, 4 steps, no warm-up): the workload (``workloads.tracker``) puts
a ``qml.Tracker`` on its quantum layer's device for the whole training and
reports the tracker's totals as metrics, so qtui's ``run_finished.quantum`` and
the tracker describe the same steps.  The mapping (``qtui.core.device_counts``):
qtui's device calls are the tracker's ``batches`` plus its derivative batches,
its circuits the tracker's ``simulations`` plus the circuits of derivative
calls, its states the tracker's ``executions``.  On ``lightning.qubit`` the
tracker counts every derivative call twice, so qtui is compared there with a
counter on the device's own methods, and the tracker's double count is shown.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import child_env, run_session, tiny
from rich.console import Console
from warm_executor import assert_no_runs_left

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.cli.main import main
from qtui.core import device_counts, units
from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.report import results
from qtui.report.console_report import print_report
from qtui.report.export import render
from qtui.ui.screens.run_detail import run_text

TRACKED = "workloads.tracker:tracked"
COUNTED = "workloads.tracker:counted"
DEAD = "workloads.tracker:dead_rows"
STEPS = 4  # tiny(): 20 samples in batches of 5, one epoch
DERIVATIVE_BATCHES = (
    "derivative_batches", "execute_and_derivative_batches", "vjp_batches",
    "execute_and_vjp_batches", "jvp_batches", "execute_and_jvp_batches",
)


@pytest.fixture
def _env(monkeypatch: pytest.MonkeyPatch, warm_executor: ProcessExecutor) -> Iterator[None]:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_runs_left(warm_executor)


def _runs(device: str, methods: tuple[str, ...], workload: str,
          executor: ProcessExecutor) -> dict[str, ev.RunFinished]:
    specs = [RunSpec(device, m, tiny(workload=workload)) for m in methods]
    sup, rec = run_session(specs, executor=executor)
    out = {}
    for spec in sup.specs:
        fin = rec.terminal(spec.run_id)
        assert isinstance(fin, ev.RunFinished), fin
        assert fin.quantum is not None and fin.quantum.diff_methods == [spec.diff_method]
        assert fin.steps == STEPS
        out[spec.diff_method] = fin
    return out


def _metrics(fin: ev.RunFinished, prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): int(m.value or 0) for k, m in fin.metrics.items()
            if k.startswith(prefix)}


@pytest.mark.usefixtures("_env")
def test_default_qubit_counts_are_the_trackers_for_all_four_methods(
    warm_executor: ProcessExecutor
) -> None:
    methods = ("backprop", "adjoint", "parameter-shift", "finite-diff")
    fins = _runs("default.qubit", methods, TRACKED, warm_executor)
    seen = {}
    for method, fin in fins.items():
        q, t = fin.quantum, _metrics(fin, "tracker_")
        assert q is not None
        calls = t.get("batches", 0) + sum(t.get(k, 0) for k in DERIVATIVE_BATCHES)
        circuits = t.get("simulations", 0) + sum(t.get(k, 0) for k in ("derivatives", "vjps", "jvps"))
        assert (q.executions, q.circuits, q.states) == (calls, circuits, t["executions"]), (method, t)
        assert q.states is not None and q.states_per_step == q.states / STEPS  # as the views show
        ((name, wires, dev),) = [(d.name, d.wires, d) for d in q.devices]
        assert (name, wires, dev.states) == ("default.qubit", 2, q.states)
        seen[method] = (q.executions_per_step, q.circuits_per_step, q.states_per_step, t)
    # what each method costs on this model, in the tracker's words
    bp, adj, ps, fd = (seen[m] for m in methods)
    assert bp[:3] == (1, 1, 5)  # one broadcast tape of 5 a step: 1 batch, 1 simulation, 5 executions
    assert bp[3]["batches"] == STEPS and bp[3]["simulations"] == STEPS
    assert adj[:3] == (1, 5, 5)  # the batch split by the device, one combined derivative call
    assert "batches" not in adj[3] and adj[3]["execute_and_derivative_batches"] == STEPS
    # the batch split into 5 tapes; then per tape parameter-shift's 2 shifts x 4 parameters,
    # finite-diff's 4 shifts and the unshifted tape (no ReLU row is dead in these 4 steps)
    assert ps[:3] == (2, 45, 45)
    assert fd[:3] == (2, 30, 30)


@pytest.mark.usefixtures("_env")
def test_a_dead_relu_row_costs_no_shifted_circuits(warm_executor: ProcessExecutor) -> None:
    """Where 45 is expected and fewer are counted: a sample whose gradient at the quantum
    layer is all zero (every ReLU after it off) gets no shifted circuits, because
    PennyLane's VJP skips a tape whose cotangent is zero.  Here every row is dead: only
    the forward runs, and the tracker sees the same."""
    fin = _runs("default.qubit", ("parameter-shift",), DEAD, warm_executor)["parameter-shift"]
    q, t = fin.quantum, _metrics(fin, "tracker_")
    assert q is not None
    assert (q.executions_per_step, q.circuits_per_step, q.states_per_step) == (1, 5, 5)
    assert (t["batches"], t["simulations"], t["executions"]) == (q.executions, q.circuits, q.states)


@pytest.mark.usefixtures("_env")
def test_lightning_counts_are_the_devices_own_and_the_tracker_counts_derivatives_twice(
    warm_executor: ProcessExecutor
) -> None:
    fins = _runs("lightning.qubit", ("adjoint", "parameter-shift"), COUNTED, warm_executor)
    for method, fin in fins.items():
        q, c, t = fin.quantum, _metrics(fin, "counter_"), _metrics(fin, "tracker_")
        assert q is not None
        assert (q.executions, q.circuits, q.states) == (c["calls"], c["circuits"], c["states"]), method
        if method == "parameter-shift":  # only execute calls: the tracker agrees
            assert (t["batches"], t["simulations"], t["executions"]) == (q.executions, q.circuits, q.states)
    adj = fins["adjoint"].quantum
    t = _metrics(fins["adjoint"], "tracker_")
    assert adj is not None and adj.executions == STEPS and adj.circuits == 5 * STEPS
    # LightningQubit and LightningBase both carry @simulator_tracking: every derivative
    # call is counted twice by the tracker
    assert t["execute_and_derivative_batches"] == 2 * adj.executions
    assert t["executions"] == t["derivatives"] == 2 * adj.circuits


def _events() -> list[ev.Event]:
    """A parameter-shift run and an old one (a qtui that did not count states)."""
    spec = RunSpec("default.qubit", "parameter-shift", tiny(), run_id="ps-0")
    old = RunSpec("default.qubit", "backprop", tiny(), run_id="bp-0")
    out: list[ev.Event] = [ev.SessionStarted(session_id="words", machine={"hostname": "n"},
                                             qtui_version="0.1.0",
                                             runs=[spec.to_dict(), old.to_dict()], t=1.7e9)]
    quanta = {
        "ps-0": ev.QuantumTruth(
            devices=[ev.DeviceUse(name="default.qubit", wires=2, executions=480, circuits=8168,
                                  states=8168)],
            diff_methods=["parameter-shift"], device="default.qubit", diff_method="parameter-shift",
            executions=480, circuits=8168, states=8168, executions_per_step=2.0,
            circuits_per_step=8168 / 240, states_per_step=8168 / 240, execute_s=4.3),
        "bp-0": ev.QuantumTruth(
            devices=[ev.DeviceUse(name="default.qubit", wires=2, executions=240, circuits=240)],
            diff_methods=["backprop"], device="default.qubit", diff_method="backprop",
            executions=240, circuits=240, executions_per_step=1.0, circuits_per_step=1.0,
            execute_s=0.4),
    }
    for s in (spec, old):
        out += [ev.RunQueued(run_id=s.run_id, spec=s.to_dict()),
                ev.RunStarted(run_id=s.run_id, spec=s.to_dict(), pid=1, host="n", versions={}),
                ev.RunFinished(run_id=s.run_id, accuracy=0.88, train_s=6.0, final_loss=0.2,
                               epoch_losses=[0.2], steps=240, core_s=6.0, cores_in_use=1.0,
                               core_s_per_step=0.025, peak_rss=1, peak_threads=1,
                               quantum=quanta[s.run_id])]
    return [*out, ev.SessionFinished(session_id="words")]


def test_every_view_names_the_counts_in_the_trackers_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Console report, Markdown, HTML, ``qtui watch``, the TUI's results table (its
    columns are the model's) and run detail, and the CSV: the same words, from
    ``qtui.core.device_counts``; a run that did not count states shows none."""
    summary = SessionSummary()
    for e in _events():
        summary.apply(e)
    doc = document(summary)
    log = tmp_path / "events.jsonl"
    log.write_text("".join(e.to_json() + "\n" for e in _events()), encoding="utf-8")
    legend = device_counts.legend()
    buf = io.StringIO()
    print_report(doc, Console(file=buf, width=300, color_system=None))
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["watch", "--once", str(log)]) == 0
    views = {
        "console": buf.getvalue(),
        "watch": capsys.readouterr().out,
        "md": str(render(doc, "md")),
        "html": html.unescape(str(render(doc, "html"))),
    }
    for view, text in views.items():
        flat = " ".join(text.split())
        for c, line in zip(device_counts.COUNTS, legend, strict=True):
            assert c.title in flat and line in flat, (view, c.title, text)
    model = results.build(doc)
    assert [c.title for c in model.columns if c.key in ("executions", "circuits", "states")] == [
        "Calls/step (batches)", "Circuits/step (simulations)", "States/step (executions)"]
    texts = {r.label: [r.text(c.key) for c in device_counts.COUNTS] for r in model.rows}
    assert texts == {"default.qubit+parameter-shift": ["2", "34.0", "34.0"],
                     "default.qubit+backprop": ["1", "1", units.MISSING]}
    rows = {r["run_id"]: r for r in csv.DictReader(io.StringIO(str(render(doc, "csv"))))}
    assert float(rows["ps-0"]["states_per_step"]) == 8168 / 240
    assert rows["bp-0"]["states_per_step"] == ""  # not counted, not 0
    detail = run_text(summary.runs["ps-0"], "default.qubit+parameter-shift #1", None).plain
    assert "device calls 2 (batches) · circuits 34.0 (simulations) · states 34.0 (executions)" in detail


def test_every_count_names_its_tracker_word() -> None:
    """The one place the words live: each qtui count maps to a tracker total, and the
    legend every report prints says so."""
    assert [(c.field, c.tracker) for c in device_counts.COUNTS] == [
        ("executions_per_step", "batches"),
        ("circuits_per_step", "simulations"),
        ("states_per_step", "executions"),
    ]
    for c, line in zip(device_counts.COUNTS, device_counts.legend(), strict=True):
        assert line.startswith(f"{c.title} = ") and f"qml.Tracker's {c.tracker}" in line
        assert f"({c.tracker})" in c.title
