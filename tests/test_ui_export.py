"""The TUI's export (issue 10, items 18, 20): each tab's whole content as an SVG,
not the viewport; a documented default folder, never the current directory;
the full path shown after writing."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_ui_data import fixed_caps, session_events

from qtui.core.paths import default_export_folder as default_folder
from qtui.ui.app import QtuiApp
from qtui.ui.screens.export import ExportScreen
from qtui.ui.screens.message import MessageScreen
from qtui.ui.widgets.recommend_panel import RecommendationPanel


def svg_text(path: Path) -> str:
    """The words of a Textual SVG screenshot, one line per terminal line."""
    raw = path.read_text(encoding="utf-8")
    lines: dict[str, list[str]] = {}
    for y, text in re.findall(r'<text [^>]*y="([0-9.]+)"[^>]*>([^<]*)</text>', raw):
        lines.setdefault(y, []).append(html.unescape(text).replace("\xa0", " "))
    return "\n".join("".join(parts) for _, parts in sorted(lines.items(), key=lambda kv: float(kv[0])))


def test_the_default_folder_is_documented_and_never_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QTUI_DATA_DIR", raising=False)
    monkeypatch.delenv("QTUI_EXPORT_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "home" / "Documents"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    # no documents folder (a compute node): qtui's data folder
    folder = default_folder("x")
    assert folder == tmp_path / "home" / ".local" / "share" / "qtui" / "exports" / "qtui-export-x"
    (tmp_path / "home" / "Documents").mkdir(parents=True)
    assert default_folder("x") == tmp_path / "home" / "Documents" / "qtui" / "qtui-export-x"
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
    assert default_folder("x") == tmp_path / "data" / "exports" / "qtui-export-x"
    monkeypatch.setenv("QTUI_EXPORT_DIR", str(tmp_path / "mine"))
    assert default_folder("x") == tmp_path / "mine" / "qtui-export-x"
    assert tmp_path not in default_folder().parents or default_folder().parent != tmp_path


async def test_export_at_80x24_writes_each_tab_whole_and_shows_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
    app = QtuiApp(capabilities=fixed_caps(), events=session_events(), gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause(0.4)
        recommendation = app.query_one(RecommendationPanel).lines[0]
        await pilot.press("e")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ExportScreen)
        offered = Path(app.screen.default_folder)
        assert offered.parent == tmp_path / "data" / "exports"
        await pilot.press("enter")
        for _ in range(200):
            await pilot.pause(0.1)
            if isinstance(app.screen, MessageScreen):
                break
        assert isinstance(app.screen, MessageScreen)
        assert str(offered) in app.screen.title_text  # the full path, after writing
        paths = app.exported
    assert not list(tmp_path.glob("qtui-export-*")), "nothing in the current directory"
    names = {p.name.rsplit("-", 1)[-1] for p in paths if p.suffix == ".svg"}
    assert {"monitor.svg", "results.svg", "warnings.svg", "phases.svg", "sweep.svg"} <= names
    results = svg_text(next(p for p in paths if p.name.endswith("-results.svg")))
    assert "Combination" in results and "Cores" in results  # not scrolled off to the right
    for run_id in ("r1", "r2", "r3"):  # every queue row
        assert re.search(rf"\b{run_id}\b", results), run_id
    flat = " ".join(results.split())
    assert " ".join(recommendation.split())[:60] in flat  # the recommendation from its start
