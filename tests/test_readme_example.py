"""The README's custom-workload example runs as shown, through the real CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from engine_helpers import REPO, child_env


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your own model", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "the README lost its workload example"
    return str(blocks[0])


def test_readme_example_matches_examples_folder() -> None:
    code = readme_example()
    assert code.strip() in (REPO / "examples" / "my_workload.py").read_text(encoding="utf-8")


def test_readme_example_runs(tmp_path: Path) -> None:
    (tmp_path / "readme_workload.py").write_text(readme_example(), encoding="utf-8")
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "qtui", "run", "--workload", "readme_workload:build",
            "--device", "default.qubit", "--diff-method", "backprop,adjoint",
            "--epochs", "1", "--samples", "150", "--batch-size", "10", "--lr", "0.05",
            "--json", str(out),
        ],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert [r["command"] for r in data["results"]] == [
        "default.qubit+backprop",
        "default.qubit+adjoint",
    ]
    for r in data["results"]:
        assert r["steps"] == 15  # 150 samples // batch 10
        assert 0.0 <= r["accuracy"] <= 1.0
        assert r["parameters"]["workload"] == "readme_workload:build"
        assert r["phases"]["forward_quantum"] > 0
