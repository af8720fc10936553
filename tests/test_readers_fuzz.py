"""Every reader survives every input: mutated real logs and summaries (hypothesis).

Starts from the real session of ``conftest.real_events`` (real children,
real events) written as a JSONL log, and the summary JSON ``qtui report``
makes of it; mutates them (byte flips, truncation, duplicated, dropped and
reordered lines, wrong types, huge numbers, NaN, deep nesting, invalid
UTF-8) and runs ``qtui report``, ``qtui watch --once``, ``qtui compare`` and
``qtui history --import`` in-process on the result.  Each must exit 0 or 2
and never show a traceback.  A failing import must leave no partial session.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qtui.cli.main import main
from qtui.core import events as ev

BAD_VALUES: list[Any] = [
    "abc", "", 10**30, -(10**30), 2**63, -1, 1e308, 0.5, True, None, {}, [], {"x": [1]},
    [[[[1]]]], "\ud800",
]
DEEP = b"[" * 5000 + b"]" * 5000


class Corpus(dict[str, bytes]):
    """The real inputs; a short repr keeps hypothesis' failure reports readable."""

    def __repr__(self) -> str:
        return f"Corpus(log={len(self['log'])} bytes, summary={len(self['summary'])} bytes)"


@pytest.fixture(scope="session")
def corpus(real_events: list[ev.Event], tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The real log's bytes and the real summary's bytes (made once per test session)."""
    folder = tmp_path_factory.mktemp("fuzz-corpus")
    log = folder / "run.jsonl"
    log.write_bytes(b"".join(ev.encoded(e) + b"\n" for e in real_events))
    summary = folder / "summary.json"
    rc, _, err = run_reader(["report", str(log), "--format", "json", "-o", str(summary)])
    assert rc == 0, err
    return Corpus(log=log.read_bytes(), summary=summary.read_bytes(), folder=str(folder).encode())


def run_reader(argv: list[str]) -> tuple[int, str, str]:
    """``qtui ARGV`` in this process: (exit code, stdout, stderr); a raise is a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 2
        except Exception:  # noqa: BLE001 - the assertion below reports it
            rc = -1
            err.write(traceback.format_exc())
    return rc, out.getvalue(), err.getvalue()


def check_readers(path: Path, baseline: Path, db: Path) -> None:
    for argv in (
        ["report", str(path), "--format", "md"],
        ["report", str(path), "--format", "csv"],
        ["watch", str(path), "--once"],
        ["compare", str(baseline), str(path)],
        ["history", "--db", str(db), "--import", str(path)],
    ):
        rc, _, err = run_reader(argv)
        assert rc in (0, 2) and "Traceback" not in err, (argv, rc, err[-3000:])
        if argv[0] == "history" and rc == 2:
            with contextlib.closing(sqlite3.connect(db)) as c:
                tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
                if "sessions" in tables:
                    assert c.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0, err


# --- mutations -------------------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _set_path(obj: Any, keys: list[int], value: Any) -> Any:
    """Replace one node of a JSON tree (chosen by ``keys`` as indices) with ``value``."""
    node = obj
    for k in keys:
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        if not children:
            break
        key, child = children[k % len(children)]
        if not isinstance(child, (dict, list)) or not child:
            node[key] = value
            return obj
        node = child
    if isinstance(node, dict) and node:
        node[next(iter(node))] = value
    elif isinstance(node, list) and node:
        node[0] = value
    return obj


def _dumps(obj: Any) -> bytes:
    """Python's json: NaN stays NaN, big ints stay exact, a lone surrogate is escaped."""
    return json.dumps(obj).encode()


@st.composite
def mutate(draw: st.DrawFn, data: bytes, *, structured: bool) -> bytes:
    """One to three mutations of ``data`` (a log when not ``structured``, else a summary)."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([
            "flip", "truncate", "insert_bytes", "deep",
            # Most byte-level mutations break a summary's JSON as a whole: weight the
            # ones that keep it parseable so the schema, not the parser, is tested.
            *(["bad_value"] * 4 if structured else ["bad_value", "bad_value"]),
            *([] if structured else ["duplicate", "drop", "reorder", "bad_line"]),
        ]))
        if kind == "flip" and data:
            data = bytearray(data)
            for _ in range(draw(st.integers(1, 8))):
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
            data = bytes(data)
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "insert_bytes":
            at = draw(st.integers(0, len(data)))
            junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\n", b"NaN"]))
            data = data[:at] + junk + data[at:]
        elif kind in ("bad_value", "deep"):
            value: Any = draw(st.sampled_from(BAD_VALUES)) if kind == "bad_value" else None
            keys = draw(st.lists(st.integers(0, 50), min_size=1, max_size=6))
            if structured:
                try:
                    obj = json.loads(data)
                except (ValueError, RecursionError):
                    continue
                if kind == "deep":
                    data = _dumps(_set_path(obj, keys, None)).replace(b"null", DEEP, 1)
                else:
                    data = _dumps(_set_path(obj, keys, value))
            else:
                lines = _lines(data)
                i = draw(st.integers(0, len(lines) - 1))
                try:
                    obj = json.loads(lines[i])
                except (ValueError, RecursionError):
                    continue
                if not isinstance(obj, (dict, list)):
                    continue
                if kind == "deep":
                    lines[i] = _dumps(_set_path(obj, keys, None)).replace(b"null", DEEP, 1)
                else:
                    lines[i] = _dumps(_set_path(obj, keys, value))
                data = b"\n".join(lines)
        elif kind in ("duplicate", "drop", "reorder", "bad_line"):
            lines = _lines(data)
            i = draw(st.integers(0, max(0, len(lines) - 1)))
            if kind == "duplicate":
                lines.insert(draw(st.integers(0, len(lines))), lines[i])
            elif kind == "drop" and lines:
                del lines[i]
            elif kind == "reorder":
                lines = draw(st.permutations(lines))
            else:
                lines.insert(i, draw(st.sampled_from([
                    b'{"type":"epoch","v":1,"t":1,"run_id":"r1","epoch":"3","mean_loss":1,"elapsed_s":1}',
                    b'{"type":"batch","v":1,"t":1,"run_id":{"a":1},"epoch":1,"batch":1,"loss":1,'
                    b'"step":1,"elapsed_s":1}',
                    b'{"type":"run_finished","v":1,"t":1,"run_id":"r1","accuracy":null,"train_s":1,'
                    b'"final_loss":1,"epoch_losses":[],"steps":1,"core_s":1,"cores_in_use":1,'
                    b'"core_s_per_step":1,"peak_rss":99999999999999999999999,"peak_threads":1}',
                    b'{"type":"session_started","v":1,"t":NaN,"session_id":"x","machine":{},'
                    b'"qtui_version":"0"}',
                    b'{"type":"note","v":2,"t":1,"message":"from the future"}',
                    b'{"type":"mystery","v":1}',
                    DEEP,
                ])))
            data = b"\n".join(lines)
    return data


FUZZ = settings(
    max_examples=int(os.environ.get("QTUI_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=os.environ.get("QTUI_FUZZ_EXAMPLES") is None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_mutated_logs(corpus: dict[str, bytes], data: st.DataObject) -> None:
    mutated = data.draw(mutate(corpus["log"], structured=False))
    baseline = Path(corpus["folder"].decode()) / "summary.json"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.jsonl"
        path.write_bytes(mutated)
        check_readers(path, baseline, Path(tmp) / "h.sqlite3")


@FUZZ
@given(data=st.data())
def test_mutated_summaries(corpus: dict[str, bytes], data: st.DataObject) -> None:
    mutated = data.draw(mutate(corpus["summary"], structured=True))
    baseline = Path(corpus["folder"].decode()) / "summary.json"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "summary.json"
        path.write_bytes(mutated)
        check_readers(path, baseline, Path(tmp) / "h.sqlite3")


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02\xff" * 100, b"[]", b"42", b'"text"', b"null", b'{"schema": 1}', DEEP],
    ids=["empty", "binary", "array", "number", "string", "null", "not-summary", "deep"],
)
def test_readers_on_garbage(corpus: dict[str, bytes], tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    check_readers(path, Path(corpus["folder"].decode()) / "summary.json", tmp_path / "h.sqlite3")


def test_readers_on_a_folder_and_a_missing_file(corpus: dict[str, bytes], tmp_path: Path) -> None:
    baseline = Path(corpus["folder"].decode()) / "summary.json"
    for path in (tmp_path, tmp_path / "missing.jsonl"):
        for argv in (
            ["report", str(path)], ["watch", str(path), "--once"],
            ["compare", str(baseline), str(path)],
            ["history", "--db", str(tmp_path / "h.sqlite3"), "--import", str(path)],
        ):
            rc, _, err = run_reader(argv)
            assert rc == 2 and err.startswith("qtui: error: ") and err.count("\n") == 1, (argv, err)


def test_the_unmutated_corpus_reads_cleanly(corpus: dict[str, bytes], tmp_path: Path) -> None:
    baseline = Path(corpus["folder"].decode()) / "summary.json"
    log = tmp_path / "run.jsonl"
    log.write_bytes(corpus["log"])
    for argv in (
        ["report", str(log), "--format", "md"], ["report", str(baseline), "--format", "md"],
        ["watch", str(log), "--once"], ["compare", str(baseline), str(log)],
        ["history", "--db", str(tmp_path / "h.sqlite3"), "--import", str(log)],
    ):
        rc, _, err = run_reader(argv)
        assert rc == 0, (argv, err)
