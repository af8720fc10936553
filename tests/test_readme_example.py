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
    # schema v2 names a combination "combo"; v1 called it "command"
    assert [r.get("combo") or r.get("command") for r in data["results"]] == [
        "default.qubit+backprop",
        "default.qubit+adjoint",
    ]
    for r in data["results"]:
        assert r["steps"] == 15  # 150 samples // batch 10
        assert 0.0 <= r["accuracy"] <= 1.0
        assert r["parameters"]["workload"] == "readme_workload:build"
        assert r["phases"]["forward_device"] > 0


def test_readme_is_short_and_its_doc_links_resolve() -> None:
    """Issue 18: at most 300 lines; the reference lives in docs/, every file linked."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    links = set(re.findall(r"\]\((docs/[^)#]+)", text))
    for link in links:
        assert (REPO / link).is_file(), link
    for doc in (REPO / "docs").glob("*.md"):
        assert f"docs/{doc.name}" in links, f"README does not link docs/{doc.name}"


def test_every_flag_is_in_docs_cli() -> None:
    """Every option of every subcommand (and of ``qtui`` itself) appears in docs/CLI.md."""
    import argparse

    from qtui.cli.main import build_parser

    cli = (REPO / "docs" / "CLI.md").read_text(encoding="utf-8")
    parser = build_parser()
    parsers = [("qtui", parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += [(f"qtui {name}", p) for name, p in action.choices.items()]
    missing = []
    for name, p in parsers:
        assert name == "qtui" or f"`{name}" in cli, name
        for action in p._actions:
            for flag in action.option_strings:
                if f"`{flag}" not in cli and f", {flag}" not in cli:
                    missing.append(f"{name} {flag}")
    assert not missing, missing


def test_docs_workload_snippets_are_lines_of_the_tested_workloads() -> None:
    """docs/WORKLOADS.md's optional-field snippets, like the README's, are lines of rich.py."""
    text = (REPO / "docs" / "WORKLOADS.md").read_text(encoding="utf-8")
    section = text.split("## Optional fields", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 7
    source = {line.strip() for line in (REPO / "tests/workloads/rich.py").read_text().splitlines()}
    for block in blocks:
        for line in block.splitlines():
            assert not line.strip() or line.strip() in source, line
