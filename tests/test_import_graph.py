"""No circles and no upward arrows between qtui's modules (issue 8, point 4).

Reads every module's imports with ``ast`` (lazy imports inside functions
included: a circle hidden in a function is still a circle) and checks:

* the graph of qtui-internal imports has no cycle;
* nothing outside ``qtui.commands`` imports ``qtui.commands`` (commands are the
  top: they parse flags and call the rest), except the CLI that registers them;
* the engine never imports the UI, and the UI never imports ``commands``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "qtui"


def _name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def graph() -> dict[str, set[str]]:
    modules = {_name(p): p for p in PKG.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != mod and t.startswith("qtui") and t != "qtui":
                    edges[mod].add(t)
    return edges


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_no_upward_imports() -> None:
    edges = graph()
    for mod, targets in edges.items():
        if not mod.startswith(("qtui.commands", "qtui.cli")):
            assert not any(t.startswith("qtui.commands") for t in targets), (mod, targets)
        if mod.startswith("qtui.engine"):
            assert not any(t.startswith("qtui.ui") for t in targets), (mod, targets)
