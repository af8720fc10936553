"""``qtui exec`` on scripts that do not use torch: PennyLane's own optimizers (issue 23, item 9).

Real exec children running real tiny PennyLane scripts written into ``tmp_path``
(2 qubits, a few steps, the autograd interface), through ``qtui exec`` as a user
runs it (``tests/cli_in_process.py``), read back from the ``--json`` summary and
the ``--events`` log.
"""

from __future__ import annotations

import json
import math
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_in_process import QtuiCli

#: The PennyLane-demo way: autograd, parameter-shift, ``step_and_cost``; it prints its costs.
DEMO = """
import sys

import pennylane as qml
from pennylane import numpy as np

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
dev = qml.device("default.qubit", wires=2)


@qml.qnode(dev, diff_method="parameter-shift")
def cost(params):
    qml.RX(params[0], wires=0)
    qml.RY(params[1], wires=1)
    qml.CNOT(wires=[0, 1])
    return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))


params = np.array([0.1, 0.2], requires_grad=True)
opt = qml.GradientDescentOptimizer(stepsize=0.4)
for _ in range(steps):
    params, c = opt.step_and_cost(cost, params)
    print(f"cost {float(c):.6f}", flush=True)
"""

#: Several optimizers, ``step`` and ``step_and_cost``: QNG's ``step`` calls its own
#: ``step_and_cost`` (one step, not two); ``step`` gives no cost.
MIXED = """
import pennylane as qml
from pennylane import numpy as np

dev = qml.device("default.qubit", wires=2)


@qml.qnode(dev, diff_method="parameter-shift")
def cost(params):
    qml.RX(params[0], wires=0)
    qml.RY(params[1], wires=1)
    qml.CNOT(wires=[0, 1])
    return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))


params = np.array([0.1, 0.2], requires_grad=True)
adam = qml.AdamOptimizer(stepsize=0.1)
for _ in range(2):
    params, c = adam.step_and_cost(cost, params)
    print(f"cost {float(c):.6f}", flush=True)
qng = qml.QNGOptimizer(stepsize=0.1)
params = qng.step(cost, params)
momentum = qml.MomentumOptimizer(stepsize=0.1)
for _ in range(2):
    params = momentum.step(cost, params)
"""

#: Circuits, but no training step: evaluation only.
NO_STEP = """
import pennylane as qml
from pennylane import numpy as np

dev = qml.device("default.qubit", wires=2)


@qml.qnode(dev)
def circuit(x):
    qml.RX(x, wires=0)
    return qml.expval(qml.PauliZ(0))


for x in np.linspace(0.0, 1.0, 3):
    print(float(circuit(x)))
"""

#: Its device is built by class, not ``qml.device``: ``--device`` cannot replace it.
OWN_DEVICE = """
import pennylane as qml
from pennylane import numpy as np

dev = qml.devices.DefaultQubit(wires=2)


@qml.qnode(dev, diff_method="parameter-shift")
def cost(params):
    qml.RX(params[0], wires=0)
    return qml.expval(qml.PauliZ(0))


params = np.array([0.3], requires_grad=True)
opt = qml.GradientDescentOptimizer(stepsize=0.1)
for _ in range(2):
    params, c = opt.step_and_cost(cost, params)
"""


def _exec(
    qtui_cli: QtuiCli, tmp: Path, source: str, *flags: str, args: tuple[str, ...] = ()
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], list[dict[str, Any]]]:
    """``qtui exec FLAGS -- python script.py ARGS`` on ``source`` written into ``tmp``."""
    script = tmp / "script.py"
    script.write_text(textwrap.dedent(source))
    out, log = tmp / "s.json", tmp / "e.jsonl"
    proc = qtui_cli(
        "exec", "--quiet", "--json", str(out), "--events", str(log), "--force", *flags,
        "--", "python", str(script), *args, cwd=tmp,
    )
    summary = json.loads(out.read_text()) if out.exists() else {}
    events = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    return proc, summary, events


