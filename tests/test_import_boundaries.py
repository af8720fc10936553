"""The UI/CLI process never imports torch or pennylane; the engine never imports Textual."""

from __future__ import annotations

from import_check import loaded, modules_after

UI_SIDE = [
    "qtui.cli.main",
    "qtui.ui.app",
    "qtui.cli.console_session",
    "qtui.session.capabilities",
    "qtui.engine.supervisor",
    "qtui.engine.sampler",
    "qtui.report.export",
    "qtui.report.export.html_export",
    "qtui.store.history_db",
    "qtui.core.logtail",
    "qtui.analysis.fold",
    "qtui.analysis.recommend",
    "qtui.core.sweep",
    "qtui.report.analysis_report",
]
COMMANDS = ["run", "exec", "devices", "sweep", "report", "compare", "history", "watch", "serve"]


def test_ui_and_cli_side_never_import_torch_or_pennylane() -> None:
    mods = modules_after(UI_SIDE + [f"qtui.cli.commands.{c}" for c in COMMANDS])
    assert "textual" in mods  # the check is real: the UI did load
    assert loaded(mods, ["torch", "pennylane"]) == set()


def test_engine_never_imports_textual() -> None:
    mods = modules_after(
        ["qtui.engine.supervisor", "qtui.engine.trainer", "qtui.engine.child", "qtui.engine.forum"]
    )
    assert "torch" in mods and "pennylane" in mods  # forum does import them
    assert loaded(mods, ["textual"]) == set()
