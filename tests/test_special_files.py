"""Special files are never written over, read from, or waited on (issue 21, item 1).

A device node (``os.mknod``, as root: the same major/minor as ``/dev/null`` and
``/dev/zero``) and a FIFO are planted in a folder, and the real ``python -m qtui``
writers (``run``/``sweep``/``exec --json``/``--events``, ``report -o``) and readers
(``report``, ``compare``, ``watch --once``, ``watch``, ``history --import``) are
pointed at them with ``--force``.  Each must answer exit 2 with one line, in a
child that a time limit would kill if it blocked, and leave the node as it was:
the same type, inode and device number.  The library's own writers (the atomic
export writer, the TUI's export folder, the ``--events`` log) are tried too.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import child_env

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.core.paths import MAX_READ_BYTES, FileRefused, open_output_file, read_regular
from qtui.report.export import ExportError, default_stem, write_all, write_summary

ROOT = os.geteuid() == 0
SCRIPT = str(Path(__file__).resolve().parent / "scripts" / "hybrid_train.py")
#: A refusal happens before anything is imported that takes long; a blocked reader
#: or writer would sit here until killed.
LIMIT_S = 60


def identity(path: Path) -> tuple[int, int, int, int]:
    """What must not change: the file type, inode, device number and mode."""
    st = os.lstat(path)
    return (stat.S_IFMT(st.st_mode), st.st_ino, st.st_rdev, st.st_mode)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A FIFO always; as root, a character device like /dev/null and one like /dev/zero."""
    found = {"fifo": tmp_path / "fifo"}
    os.mkfifo(found["fifo"])
    if ROOT:
        found["null"] = tmp_path / "null"
        os.mknod(found["null"], 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        found["zero"] = tmp_path / "zero"
        os.mknod(found["zero"], 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    (tmp_path / "good.json").write_text(json.dumps(document(SessionSummary()).to_builtins()))
    yield found


def qtui(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m qtui ARGV`` in ``cwd``; a child that outlives the limit blocked."""
    env = child_env()
    env["QTUI_DATA_DIR"] = str(cwd / "data")
    try:
        return subprocess.run(
            [sys.executable, "-m", "qtui", *argv], cwd=cwd, env=env, capture_output=True,
            text=True, timeout=LIMIT_S, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"qtui {' '.join(argv)} blocked for {LIMIT_S} s")


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("qtui: error:"), lines
    assert result.stdout == ""
    for word in words:
        assert word in lines[0], lines[0]


KIND = {"fifo": "FIFO", "null": "character device", "zero": "character device"}

WRITERS = [
    ("run", "--json", "{p}", "--force"),
    ("run", "--events", "{p}", "--force"),
    ("sweep", "--json", "{p}", "--force"),
    ("exec", "--json", "{p}", "--force", "--", SCRIPT),
    ("exec", "--events", "{p}", "--force", "--", SCRIPT),
    ("report", "good.json", "-o", "{p}", "-f", "json", "--force"),
    ("report", "good.json", "-o", "{p}", "-f", "md"),
]

READERS = [
    ("report", "{p}"),
    ("compare", "{p}", "good.json"),
    ("compare", "good.json", "{p}"),
    ("watch", "--once", "{p}"),
    ("watch", "--no-tui", "{p}"),
    ("history", "--db", "h.db", "--import", "{p}"),
]


def _nodes_for_test() -> list[str]:
    return ["fifo", "null", "zero"] if ROOT else ["fifo"]


def _argv(template: tuple[str, ...], p: Path) -> list[str]:
    return [a.replace("{p}", str(p)) for a in template]


@pytest.mark.parametrize("template", WRITERS, ids=lambda t: " ".join(t[:4]))
@pytest.mark.parametrize("node", _nodes_for_test())
def test_writers_never_replace_a_special_file(
    template: tuple[str, ...], node: str, nodes: dict[str, Path], tmp_path: Path
) -> None:
    before = identity(nodes[node])
    refused(qtui(tmp_path, *_argv(template, nodes[node])), KIND[node], "regular files only")
    assert identity(nodes[node]) == before


@pytest.mark.parametrize("template", READERS, ids=lambda t: " ".join(t[:3]))
@pytest.mark.parametrize("node", _nodes_for_test())
def test_readers_never_block_or_read_a_special_file(
    template: tuple[str, ...], node: str, nodes: dict[str, Path], tmp_path: Path
) -> None:
    before = identity(nodes[node])
    refused(qtui(tmp_path, *_argv(template, nodes[node])), KIND[node], "regular files only")
    assert identity(nodes[node]) == before


def test_the_mknod_cases_need_root() -> None:
    if not ROOT:
        pytest.skip("os.mknod of a character device needs root; the FIFO cases ran")
    assert "null" in KIND


def test_a_symlink_to_a_fifo_is_refused_like_the_fifo(nodes: dict[str, Path], tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(nodes["fifo"])
    before = identity(nodes["fifo"])
    refused(qtui(tmp_path, "run", "--json", str(link), "--force"), "json", "FIFO")
    refused(qtui(tmp_path, "report", str(link)), "FIFO")
    assert identity(nodes["fifo"]) == before and link.is_symlink()


def test_a_reader_with_a_writer_on_the_fifo_does_not_read_it(nodes: dict[str, Path], tmp_path: Path) -> None:
    """A FIFO someone writes into is still refused: nothing is read from it."""
    fifo = nodes["fifo"]
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # keeps a writer (and a reader) on it
    try:
        os.write(fd, b'{"v": 1}\n')
        refused(qtui(tmp_path, "report", str(fifo)), "FIFO")
        assert os.read(fd, 100) == b'{"v": 1}\n'  # still there: qtui read nothing
    finally:
        os.close(fd)


# --- the library writers: the atomic export, the TUI's folder, the --events log ----------


def _summary() -> Any:
    return document(SessionSummary())


@pytest.mark.parametrize("node", _nodes_for_test())
def test_the_atomic_writer_refuses_a_special_file_even_with_force(
    node: str, nodes: dict[str, Path]
) -> None:
    before = identity(nodes[node])
    with pytest.raises(ExportError, match="regular files only"):
        write_summary(_summary(), nodes[node], "json", force=True)
    assert identity(nodes[node]) == before


def test_the_export_folder_refuses_a_fifo_where_a_file_goes(tmp_path: Path) -> None:
    """The TUI's export (``write_all``): every target is checked before any is written."""
    summary = _summary()
    fifo = tmp_path / f"{default_stem(summary)}.md"
    os.mkfifo(fifo)
    before = identity(fifo)
    with pytest.raises(ExportError, match="FIFO"):
        write_all(summary, tmp_path, force=True)
    assert identity(fifo) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [fifo.name]  # nothing written


def test_the_events_log_open_refuses_a_fifo_and_does_not_block(nodes: dict[str, Path]) -> None:
    """The supervisor's ``--events`` opening, with a reader on the FIFO (so a plain
    ``open(..., "wb")`` would succeed and write into it)."""
    fifo = nodes["fifo"]
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    done: list[BaseException | None] = []

    def attempt() -> None:
        try:
            open_output_file(fifo).close()
            done.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            done.append(exc)

    try:
        t = threading.Thread(target=attempt, daemon=True)
        t.start()
        t.join(LIMIT_S)
        assert not t.is_alive(), "opening the events log blocked"
        assert isinstance(done[0], FileRefused) and "FIFO" in str(done[0])
        assert os.read(reader, 100) == b""
    finally:
        os.close(reader)


# --- symlinks, sizes -----------------------------------------------------------------


def test_force_writes_through_a_symlink_to_a_regular_file(tmp_path: Path) -> None:
    """The documented choice: like a shell's ``>``, the link stays and its target is
    replaced (atomically, in the target's folder)."""
    real = tmp_path / "real" / "out.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    (tmp_path / "good.json").write_text(json.dumps(_summary().to_builtins()))
    refused(qtui(tmp_path, "report", "good.json", "-o", "link.json"), "already exists", "--force")
    assert real.read_text() == "old"
    done = qtui(tmp_path, "report", "good.json", "-o", "link.json", "--force")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and json.loads(real.read_text())["schema"] == "qtui.summary"


def test_a_dangling_symlink_needs_force_and_then_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(_summary().to_builtins()))
    link = tmp_path / "dangling.md"
    link.symlink_to(tmp_path / "target.md")
    refused(qtui(tmp_path, "report", "good.json", "-o", "dangling.md"), "dangling symlink", "--force")
    assert not (tmp_path / "target.md").exists()
    done = qtui(tmp_path, "report", "good.json", "-o", "dangling.md", "--force")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and (tmp_path / "target.md").read_text().startswith("#")


def test_report_dash_writes_to_stdout_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(_summary().to_builtins()))
    done = qtui(tmp_path, "report", "good.json", "-o", "-", "-f", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema"] == "qtui.summary"
    assert not (tmp_path / "-").exists()


def test_readers_refuse_a_file_over_the_limit_and_say_it(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(MAX_READ_BYTES + 1)  # sparse: no disk used
    for argv in (("report", "big.json"), ("watch", "--once", "big.json"),
                 ("history", "--db", "h.db", "--import", "big.json")):
        refused(qtui(tmp_path, *argv), "1 GiB")
    with pytest.raises(FileRefused, match="1 GiB"):
        read_regular(big, "summary file")


def test_a_unix_socket_is_neither_written_nor_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = socket.socket(socket.AF_UNIX)
    s.bind("sock")
    s.close()
    before = identity(tmp_path / "sock")
    refused(qtui(tmp_path, "run", "--json", "sock", "--force"), "socket")
    refused(qtui(tmp_path, "report", "sock"), "socket")
    assert identity(tmp_path / "sock") == before


# --- the jobs folder is private; exports follow the umask --------------------------------


def _manifest() -> Any:
    from qtui.cluster.jobs_folder import Manifest

    return Manifest(session_id="s1", cluster="local", options={})


def test_the_jobs_folder_is_made_0700_whatever_the_umask(tmp_path: Path) -> None:
    from qtui.cluster.jobs_folder import write_manifest

    old = os.umask(0o002)  # a user-private-group umask: folders would be 0775
    try:
        write_manifest(tmp_path / "jobs" / "s1", _manifest())
    finally:
        os.umask(old)
    for sub in ("jobs", "jobs/s1", "jobs/s1/events", "jobs/s1/submitit"):
        assert stat.S_IMODE(os.stat(tmp_path / sub).st_mode) == 0o700, sub


@pytest.mark.parametrize("where", ["", "submitit"])
def test_pickles_in_a_folder_others_can_write_are_refused(where: str, tmp_path: Path) -> None:
    from qtui.cluster.jobs_folder import JobsFolderError, read_manifest, write_manifest

    folder = tmp_path / "jobs" / "s1"
    write_manifest(folder, _manifest())
    assert read_manifest(folder).session_id == "s1"
    os.chmod(folder / where, 0o777)
    with pytest.raises(JobsFolderError, match="writable by group or others"):
        read_manifest(folder)
    result = qtui(tmp_path, "watch", "--jobs-dir", str(folder), "--no-tui")
    refused(result, "jobs-dir", "writable by group or others", "will not load the pickles")


def test_exports_follow_the_umask(tmp_path: Path) -> None:
    """Like every Unix tool: 0666 less the umask (docs/RELIABILITY.md says why)."""
    (tmp_path / "good.json").write_text(json.dumps(_summary().to_builtins()))
    env = child_env()
    env["QTUI_DATA_DIR"] = str(tmp_path / "data")
    for mask, mode in ((0o022, 0o644), (0o077, 0o600)):
        out = tmp_path / f"out{mask:o}.json"
        subprocess.run(
            ["sh", "-c", f'umask {mask:o} && exec "$0" -m qtui report good.json -o {out.name}',
             sys.executable], cwd=tmp_path, env=env, check=True, timeout=LIMIT_S,
            capture_output=True,
        )
        assert stat.S_IMODE(os.stat(out).st_mode) == mode
