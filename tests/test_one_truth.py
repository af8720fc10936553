"""One figure, one string: a summary rendered through every view reads the same.

The summary is folded by the real ``SessionSummary`` from events with known
figures (the issue's example: a peak RSS of 480e6 bytes, which read
``458 MiB``, ``457.8 MiB`` and ``480 MB`` in different views before).  It is
written as a real event log and a real JSON summary, then rendered by every
view that shows results: the console report (``qtui run``/``sweep``), ``qtui
report`` (Markdown, HTML), ``qtui watch --once``, ``qtui compare``, ``qtui
history``, and the TUI's results table, recommendation panel and history
screen.  Each must contain the same strings.
"""

from __future__ import annotations

import html
import io
from typing import Any

import pytest
from rich.console import Console

from qtui.analysis.fold import SessionSummary
from qtui.analysis.recommend import describe
from qtui.analysis.summary_builder import document
from qtui.cli.main import main
from qtui.core import events as ev
from qtui.core import units
from qtui.core.config import RunSpec, WorkloadParams
from qtui.core.summary_schema import Summary
from qtui.report.console_report import print_report

#: (device, method) -> per-repeat (train_s, peak_rss, core_s)
RUNS: dict[tuple[str, str], list[tuple[float, int, float]]] = {
    ("default.qubit", "backprop"): [(2.4, 480_000_000, 2.5), (2.6, 470_000_000, 2.7)],
    ("lightning.qubit", "adjoint"): [(3.9, 300_000_000, 31.0), (4.1, 310_000_000, 33.0)],
}

#: Seconds per phase over the 240 measured steps of every run.
PHASES = {"forward_nn": 0.2, "forward_pennylane": 0.3, "forward_device": 0.7, "backward_nn": 0.1,
          "backward_pennylane": 0.4, "backward_device": 0.6, "other": 0.11}

#: The strings every view must show, as qtui.core.units writes them.
EXPECTED = {
    "backprop mean ± σ": "2.500 s ± 0.141 s",
    "adjoint mean ± σ": "4.000 s ± 0.141 s",
    "backprop peak RSS": "457.8 MiB",
    "adjoint peak RSS": "295.6 MiB",
    "accuracy": "88.0 %",
    "loss": "0.1919",
    "PennyLane forward per step": "1.250 ms (12.4 %)",
    # device truth (qtui.engine.device_truth): the Ran on column and device time per step
    "backprop ran on": "default.qubit (2 wires) · backprop",
    "adjoint ran on": "lightning.qubit (2 wires) · adjoint",
    "device time per step": "2.917 ms",
}

#: Device truth per method: (executions, circuits) per step, seconds inside device calls.
QUANTUM = {"backprop": (1.0, 1.0, 0.7), "adjoint": (1.0, 5.0, 0.7)}


def quantum(device: str, method: str) -> ev.QuantumTruth:
    executions, circuits, seconds = QUANTUM[method]
    return ev.QuantumTruth(
        devices=[ev.DeviceUse(name=device, wires=2, executions=int(240 * executions),
                              circuits=int(240 * circuits))],
        diff_methods=[method], device=device, diff_method=method, executions=int(240 * executions),
        circuits=int(240 * circuits), executions_per_step=executions, circuits_per_step=circuits,
        execute_s=seconds,
    )


def events() -> list[ev.Event]:
    params = WorkloadParams(epochs=6)
    specs = [
        RunSpec(device=d, diff_method=m, params=params, repeat_index=i, run_id=f"{m}-{i}")
        for (d, m), reps in RUNS.items()
        for i in range(len(reps))
    ]
    out: list[ev.Event] = [
        ev.SessionStarted(
            session_id="truth", machine={"hostname": "node1", "cpu_model": "CPU"},
            qtui_version="0.1.0", runs=[s.to_dict() for s in specs], t=1_700_000_000.0,
        )
    ]
    for spec in specs:
        train_s, rss, core_s = RUNS[(spec.device, spec.diff_method)][spec.repeat_index]
        out.append(ev.RunQueued(run_id=spec.run_id, spec=spec.to_dict()))
        out.append(
            ev.RunStarted(run_id=spec.run_id, spec=spec.to_dict(), pid=1, host="node1",
                          versions={"torch": "2.13.0"}, resolved_diff_method=spec.diff_method)
        )
        losses = [0.5108, 0.4007, 0.2492, 0.2128, 0.1894, 0.1919]
        out.append(
            ev.RunFinished(
                run_id=spec.run_id, accuracy=0.88, train_s=train_s, final_loss=losses[-1],
                epoch_losses=losses, steps=240, core_s=core_s, cores_in_use=core_s / train_s,
                core_s_per_step=core_s / 240, peak_rss=rss, peak_threads=9, phases=PHASES,
                quantum=quantum(spec.device, spec.diff_method),
            )
        )
    out.append(ev.SessionFinished(session_id="truth"))
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("truth")
    summary = SessionSummary()
    for e in events():
        summary.apply(e)
    doc = document(summary)
    log = folder / "events.jsonl"
    log.write_text("".join(e.to_json() + "\n" for e in events()), encoding="utf-8")
    js = folder / "summary.json"
    js.write_bytes(doc.dumps())
    return {"doc": doc, "log": log, "json": js, "folder": folder}


