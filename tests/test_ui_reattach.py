"""Reading a cluster session to re-attach to (``qtui.ui.reattach``): real jobs
folders written with ``write_manifest``, each way one cannot be followed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.cluster.jobs_folder import JobRecord, Manifest, write_manifest
from qtui.core.config import RunSpec, WorkloadParams
from qtui.ui.reattach import CannotReattach, read_cluster_session


def _session(folder: Path, *specs: RunSpec, spec_dicts: list[dict[str, object]] | None = None) -> Path:
    dicts = spec_dicts if spec_dicts is not None else [s.to_dict() for s in specs]
    jobs = [JobRecord(run_id=str(d.get("run_id", f"j{i}")), spec=d) for i, d in enumerate(dicts)]
    write_manifest(folder, Manifest(session_id="s1", cluster="local", options={}, argv=["qtui", "run"],
                                    jobs=jobs))
    return folder


def _spec(run_id: str) -> RunSpec:
    return RunSpec("default.qubit", "backprop", WorkloadParams(epochs=1), run_id=run_id)


def test_a_session_is_read_with_its_ids_and_argv(tmp_path: Path) -> None:
    folder = _session(tmp_path / "s1", _spec("a1"), _spec("a2"))
    manifest, specs = read_cluster_session(folder, set())
    assert [s.run_id for s in specs] == ["a1", "a2"]
    assert specs[0] == _spec("a1")
    assert manifest.argv == ["qtui", "run"] and manifest.session_id == "s1"


def test_each_reason_not_to_reattach_is_one_line_with_how_long_it_shows(tmp_path: Path) -> None:
    with pytest.raises(CannotReattach, match=r"^cannot re-attach: .*manifest.* does not exist$") as missing:
        read_cluster_session(tmp_path / "nowhere", set())
    assert missing.value.timeout == 8

    bad = _session(tmp_path / "bad", spec_dicts=[{"run_id": "b1", "device": "default.qubit"}])
    with pytest.raises(CannotReattach, match="holds a run spec qtui cannot read") as unreadable:
        read_cluster_session(bad, set())
    assert unreadable.value.timeout == 8

    with pytest.raises(CannotReattach, match="holds no submitted runs") as empty:
        read_cluster_session(_session(tmp_path / "empty"), set())
    assert empty.value.timeout is None  # Textual's default

    shown = _session(tmp_path / "shown", _spec("c1"), _spec("c2"))
    with pytest.raises(CannotReattach, match=r"already has runs c2; in a new terminal: qtui watch") as clash:
        read_cluster_session(shown, {"c2", "other"})
    assert clash.value.timeout == 10
