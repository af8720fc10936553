"""``qtui exec`` keeps the script's whole output in a file per run (issue 23, "Output
that stays the script's"): ``runs[].script.stdout_path`` and ``stderr_path``, under
``<data folder>/outputs/<session id>/``, written as the script writes, so a run that
fails, times out or is cancelled keeps every line it printed, not only the last 50.

The runs are real ``qtui exec`` children on the suite's warm fork server; the script
is also run with plain ``python`` and the files compared with what it printed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import child_env

from qtui.cli.main import main
from qtui.engine.forkserver import ProcessExecutor

#: More lines than the run record's tail (50) on both streams, then an exception.
LOUD = """\
import sys
for i in range(1, 121):
    print(f"out line {i}")
    if i % 2 == 0:
        print(f"err line {i // 2}", file=sys.stderr)
raise ValueError("boom after 120 lines")
"""

#: Prints, then hangs until qtui stops it.
HANGS = """\
import sys, time
for i in range(1, 81):
    print(f"out line {i}")
for i in range(1, 71):
    print(f"err line {i}", file=sys.stderr)
sys.stdout.flush()
time.sleep(300)
"""

Exec = Callable[..., tuple["subprocess.CompletedProcess[str]", dict[str, Any]]]


@pytest.fixture
def qtui_exec(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    warm_executor: ProcessExecutor, tmp_path: Path,
) -> Exec:
    """``qtui exec --json s.json ARGV`` in ``tmp_path`` with its own data folder; the
    process (stdout and stderr as the file descriptors got them) and the summary."""

    def call(*argv: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        base = child_env()
        for name in ("PYTHONPATH", "NO_COLOR"):
            monkeypatch.setenv(name, base[name])
        monkeypatch.setenv("COLUMNS", "160")
        monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("QTUI_NO_HISTORY", "1")
        monkeypatch.chdir(tmp_path)
        capfd.readouterr()
        code = main(["exec", "--json", "s.json", "--force", *argv], executor=warm_executor)
        out, err = capfd.readouterr()
        summary = json.loads((tmp_path / "s.json").read_text())
        return subprocess.CompletedProcess(["qtui", "exec", *argv], code, out, err), summary

    return call


def _plain_python(cwd: Path, script: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, script], cwd=cwd, capture_output=True,
                          timeout=120, check=False)


def _kept(path: str, data: Path) -> bytes:
    """The file's bytes, after checking it is a private regular file in the data folder."""
    p = Path(path)
    assert p.is_absolute() and (data / "outputs") in p.parents, path
    st = os.lstat(p)
    assert stat.S_ISREG(st.st_mode), path
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert stat.S_IMODE(os.stat(p.parent).st_mode) == 0o700
    return p.read_bytes()


def test_every_line_of_a_failing_script_is_kept_and_the_summary_names_the_files(
    qtui_exec: Exec, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(LOUD)
    plain = _plain_python(tmp_path, "train.py")
    assert plain.returncode == 1 and plain.stdout.count(b"\n") == 120

    proc, summary = qtui_exec("--", "train.py")
    assert proc.returncode == 1
    [run] = summary["runs"]
    script = run["script"]
    assert run["state"] == "failed"
    assert len(script["stdout_tail"]) == 50  # the record's tail is still the last 50
    data = tmp_path / "data"
    out_path, err_path = script["stdout_path"], script["stderr_path"]
    assert Path(out_path).parent == data / "outputs" / summary["session_id"]
    assert Path(out_path).name == f"{run['run_id']}.stdout"
    assert _kept(out_path, data) == plain.stdout  # every line, byte for byte
    assert _kept(err_path, data) == plain.stderr  # the traceback as Python prints it
    assert script["stdout_bytes"] == len(plain.stdout)
    assert script["stderr_bytes"] == len(plain.stderr)
    assert script["output_note"] == ""
    # The console's last lines say where the output is kept.
    assert f"Script output kept in {Path(out_path).parent}" in proc.stderr, proc.stderr[-2000:]


def test_a_run_that_times_out_keeps_what_it_printed(qtui_exec: Exec, tmp_path: Path) -> None:
    (tmp_path / "hangs.py").write_text(HANGS)
    proc, summary = qtui_exec("--timeout", "8", "--", "hangs.py")
    assert proc.returncode == 1
    [run] = summary["runs"]
    assert run["state"] == "timed_out"
    script = run["script"]  # no script_ended: the child was killed
    data = tmp_path / "data"
    out = _kept(script["stdout_path"], data).decode()
    err = _kept(script["stderr_path"], data).decode()
    assert out == "".join(f"out line {i}\n" for i in range(1, 81))
    assert err == "".join(f"err line {i}\n" for i in range(1, 71))
    assert script["stdout_bytes"] is None  # the run never said how much it wrote
    assert "Script output kept in" in proc.stderr


def test_the_file_is_cut_at_its_limit_and_says_so(tmp_path: Path) -> None:
    """The tee keeps at most ``limit`` bytes in the file, then one line saying it cut
    there; everything still goes on to where the output went, and the note says it."""
    from qtui.engine.script_child import Tee

    fd = os.open(os.devnull, os.O_WRONLY)
    path = tmp_path / "outputs" / "s1" / "r1.stdout"
    tee = Tee(fd, path, limit=1000)
    tee.start()
    try:
        for i in range(200):
            os.write(fd, f"line {i:04d}\n".encode())  # 10 bytes a line: 2000 bytes
    finally:
        tail = tee.stop()
        os.close(fd)
    assert tail[-1] == "line 0199"
    kept = path.read_bytes()
    assert kept.startswith(b"line 0000\n") and b"line 0099\n" in kept
    assert b"line 0100" not in kept
    assert kept[1000:].decode().strip() == tee.cut_line().strip()
    assert "cut here at 1,000 bytes" in tee.cut_line()
    assert tee.total == 2000
    assert "cut" in tee.note and str(path.name) in tee.note


def test_a_special_file_in_its_place_is_never_written(tmp_path: Path) -> None:
    """Where the output file would be, a FIFO (or a symlink to a device) is refused by
    the project's path rules: the output still goes where it went, the note says why."""
    from qtui.engine.script_child import Tee

    folder = tmp_path / "outputs" / "s1"
    folder.mkdir(parents=True)
    fifo = folder / "r1.stdout"
    os.mkfifo(fifo)
    (folder / "r1.stderr").symlink_to("/dev/null")
    for name in ("r1.stdout", "r1.stderr"):
        fd = os.open(os.devnull, os.O_WRONLY)
        tee = Tee(fd, folder / name, limit=1000)
        tee.start()
        os.write(fd, b"hello\n")
        assert tee.stop() == ["hello"]
        os.close(fd)
        assert tee.path == ""
        assert "regular files only" in tee.note, tee.note
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