def check(view: str, text: str, keys: tuple[str, ...] = tuple(EXPECTED)) -> None:
    missing = [f"{k} ({EXPECTED[k]!r})" for k in keys if EXPECTED[k] not in text]
    assert not missing, f"{view} lacks {missing}:\n{text}"


def recommendation_lines(doc: Summary) -> list[str]:
    lines = describe(doc.recommendation)
    assert lines and any(EXPECTED["backprop mean ± σ"] in line for line in lines), lines
    assert any(EXPECTED["adjoint peak RSS"] in line for line in lines), lines
    return lines


def test_the_expected_strings_are_what_units_writes() -> None:
    assert units.memory(480_000_000) == EXPECTED["backprop peak RSS"]
    assert units.seconds(0.7 / 240) == EXPECTED["device time per step"]
    assert units.device_use("default.qubit", 2) + " · backprop" == EXPECTED["backprop ran on"]
    assert units.mean_sd(2.5, 0.1414213) == EXPECTED["backprop mean ± σ"]


def test_console_report(files: dict[str, Any]) -> None:
    """What ``qtui run`` and ``qtui sweep`` print at the end."""
    for width in (80, 200):
        buf = io.StringIO()
        print_report(files["doc"], Console(file=buf, width=width, color_system=None))
        check(f"console report at {width} columns", buf.getvalue())  # qtui run prints phases too


@pytest.mark.parametrize("source", ["log", "json"])
def test_report_markdown_and_html(
    files: dict[str, Any], source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(files[source]), "--format", "md"]) == 0
    md = capsys.readouterr().out
    check(f"qtui report {source} --format md", md)
    for line in recommendation_lines(files["doc"]):
        assert line in md
    out = files["folder"] / f"report-{source}.html"
    assert main(["report", str(files[source]), "-o", str(out), "--force"]) == 0
    page = html.unescape(out.read_text(encoding="utf-8"))
    check("HTML report", page)
    for line in recommendation_lines(files["doc"]):
        assert line in page


def test_watch_once(
    files: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["watch", "--once", str(files["log"])]) == 0
    check("qtui watch --once", capsys.readouterr().out)


def test_compare(
    files: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["compare", str(files["json"]), str(files["json"])]) == 0
    out = capsys.readouterr().out
    check("qtui compare", out, ("backprop peak RSS", "adjoint peak RSS"))
    assert f"{EXPECTED['backprop mean ± σ']} (n=2)" in out


def test_csv_and_run_detail_say_the_same_device_truth(files: dict[str, Any]) -> None:
    """The CSV's ran_on per run and the TUI's run detail use the results' words."""
    import csv

    from qtui.analysis.fold import SessionSummary
    from qtui.report.export import render
    from qtui.ui.screens.run_detail import run_text

    rows = list(csv.DictReader(io.StringIO(render(files["doc"], "csv"))))
    by_method = {r["parameter_diff_method"]: r for r in rows if r["state"] == "finished"}
    assert by_method["backprop"]["ran_on"] == EXPECTED["backprop ran on"]
    assert by_method["adjoint"]["ran_on"] == EXPECTED["adjoint ran on"]
    assert float(by_method["adjoint"]["circuits_per_step"]) == 5.0
    summary = SessionSummary()
    for e in events():
        summary.apply(e)
    detail = run_text(summary.runs["backprop-0"], "default.qubit+backprop #1", None).plain
    check("TUI run detail", detail, ("backprop ran on", "device time per step"))
