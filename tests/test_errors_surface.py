"""Failures that used to vanish now leave a trace (issue 18, item 4)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from engine_helpers import run_session, tiny

from qtui.analysis.fold import SessionSummary
from qtui.core.config import RunSpec
from qtui.engine.executor import Emit, RunHandle, Wake
from qtui.engine.thread_executor import ThreadExecutor


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("QTUI_NO_HISTORY", "1")
    yield


class GoneSampleTarget(ThreadExecutor):
    """Runs in a thread as usual, but names a process that has exited (and been
    reaped) as the one to sample: the sampler cannot start on it."""

    def __init__(self, gone_pid: int) -> None:
        self.gone_pid = gone_pid

    def launch(self, spec: RunSpec, emit: Emit, wake: Wake) -> RunHandle:
        handle = super().launch(spec, emit, wake)
        handle.sample_pid = self.gone_pid
        return handle


def test_a_run_whose_sampler_cannot_start_says_it_is_unsampled() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # exited and reaped: psutil cannot open it
    spec = RunSpec("default.qubit", "backprop", tiny(), run_id="r1")
    _, rec = run_session([spec], executor=GoneSampleTarget(gone.pid))
    assert rec.of("run_finished", "r1"), [e.to_dict() for e in rec.events]
    assert not rec.of("sample", "r1")
    folded = SessionSummary()
    for event in rec.events:
        folded.apply(event)
    notes = [n for n in folded.notes if "r1" in n and "not sampled" in n]
    assert len(notes) == 1, folded.notes
    assert str(gone.pid) in notes[0] and "NoSuchProcess" in notes[0]
