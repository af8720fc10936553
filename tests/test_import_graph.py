"""qtui's layers, enforced: no circle, and no package imports one above it (issue 18).

The order, bottom to top (``docs/ARCHITECTURE.md`` says what each holds)::

    core < engine < cluster < analysis < report < store < session < ui < cli

A module may import its own package and any package to its left.  ``ui`` and
``cli`` are both front ends; ``cli`` sits above because ``qtui`` with no
subcommand (and ``qtui watch``) launches the app, while the app never reaches
into the command line.  The package root's
``script_api`` (the public ``qtui.log`` / ``qtui.epoch``) counts as ``core``,
and ``qtui/__main__.py`` as ``cli``.

Imports are read with ``ast``, lazy ones inside functions included: a circle
or an upward arrow hidden in a function is still one.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "qtui"

LAYERS = ["core", "engine", "cluster", "analysis", "report", "store", "session", "ui", "cli"]
ROOT_MODULES = {"qtui": "core", "qtui.script_api": "core", "qtui.__main__": "cli"}


def _name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def graph() -> dict[str, set[str]]:
    """Module -> the qtui modules it imports (anywhere in its body)."""
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


def package_of(module: str) -> str:
    """``qtui.analysis.fold`` -> ``analysis``; the root's modules by ``ROOT_MODULES``."""
    if module in ROOT_MODULES:
        return ROOT_MODULES[module]
    return module.split(".")[1]


def rank(package: str) -> int:
    return LAYERS.index(package)


def test_the_root_holds_only_the_entry_points_and_the_script_api() -> None:
    loose = sorted(p.name for p in PKG.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "script_api.py"]
    packages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS)


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycle = stack[stack.index(n) :] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_no_package_imports_one_above_it() -> None:
    against = sorted(
        f"{mod} -> {t}"
        for mod, targets in graph().items()
        for t in targets
        if rank(package_of(t)) > rank(package_of(mod))
    )
    assert against == []
