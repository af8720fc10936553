"""Deleting a session removes its ``qtui exec`` output folder too (issue 23, "History
you can work with"): ``qtui history ID --delete`` and the app's history ``d`` removed the
rows and left ``<data folder>/outputs/<session id>/``, the script's whole output.

Only that session's folder goes, and only a real folder directly in the outputs folder:
another session's folder, a file beside them, what a symlink inside points to, and a
symlink in the folder's place (with what it points to) all stay.  The question asked
first names the folder and what it holds.

The session is a real ``qtui exec`` child on the suite's warm fork server, recorded in
the history of its own data folder; the app is the real one through ``App.run_test()``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from engine_helpers import child_env
from test_ui_data import fixed_caps
from ui_helpers import burst, settle

from qtui.cli.main import main
from qtui.engine.forkserver import ProcessExecutor
from qtui.store import session_outputs
from qtui.store.history_db import HistoryDB
from qtui.ui.app import QtuiApp
from qtui.ui.screens.confirm import ConfirmScreen
from qtui.ui.screens.history import HistoryScreen

SCRIPT = """\
import sys
print("epoch 1: loss 0.6050 acc 0.842")
print("a note on stderr", file=sys.stderr)
"""


def _rows(db: Path, sid: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return sum(
            conn.execute(f"SELECT COUNT(*) FROM {t} WHERE session_id = ?", (sid,)).fetchone()[0]
            for t in ("sessions", "runs", "events")
        )
    finally:
        conn.close()


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and not p.is_symlink())


@pytest.fixture
def exec_session(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
    warm_executor: ProcessExecutor, tmp_path: Path,
) -> tuple[Path, str, Path]:
    """A real ``qtui exec -- train.py`` recorded in the history of ``tmp_path/data``:
    (the data folder, the session id, its output folder)."""
    base = child_env()
    for name in ("PYTHONPATH", "NO_COLOR"):
        monkeypatch.setenv(name, base[name])
    data = tmp_path / "data"
    monkeypatch.setenv("QTUI_DATA_DIR", str(data))
    monkeypatch.delenv("QTUI_NO_HISTORY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(SCRIPT)
    code = main(["exec", "--json", "s.json", "--force", "--", "train.py"], executor=warm_executor)
    out, err = capfd.readouterr()
    assert code == 0, err[-2000:]
    summary = json.loads((tmp_path / "s.json").read_text())
    sid = str(summary["session_id"])
    [run] = summary["runs"]
    folder = data / "outputs" / sid
    assert sorted(p.name for p in folder.iterdir()) == [f"{run['run_id']}.stderr", f"{run['run_id']}.stdout"]
    assert _rows(data / "history.sqlite3", sid) > 0
    return data, sid, folder


def _cli(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capfd.readouterr()
    code = main(list(argv))
    return code, capfd.readouterr().err


def test_delete_removes_the_sessions_output_folder_and_only_it(
    exec_session: tuple[Path, str, Path], capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data, sid, folder = exec_session
    other = data / "outputs" / "0123456789ab"  # another session's output
    other.mkdir()
    (other / "r1.stdout").write_text("kept\n")
    (data / "outputs" / "notes.txt").write_text("kept\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("kept\n")
    (folder / "link").symlink_to(outside)  # a link inside the folder: the link goes, not its target
    size = _bytes(folder)

    code, err = _cli(capfd, "history", sid, "--delete")  # no terminal: refused, and says what would go
    assert code == 2
    assert f"Delete session {sid} (1 runs) and its script output folder {folder}/ (3 files, {size:,} bytes)?" \
        in err, err
    assert folder.is_dir()

    events = _rows(data / "history.sqlite3", sid) - 2  # its session row and run row
    code, err = _cli(capfd, "history", sid[:8], "--delete", "--yes")
    assert code == 0, err
    assert err.splitlines() == [
        f"Deleted session {sid} (1 runs, {events} events). Removed its script output folder "
        f"{folder}/ (3 files, {size:,} bytes)."
    ]
    assert not os.path.lexists(folder)
    assert _rows(data / "history.sqlite3", sid) == 0
    assert (other / "r1.stdout").read_text() == "kept\n"
    assert (data / "outputs" / "notes.txt").read_text() == "kept\n"
    assert (outside / "precious.txt").read_text() == "kept\n"


def test_a_symlink_in_the_folders_place_is_left_with_what_it_points_to(
    exec_session: tuple[Path, str, Path], capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data, sid, folder = exec_session
    moved = tmp_path / "elsewhere"
    folder.rename(moved)
    folder.symlink_to(moved)
    kept = sorted(p.name for p in moved.iterdir())

    code, err = _cli(capfd, "history", sid, "--delete")
    assert code == 2
    assert f"Delete session {sid} (1 runs) ({folder} is a symlink: it is left, and what it points to)?" \
        in err, err
    code, err = _cli(capfd, "history", sid, "--delete", "--yes")
    assert code == 0, err
    assert err.rstrip().endswith(
        f"Its script output: {folder} is a symlink: it is left, and what it points to."
    ), err
    assert folder.is_symlink() and sorted(p.name for p in moved.iterdir()) == kept
    assert _rows(data / "history.sqlite3", sid) == 0


@pytest.mark.parametrize("sid", ["..", ".", "", "../outside", "a/b"])
def test_an_id_that_is_not_a_plain_name_names_no_folder(
    sid: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data folder itself (``outputs/..``) and folders beside it are never a
    session's output folder, whatever the id read from a database says."""
    data = tmp_path / "data"
    (data / "outputs" / "a" / "b").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    monkeypatch.setenv("QTUI_DATA_DIR", str(data))
    found = session_outputs.find(sid)
    assert (found.path, found.folder) == (None, False)
    assert session_outputs.remove(found) == ("", False)
    assert (data / "outputs" / "a" / "b").is_dir() and (tmp_path / "outside").is_dir()


async def test_the_apps_history_d_asks_naming_the_folder_then_removes_it(
    exec_session: tuple[Path, str, Path],
) -> None:
    """``h`` then ``d``: the question names the folder; ``y`` deletes the session and
    the folder, and says so."""
    data, sid, folder = exec_session
    size = _bytes(folder)
    db = data / "history.sqlite3"
    app = QtuiApp(capabilities=fixed_caps(), gpu=False, record_history=False,
                  persist_theme=False, history_factory=lambda: HistoryDB(db))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "h", "d")
        assert isinstance(app.screen, ConfirmScreen), app.screen
        assert app.screen.question == (
            f"Delete session {sid} (1 runs) and its script output folder {folder}/ "
            f"(2 files, {size:,} bytes)?"
        )
        await burst(pilot, "y")
        assert isinstance(app.screen, HistoryScreen)
        assert not os.path.lexists(folder) and _rows(db, sid) == 0
        assert app.screen.sessions == []
        said = [n.message for n in app._notifications]
        assert any(f"Removed its script output folder {folder}/" in m for m in said), said
