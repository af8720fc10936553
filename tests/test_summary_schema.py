"""The typed summary (``qtui.core.summary_schema``): v1 files written by qtui at
b36e7b3 still load, v2 round-trips, and nothing a v1 file held is lost on the way."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from qtui.core.summary_schema import (
    SUMMARY_SCHEMA,
    SUMMARY_VERSION,
    Result,
    Run,
    Summary,
    SummaryError,
)

DATA = Path(__file__).parent / "data"
FIXTURES = sorted(DATA.glob("*_v1.json"))


def test_the_fixtures_are_there() -> None:
    assert {p.name for p in FIXTURES} == {"run_v1.json", "sweep_v1.json", "warn_v1.json"}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_v1_fixture_loads_as_records(path: Path) -> None:
    raw = json.loads(path.read_bytes())
    s = Summary.loads(path.read_bytes(), str(path))
    assert s.schema == SUMMARY_SCHEMA and s.schema_version == SUMMARY_VERSION == 2
    assert s.session_id == raw["session_id"]
    assert all(isinstance(r, Result) for r in s.results)
    assert all(isinstance(r, Run) for r in s.runs)
    # ``command`` (v1) is the ``combo`` of v2.
    assert [r.combo for r in s.results] == [r["command"] for r in raw["results"]]
    assert [r.mean for r in s.results] == [r["mean"] for r in raw["results"]]
    # A run that did not finish had ``result: {}`` in v1; it has none in v2.
    for run, old in zip(s.runs, raw["runs"], strict=True):
        assert (run.result is None) == (not old["result"])


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_v2_round_trips_equal(path: Path) -> None:
    s = Summary.loads(path.read_bytes())
    dumped = s.dumps()
    assert json.loads(dumped)["schema_version"] == 2
    assert Summary.loads(dumped) == s
    assert Summary.from_builtins(s.to_builtins()) == s
    assert dumped.count(b"\n") > 100  # indented for people


def _leaves(obj: Any, path: str = "") -> dict[str, Any]:
    """Every scalar of a JSON tree by its path (v1 names, empty containers dropped)."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_leaves(v, f"{path}.{k}"))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_leaves(v, f"{path}[{i}]"))
        return out
    return {path: obj}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_v2_dump_of_v1_keeps_every_value(path: Path) -> None:
    old = _leaves(json.loads(path.read_bytes()))
    new = _leaves(json.loads(Summary.loads(path.read_bytes()).dumps()))
    renamed = {
        (p.replace("].command", "].combo", 1) if p.startswith(".results[") else p): v
        for p, v in old.items()
    }
    renamed.pop(".schema_version")
    numbers = 0
    for p, v in renamed.items():
        assert p in new, f"{path.name}: {p} lost"
        if isinstance(v, float) and math.isnan(v):
            assert new[p] is None
        else:
            assert new[p] == v and type(new[p]) is type(v), (p, v, new[p])
        numbers += isinstance(v, (int, float)) and not isinstance(v, bool)
    assert numbers > 100


def test_newer_version_is_refused_naming_both() -> None:
    doc = {"schema": SUMMARY_SCHEMA, "schema_version": 3, "results": []}
    with pytest.raises(SummaryError) as info:
        Summary.loads(json.dumps(doc), "new.json")
    msg = str(info.value)
    assert "new.json" in msg and "v3" in msg and "v2" in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("[1]", "not a qtui summary"),
        ('{"results": []}', "hyperfine"),
        ('{"schema": "qtui.summary", "schema_version": "1"}', "schema_version"),
        ('{"schema": "qtui.summary", "schema_version": 0}', "unknown summary schema version"),
        ('{"schema": "qtui.summary", "schema_version": 1, "results": {}}', 'field "results"'),
        (
            '{"schema": "qtui.summary", "schema_version": 2, "results": [{"steps": "x"}]}',
            'field "results[0].steps": expected `int',
        ),
        (
            '{"schema": "qtui.summary", "schema_version": 1, "machine_info": {"logical_cores": "x"}}',
            'field "machine_info.logical_cores"',
        ),
        ("{broken", "is not valid JSON"),
    ],
)
def test_bad_documents_say_why_in_one_line(doc: str, expected: str) -> None:
    with pytest.raises(SummaryError) as info:
        Summary.loads(doc, "in.json")
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_unknown_fields_are_ignored_and_missing_ones_defaulted() -> None:
    s = Summary.loads(
        '{"schema": "qtui.summary", "schema_version": 2, "from_the_future": 1,'
        ' "results": [{"combo": "a+b", "later": {"x": 1}}]}'
    )
    assert s.results[0].combo == "a+b" and s.results[0].mean is None
    assert s.results[0].resources.peak_rss_bytes is None and s.results[0].runs.total == 0


def test_v1_nan_reads_and_is_written_as_null() -> None:
    s = Summary.loads(
        '{"schema": "qtui.summary", "schema_version": 1,'
        ' "results": [{"command": "a+b", "final_loss": NaN}]}'
    )
    assert s.results[0].final_loss is not None and math.isnan(s.results[0].final_loss)
    assert Summary.loads(s.dumps()).results[0].final_loss is None
