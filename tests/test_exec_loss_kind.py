"""A script's Loss says what it is (issue 23, item 8): "Loss = mean loss of the last
epoch" read 0.4372 for a script whose own last epoch was 0.3266, because a script that
marks no epoch (``qtui.epoch()``) is one epoch, the whole run.  Such a run's loss is
now named for what it is, the mean over every step; one that marks its epochs keeps
"last epoch".  Real exec children on tiny PennyLane scripts (test_exec_pennylane)."""

from __future__ import annotations

from pathlib import Path

from cli_in_process import QtuiCli
from test_exec_pennylane import DEMO, _exec

#: DEMO with its epochs marked: two of two steps each.
MARKED = DEMO.replace("import sys\n", "import sys\n\nimport qtui\n", 1).replace(
    '    print(f"cost {float(c):.6f}", flush=True)\n',
    '    print(f"cost {float(c):.6f}", flush=True)\n    if _ % 2 == 1:\n        qtui.epoch()\n',
)


def _md(qtui_cli: QtuiCli, tmp: Path) -> str:
    proc = qtui_cli("report", str(tmp / "s.json"), "-f", "md", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_script_without_epochs_has_its_loss_named_the_mean_over_every_step(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    proc, summary, _ = _exec(qtui_cli, tmp_path, DEMO, args=("4",))
    assert proc.returncode == 0, proc.stderr
    [result] = summary["results"]
    assert result["loss_kind"] == "all_steps", result["loss_kind"]
    assert summary["runs"][0]["script"]["epochs_marked"] is False
    md = _md(qtui_cli, tmp_path)
    assert "mean loss over every step" in md and "mean loss of the last epoch" not in md, md


def test_a_script_that_marks_its_epochs_keeps_the_last_epochs_loss(
    qtui_cli: QtuiCli, tmp_path: Path
) -> None:
    proc, summary, events = _exec(qtui_cli, tmp_path, MARKED, args=("4",))
    assert proc.returncode == 0, proc.stderr
    [result] = summary["results"]
    assert result["loss_kind"] == "last_epoch"
    assert summary["runs"][0]["script"]["epochs_marked"] is True
    losses = [e["loss"] for e in events if e["type"] == "batch"]
    assert summary["runs"][0]["result"]["final_loss"] == sum(losses[2:]) / 2
