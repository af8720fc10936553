"""LogTail: half lines, bad lines, a late file, truncation, rotation, a never-ending log."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from qtui.core import events as ev
from qtui.core.logtail import LogTail, follow


def line(i: int) -> str:
    return ev.Epoch(run_id="r1", epoch=i, mean_loss=1.0 / i, elapsed_s=float(i)).to_json() + "\n"


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def epochs(events: list[ev.Event]) -> list[int]:
    return [e.epoch for e in events if isinstance(e, ev.Epoch)]


def notes(events: list[ev.Event]) -> list[str]:
    return [e.message for e in events if isinstance(e, ev.LogNote)]


def test_waits_for_the_file_then_reads(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    tail = LogTail(path)
    assert tail.poll() == [] and tail.waiting
    append(path, line(1) + line(2))
    assert epochs(tail.poll()) == [1, 2] and not tail.waiting
    assert tail.poll() == []


def test_half_written_line_is_buffered(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    full = line(1)
    append(path, full[:20])
    tail = LogTail(path)
    assert tail.poll() == []
    append(path, full[20:-1])
    assert tail.poll() == []  # still no newline
    append(path, "\n" + line(2)[:5])
    assert epochs(tail.poll()) == [1]
    append(path, line(2)[5:])
    assert epochs(tail.poll()) == [2]


def test_final_poll_takes_a_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    append(path, line(1) + line(2).rstrip("\n"))
    tail = LogTail(path)
    assert epochs(tail.poll()) == [1]
    assert epochs(tail.poll(final=True)) == [2]


def test_malformed_and_unknown_lines_are_notes(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    append(path, line(1) + "{oops\n" + '{"type":"nonsense","v":1,"t":0}\n' + "\n" + line(2))
    events = LogTail(path).poll()
    assert epochs(events) == [1, 2]
    msgs = notes(events)
    assert len(msgs) == 2
    assert msgs[0].startswith("line 2 skipped: not JSON")
    assert msgs[1].startswith("line 3 skipped: unknown event type 'nonsense'")


def test_invalid_utf8_is_a_note_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(b"\xff\xfe\xfd\n" + line(1).encode())
    events = LogTail(path).poll()
    assert epochs(events) == [1] and len(notes(events)) == 1


def test_truncation_rereads_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    append(path, line(1) + line(2) + line(3))
    tail = LogTail(path)
    assert epochs(tail.poll()) == [1, 2, 3]
    with open(path, "w", encoding="utf-8") as f:  # truncate in place (same inode)
        f.write(line(7))
    events = tail.poll()
    assert "truncated" in notes(events)[0] and epochs(events) == [7]


def test_truncated_and_rewritten_past_our_position(tmp_path: Path) -> None:
    """Size alone cannot tell; the changed first bytes do."""
    path = tmp_path / "run.jsonl"
    append(path, line(1))
    tail = LogTail(path)
    assert epochs(tail.poll()) == [1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(line(5) + line(6) + line(8))
    events = tail.poll()
    assert notes(events) and epochs(events) == [5, 6, 8]


def test_rotation_finishes_the_old_file_then_follows_the_new(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    append(path, line(1))
    tail = LogTail(path)
    assert epochs(tail.poll()) == [1]
    append(path, line(2))  # written just before the rotation
    os.rename(path, tmp_path / "run.jsonl.1")
    assert epochs(tail.poll()) == [2]  # old file still readable, new one absent
    append(path, line(3))
    events = tail.poll()
    assert epochs(events) == [3] and "rotated" in notes(events)[0]


def test_bounded_reads_report_backlog(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    append(path, "".join(line(i) for i in range(1, 201)))
    tail = LogTail(path, max_bytes=4096)
    got: list[int] = []
    got += epochs(tail.poll())
    assert tail.behind and 0 < len(got) < 200
    while tail.behind:
        got += epochs(tail.poll())
    assert got == list(range(1, 201))


def test_follow_in_a_thread_on_a_log_that_keeps_growing(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    seen: list[ev.Event] = []
    stop = threading.Event()
    worker = threading.Thread(target=follow, args=(path, seen.append, stop, 0.02))
    worker.start()
    try:
        for i in range(1, 6):
            text = line(i)
            append(path, text[:10])
            time.sleep(0.03)
            append(path, text[10:])
        append(path, line(6).rstrip("\n"))  # never finished
        deadline = time.time() + 5
        while len(epochs(seen)) < 5 and time.time() < deadline:
            time.sleep(0.02)
        assert epochs(seen) == [1, 2, 3, 4, 5]
    finally:
        stop.set()
        worker.join(5)
    assert epochs(seen) == [1, 2, 3, 4, 5, 6]  # the final poll took the last line


def test_one_invalid_utf8_byte_costs_one_line_not_the_log(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    bad = line(2).encode().replace(b'"r1"', b'"r\xff1"')
    path.write_bytes(line(1).encode() + bad + line(3).encode())
    events = LogTail(path).poll(final=True)
    assert epochs(events) == [1, 3]
    [note] = notes(events)
    assert note.startswith("line 2 skipped: not valid UTF-8")


def test_wrong_types_are_reported_with_their_line_number(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    wrong = line(2).replace('"epoch":2', '"epoch":"2"')
    path.write_text(line(1) + wrong + line(3))
    events = LogTail(path).poll(final=True)
    assert epochs(events) == [1, 3]
    [note] = notes(events)
    assert note.startswith("line 2 skipped: epoch event has a bad field") and "$.epoch" in note


def test_an_over_long_line_is_skipped_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qtui.core.logtail

    monkeypatch.setattr(qtui.core.logtail, "_MAX_LINE", 1000)  # a small limit, same code path
    path = tmp_path / "run.jsonl"
    path.write_text(line(1) + "x" * 2500 + "\n" + line(3))
    tail = LogTail(path, max_bytes=700)  # the long line arrives over several polls
    events: list[ev.Event] = []
    for _ in range(10):
        events += tail.poll()
    events += tail.poll(final=True)
    assert epochs(events) == [1, 3]
    assert len(notes(events)) == 1 and "line 2 skipped: over 1000 bytes" in notes(events)[0]
