"""The event wire format: typed, versioned, one JSON object per line, never fatal."""

from __future__ import annotations

import json

import pytest

from qtui import events as ev


def _examples() -> list[ev.Event]:
    return [
        ev.SessionStarted(session_id="s", machine={"cpu_model": "x"}, qtui_version="0.1.0"),
        ev.SessionFinished(session_id="s", interrupted=True),
        ev.RunRefused(device="lightning.qubit", diff_method="backprop", reason="no"),
        ev.RunQueued(run_id="r1", spec={"device": "default.qubit"}),
        ev.RunLaunched(run_id="r1", pid=1),
        ev.RunStarted(run_id="r1", spec={}, pid=1, host="h", versions={"torch": "2"}),
        ev.Batch(run_id="r1", epoch=1, batch=2, loss=0.5, step=2, elapsed_s=0.1),
        ev.Epoch(run_id="r1", epoch=1, mean_loss=0.5108, elapsed_s=0.5),
        ev.WarningSeen(
            run_id="r1", category="UserWarning", message="m", filename="f.py", lineno=3,
            count=7, first_t=1.0, last_t=2.0,
        ),
        ev.Phases(run_id="r1", seconds={"optimizer": 0.1}, steps=4),
        ev.Sample(
            run_id="r1", percpu=[1.0, 2.0], rss=10, peak_rss=11, threads=3, peak_threads=4,
            cpu_s=0.5, wall_s=1.0, cores_in_use=0.5,
        ),
        ev.RunFinished(
            run_id="r1", accuracy=0.88, train_s=2.0, final_loss=0.1919, epoch_losses=[0.5],
            steps=240, core_s=2.0, cores_in_use=1.0, core_s_per_step=0.01, peak_rss=1,
            peak_threads=5,
        ),
        ev.RunFailed(run_id="r1", exc_type="ValueError", message="m", traceback="tb"),
        ev.RunCrashed(run_id="r1", signal="SIGSEGV", exit_code=None, stderr_tail="boom"),
        ev.RunTimedOut(run_id="r1", timeout_s=5.0),
        ev.RunCancelled(run_id="r1"),
        ev.LogNote(message="note"),
    ]


def test_every_type_has_an_example() -> None:
    assert {e.type for e in _examples()} == set(ev.EVENT_TYPES)


@pytest.mark.parametrize("event", _examples(), ids=lambda e: e.type)
def test_round_trip(event: ev.Event) -> None:
    line = event.to_json()
    assert "\n" not in line
    obj = json.loads(line)
    assert obj["type"] == event.type and obj["v"] == ev.SCHEMA_VERSION and "t" in obj
    back, reason = ev.decode(line)
    assert reason is None
    assert back == event
    back_bytes, reason = ev.decode(ev.encoded(event) + b"\n")
    assert reason is None and back_bytes == event


def test_terminal_types_are_event_types() -> None:
    assert set(ev.EVENT_TYPES) >= ev.TERMINAL_TYPES
    assert "run_finished" in ev.TERMINAL_TYPES and "batch" not in ev.TERMINAL_TYPES


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "empty line"),
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"type": "nope", "v": 1}', "unknown event type 'nope'"),
        ('{"v": 1}', "unknown event type None"),
        ('{"type": "batch", "v": 99, "run_id": "r"}', "newer than this qtui"),
        ('{"type": "batch", "v": 1, "run_id": "r"}', "missing fields"),
    ],
)
def test_malformed_lines_decode_to_a_reason(line: str, reason: str) -> None:
    event, why = ev.decode(line)
    assert event is None
    assert why is not None and reason in why


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    line = ev.Epoch(run_id="r", epoch=1, mean_loss=0.1, elapsed_s=1).to_dict()
    line["added_later"] = 1
    event, why = ev.decode(json.dumps(line))
    assert why is None and isinstance(event, ev.Epoch)


def test_numpy_and_tensor_like_values_serialise() -> None:
    np = pytest.importorskip("numpy")

    class Scalar:
        def item(self) -> float:
            return 0.25

    e = ev.Sample(
        run_id="r", percpu=np.array([1.0, 2.5]), rss=np.int64(10), peak_rss=11, threads=3,
        peak_threads=4, cpu_s=np.float32(0.5), wall_s=Scalar(), cores_in_use=0.5,  # type: ignore[arg-type]
    )
    d = json.loads(ev.encoded(e))
    assert d["percpu"] == [1.0, 2.5] and d["rss"] == 10 and d["cpu_s"] == 0.5
    assert d["wall_s"] == 0.25
    assert json.loads(ev.LogNote(message="x").to_json())["message"] == "x"
