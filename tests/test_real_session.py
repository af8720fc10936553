"""The recorded ``real_events`` session still has the shape a fresh one has.

``tests/data/real_events.jsonl`` is read by the export, history, report and
reader tests instead of running four children on every xdist worker.  This
test runs a fresh session (forked from the warm server, about 2 s) and compares what those tests rely on:
each run's event types in order, how it ended, its batch and warning counts.
If qtui's events change, re-record with ``python tests/real_session.py``.
"""

from __future__ import annotations

import pytest
import real_session

from qtui.core import events as ev
from qtui.engine.forkserver import ProcessExecutor


@pytest.mark.timeout(240)
def test_a_fresh_real_session_has_the_recorded_shape(warm_executor: ProcessExecutor) -> None:
    """Forked from the suite's warm server: the runs' own code is the same as in fresh
    interpreters (``qtui.engine.child``), without four imports of torch and pennylane."""
    server = warm_executor._servers.server if warm_executor._servers else None
    assert server is not None
    fresh = real_session.record(server)
    assert real_session.shape(fresh) == real_session.shape(real_session.load())


def test_the_recording_has_what_its_readers_need(real_events: list[ev.Event]) -> None:
    """Samples to thin, warnings to merge, a failure, a refusal, a session's two ends."""
    kinds = [e.type for e in real_events]
    assert kinds[0] == "session_started" and kinds[-1] == "session_finished"
    assert kinds.count("sample") >= 4 and kinds.count("warning") == 12
    assert kinds.count("run_failed") == 1 and kinds.count("run_refused") == 1
