"""A version-1 summary written by the old qtui reports exactly as its v2 upgrade does.

The fixtures ``tests/data/*_v1.json`` were written by qtui at b36e7b3, before the
summary became typed records.  Each is rendered through the CLI as it is, and
again after ``Summary.loads(...).dumps()`` has rewritten it as version 2; the
outputs must be byte for byte the same.  (Never against a stored golden: the
report's own layout may change, the equality of v1 and v2 may not.)
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from qtui.cli.main import main
from qtui.core.summary_schema import Summary

DATA = Path(__file__).parent / "data"
FIXTURES = sorted(p.stem.removesuffix("_v1") for p in DATA.glob("*_v1.json"))


@pytest.fixture()
def both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``v1/NAME.json`` (the fixture's bytes) and ``v2/NAME.json`` (its upgrade) under
    the working folder, so a command names either by the same relative path."""
    for name in FIXTURES:
        raw = (DATA / f"{name}_v1.json").read_bytes()
        for version, data in (("v1", raw), ("v2", Summary.loads(raw).dumps())):
            folder = tmp_path / version
            folder.mkdir(exist_ok=True)
            (folder / f"{name}.json").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def qtui(folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         *argv: str) -> str:
    """``qtui ARGV`` run in ``folder``: its standard output (it must exit 0)."""
    monkeypatch.chdir(folder)
    capsys.readouterr()
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert rc == 0, err
    return out


def test_the_upgrade_is_a_different_file(both: Path) -> None:
    for name in FIXTURES:
        v1 = json.loads((both / "v1" / f"{name}.json").read_bytes())
        v2 = json.loads((both / "v2" / f"{name}.json").read_bytes())
        assert v1["schema_version"] == 1 and v2["schema_version"] == 2
        assert "command" in v1["results"][0] and "combo" in v2["results"][0]
        assert "command" not in v2["results"][0]


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
@pytest.mark.parametrize("name", FIXTURES)
def test_report_reads_the_same(
    both: Path, name: str, fmt: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    v1, v2 = (
        qtui(both / version, monkeypatch, capsys, "report", f"{name}.json", "-f", fmt)
        for version in ("v1", "v2")
    )
    assert v1 and v1 == v2
    if fmt == "md":
        assert "default.qubit+backprop" in v1


@pytest.mark.parametrize(("a", "b"), list(itertools.permutations(FIXTURES, 2)))
def test_compare_reads_the_same(
    both: Path, a: str, b: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    v1, v2 = (
        qtui(both / version, monkeypatch, capsys, "compare", f"{a}.json", f"{b}.json")
        for version in ("v1", "v2")
    )
    assert v1 and v1 == v2
    as_json = [
        qtui(both / version, monkeypatch, capsys, "compare", f"{a}.json", f"{b}.json", "--json")
        for version in ("v1", "v2")
    ]
    assert as_json[0] == as_json[1]