def test_step_and_cost_counts_steps_with_the_cost_as_the_loss_and_is_not_foreign(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    proc, summary, events = _exec(qtui_cli, tmp_path, DEMO, args=("5",))
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    assert run["state"] == "finished"
    # Every step_and_cost is a step, its cost the step's loss: the script's own costs.
    batches = [e for e in events if e["type"] == "batch"]
    assert [b["step"] for b in batches] == [1, 2, 3, 4, 5]
    printed = [float(x.split()[1]) for x in run["script"]["stdout_tail"]]
    assert [round(b["loss"], 6) for b in batches] == printed
    assert run["result"]["steps"] == 5
    assert run["script"]["loss_points"] == 5
    # one epoch, the whole run: the mean of its costs
    assert run["result"]["final_loss"] == pytest.approx(sum(printed) / 5, abs=1e-6)
    # Per-step figures are over those steps, not 0.
    q = run["quantum"]
    assert q["executions"] > 0
    assert q["executions_per_step"] == q["executions"] / 5
    assert q["circuits_per_step"] == q["circuits"] / 5
    assert run["result"]["core_s_per_step"] > 0
    [result] = summary["results"]
    assert result["time_per_step"] > 0
    # Nothing was overridden and the script ran what it asked: not foreign, and
    # recorded under what ran.
    assert q["foreign"] is False
    assert q["asked"] == ""
    assert run["asked"] is None
    assert (run["parameters"]["device"], run["parameters"]["diff_method"]) == (
        "default.qubit", "parameter-shift")
    assert result["quantum"]["asked"] == []


def test_each_optimizer_step_counts_once_and_step_alone_gives_no_loss(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    proc, summary, events = _exec(qtui_cli, tmp_path, MIXED)
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    batches = [e for e in events if e["type"] == "batch"]
    # Adam's 2 step_and_cost, QNG's step (its inner step_and_cost is the same step),
    # Momentum's 2 step: 5 steps.
    assert [b["step"] for b in batches] == [1, 2, 3, 4, 5]
    assert run["result"]["steps"] == 5
    printed = [float(x.split()[1]) for x in run["script"]["stdout_tail"]]
    assert [round(b["loss"], 6) for b in batches[:2]] == printed
    # step has no cost: those steps count, with no loss (null, never 0).
    assert [b["loss"] for b in batches[2:]] == [None, None, None]
    assert run["script"]["loss_points"] == 2  # the steps with a loss
    assert run["quantum"]["executions_per_step"] == run["quantum"]["executions"] / 5


def test_a_run_without_a_step_reads_no_per_step_figure_and_says_why(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    proc, summary, events = _exec(qtui_cli, tmp_path, NO_STEP)
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    assert run["state"] == "finished"
    assert not [e for e in events if e["type"] == "batch"]
    assert run["result"]["steps"] == 0
    q = run["quantum"]
    assert q["executions"] == 3  # the circuits ran, and are counted
    why = q["per_step_note"]
    assert "no training step seen" in why and ".backward()" in why and "optimizer" in why
    for field in ("executions_per_step", "circuits_per_step", "states_per_step"):
        assert q[field] is None, field
    assert run["result"]["core_s_per_step"] is None
    [result] = summary["results"]
    assert result["time_per_step"] is None
    assert result["resources"]["core_s_per_step"] is None
    rq = result["quantum"]
    for field in ("executions_per_step", "circuits_per_step", "states_per_step",
                  "execute_s_per_step"):
        assert rq[field] is None, field
    assert rq["per_step_note"] == why
    # The report says so under its device table (one narrative: console, Markdown, HTML).
    assert f"— per step: {why}" in " ".join(proc.stdout.split())
    assert q["foreign"] is False
    assert not math.isnan(run["result"]["train_s"])


def test_a_method_override_the_script_keeps_is_not_foreign(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    proc, summary, _ = _exec(qtui_cli, tmp_path, DEMO, "--diff-method", "adjoint", args=("2",))
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    assert run["quantum"]["diff_method"] == "adjoint"
    assert run["quantum"]["foreign"] is False
    assert run["asked"] is None
    assert (run["parameters"]["device"], run["parameters"]["diff_method"]) == (
        "default.qubit", "adjoint")


def test_a_device_override_the_script_escapes_is_foreign(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    # Refused without --allow-foreign-device ...
    proc, summary, _ = _exec(qtui_cli, tmp_path, OWN_DEVICE, "--device", "lightning.qubit")
    [run] = summary["runs"]
    assert run["state"] == "failed", proc.stderr
    assert run["error"]["exc_type"] == "ForeignDevice"
    # ... recorded under what ran with it, and foreign.
    proc, summary, _ = _exec(qtui_cli, tmp_path, OWN_DEVICE, "--device", "lightning.qubit",
                             "--allow-foreign-device")
    assert proc.returncode == 0, proc.stderr
    [run] = summary["runs"]
    q = run["quantum"]
    assert q["foreign"] is True
    assert q["device"] == "default.qubit"
    assert q["asked"].startswith("lightning.qubit+")
    assert run["asked"]["device"] == "lightning.qubit"
    assert run["parameters"]["device"] == "default.qubit"
    assert run["result"]["steps"] == 2
