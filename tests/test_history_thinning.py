"""Batches and samples are thinned before the history writer's queue, with the
same rule the database applies, so the stored rows are exactly the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import Recorder, assert_no_children, tiny

from qtui.core import events as ev
from qtui.core.config import RunSpec
from qtui.engine.forkserver import ProcessExecutor
from qtui.engine.supervisor import Supervisor
from qtui.store import thinning
from qtui.store.history_db import HistoryDB, recording
from qtui.store.history_writer import HistoryWriter

#: Small enough that a tiny run has several kept and several dropped points.
THIN_S = 0.05


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from engine_helpers import child_env

    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    yield
    assert_no_children()


def _rows(db: HistoryDB, sid: str) -> list[tuple[str | None, str, float, str]]:
    return [(e.run_id if hasattr(e, "run_id") else None, e.type, e.t, e.to_json())  # type: ignore[attr-defined]
            for e in db.events(sid)]


def test_a_real_session_stores_the_same_rows_and_the_writer_gets_only_kept_points(
    tmp_path: Path, warm_executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    puts: list[ev.Event] = []
    real_put = HistoryWriter.put

    def counting_put(self: HistoryWriter, event: ev.Event) -> None:
        puts.append(event)
        real_put(self, event)

    monkeypatch.setattr(HistoryWriter, "put", counting_put)
    db = HistoryDB(tmp_path / "live.sqlite3", thin_s=THIN_S)
    rec = Recorder()
    specs = [RunSpec("default.qubit", "backprop", tiny(epochs=3, samples=40)) for _ in range(2)]
    sup = Supervisor(specs, recording(rec, db), machine={"hostname": "test"}, interval=0.02,
                     executor=warm_executor)
    sup.run()
    stream = list(rec.events)
    points = [e for e in stream if e.type in thinning.THINNED]
    assert points, "the run sent no batches or samples"

    # "before": the whole stream, unthinned, through the database's own path
    before = HistoryDB(tmp_path / "before.sqlite3", thin_s=THIN_S)
    before.import_events(stream)
    assert _rows(db, sup.session_id) == _rows(before, sup.session_id)
    assert db.runs(sup.session_id) == before.runs(sup.session_id)

    # the writer saw at most one batch/sample per run per THIN_S, and nothing else dropped
    last: dict[tuple[str, str], float] = {}
    put_points = [e for e in puts if e.type in thinning.THINNED]
    for e in put_points:
        key = (e.run_id, e.type)  # type: ignore[attr-defined]
        assert key not in last or e.t - last[key] >= THIN_S
        last[key] = e.t
    assert len(put_points) < len(points)
    assert [e for e in puts if e.type not in thinning.THINNED] == [
        e for e in stream if e.type not in thinning.THINNED]
    db.close()
    before.close()
