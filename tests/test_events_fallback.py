"""An ``--events`` log that cannot be written degrades as ``--json`` does (issue 21, item 5).

Real failures: a real tmpfs of 64 KiB filled while a run trains (ENOSPC), a
300-character file name (ENAMETOOLONG at open).  The run in progress finishes,
the queue goes on, a note says why and where, and the whole log is under
``<data folder>/events/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_in_process import QtuiCli
from engine_helpers import Recorder, tiny
from warm_executor import assert_no_runs_left

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.supervisor import Supervisor


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (root only: skipped elsewhere, with the reason)."""
    where = tmp_path / "small"
    where.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """Write until the disk is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"x" * 4096)
    finally:
        os.close(fd)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("QTUI_DATA_DIR", str(folder))
    return folder


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def specs() -> list[RunSpec]:
    return [RunSpec("default.qubit", "backprop", tiny()) for _ in range(2)]


def test_a_disk_that_fills_mid_run_moves_the_log_and_the_session_goes_on(
    small_disk: Path, data: Path, warm_executor: ProcessExecutor
) -> None:
    rec = Recorder()
    asked = small_disk / "events.jsonl"

    def fill_on_first_batch(event: ev.Event) -> None:
        if event.type == "batch" and not (small_disk / "filler").exists():
            fill(small_disk)

    rec.hooks.append(fill_on_first_batch)
    sup = Supervisor(specs(), rec, machine={"hostname": "test"}, events_path=asked,
                     executor=warm_executor)
    sup.run()
    for s in sup.specs:  # the run that was training when the disk filled, and the next
        assert rec.terminal(s.run_id).type == "run_finished"
    (note,) = rec.of("note")
    moved = data / "events" / f"events.{sup.session_id}.jsonl"
    assert note.message == (
        f"could not write the events log (No space left on device); it goes on in {moved}"
    )
    whole = lines(moved)
    assert [e["type"] for e in whole] == [e.type for e in rec.events]
    kept = asked.read_bytes()
    assert kept and moved.read_bytes().startswith(kept)  # whole lines, then the rest
    assert kept.endswith(b"\n")
    assert_no_runs_left(warm_executor)


def test_a_name_too_long_to_open_moves_the_log(
    tmp_path: Path, data: Path, warm_executor: ProcessExecutor
) -> None:
    rec = Recorder()
    asked = tmp_path / ("e" * 300 + ".jsonl")
    sup = Supervisor(specs()[:1], rec, machine={"hostname": "test"}, events_path=asked,
                     executor=warm_executor)
    sup.run()
    assert rec.terminal("r1").type == "run_finished"
    (note,) = rec.of("note")
    moved = data / "events" / f"{'e' * 80}.{sup.session_id}.jsonl"
    assert note.message.startswith("could not write the events log (")
    assert "File name too long" in note.message  # the OS's words, maybe with the path
    assert note.message.endswith(f"); it goes on in {moved}")
    assert [e["type"] for e in lines(moved)] == [e.type for e in rec.events]
    assert not asked.parent.joinpath("e" * 10).exists()


def test_the_fallback_failing_too_leaves_the_session_going(
    small_disk: Path, warm_executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(small_disk)
    monkeypatch.setenv("QTUI_DATA_DIR", str(small_disk / "data"))  # on the full disk too
    rec = Recorder()
    sup = Supervisor(specs()[:1], rec, machine={"hostname": "test"},
                     events_path=small_disk / "e.jsonl", executor=warm_executor)
    sup.run()
    assert rec.terminal("r1").type == "run_finished"
    (note,) = rec.of("note")
    assert note.message.startswith("could not write the events log ")
    assert note.message.endswith("the session goes on without one")


def test_qtui_run_says_where_the_log_went_and_the_summary_keeps_the_note(
    small_disk: Path, tmp_path: Path, qtui_cli: QtuiCli
) -> None:
    data = tmp_path / "data"
    fill(small_disk)
    out = tmp_path / "s.json"
    proc = qtui_cli("run", "--events", str(small_disk / "e.jsonl"), "--json", str(out),
                    "--device", "default.qubit", "--diff-method", "backprop", "--samples", "20",
                    "--epochs", "1", "--batch-size", "5", env={"QTUI_DATA_DIR": str(data)})
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(out.read_text())
    (moved,) = (data / "events").iterdir()
    note = f"could not write the events log (No space left on device); it goes on in {moved}"
    assert note in summary["notes"]
    said = "".join((proc.stdout + proc.stderr).split())  # the console wraps long lines
    assert "".join(f"note: {note}".split()) in said
    assert "".join(f"Events written to {moved}".split()) in said
    assert [e["type"] for e in lines(moved)][-1] == "session_finished"
    assert summary["runs"][0]["state"] == "finished"
    assert os.path.getsize(small_disk / "e.jsonl") == 0
