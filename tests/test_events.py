"""The event wire format: typed, versioned, one JSON object per line, never fatal."""

from __future__ import annotations

import json
import math

import pytest

from qtui.core import events as ev


def _examples() -> list[ev.Event]:
    return [
        ev.SessionStarted(session_id="s", machine={"cpu_model": "x"}, qtui_version="0.1.0"),
        ev.SessionFinished(session_id="s", interrupted=True),
        ev.RunRefused(device="lightning.qubit", diff_method="backprop", reason="no"),
        ev.RunQueued(run_id="r1", spec={"device": "default.qubit"}),
        ev.RunLaunched(run_id="r1", pid=1),
        ev.RunStarted(run_id="r1", spec={}, pid=1, host="h", versions={"torch": "2"}),
        ev.RunStarted(
            run_id="r2", spec={}, pid=1, host="h", versions={}, params_used=["epochs", "lr"],
        ),
        ev.Batch(run_id="r1", epoch=1, batch=2, loss=0.5, step=2, elapsed_s=0.1),
        ev.Epoch(run_id="r1", epoch=1, mean_loss=0.5108, elapsed_s=0.5),
        ev.Validation(
            run_id="r1", epoch=1, loss=0.61,
            metrics={"mse": ev.Metric(value=0.01, higher_is_better=False)},
        ),
        ev.WarningSeen(
            run_id="r1", category="UserWarning", message="m", filename="f.py", lineno=3,
            count=7, first_t=1.0, last_t=2.0,
        ),
        ev.Phases(run_id="r1", seconds={"optimizer": 0.1}, steps=4),
        ev.Logged(run_id="r1", step=3, values={"accuracy": 0.9}, elapsed_s=0.2),
        ev.ScriptOutput(
            run_id="r1", stdout_path="/d/outputs/s/r1.stdout", stderr_path="/d/outputs/s/r1.stderr",
            limit_bytes=64 * 1024**2,
        ),
        ev.ScriptEnded(
            run_id="r1", exit_code=0, command=["/t/train.py", "--n", "3"],
            asked_devices=["default.qubit"], asked_diff_methods=["backprop"],
            device_override="lightning.qubit", stdout_tail=["epoch 1"], loss_points=20,
            stdout_bytes=8, stderr_bytes=0,
        ),
        ev.Sample(
            run_id="r1", percpu=[1.0, 2.0], rss=10, peak_rss=11, threads=3, peak_threads=4,
            cpu_s=0.5, wall_s=1.0, cores_in_use=0.5,
        ),
        ev.RunFinished(
            run_id="r1", accuracy=0.88, train_s=2.0, final_loss=0.1919, epoch_losses=[0.5],
            steps=240, core_s=2.0, cores_in_use=1.0, core_s_per_step=0.01, peak_rss=1,
            peak_threads=5, cuda_sync=True,
            metrics={
                "accuracy": ev.Metric(value=0.88, higher_is_better=True),
                "mse": ev.Metric(value=0.01, higher_is_better=False),
            },
            validation_losses=[0.61],
            quantum=ev.QuantumTruth(
                devices=[ev.DeviceUse(name="default.qubit", wires=2, executions=240, circuits=240)],
                diff_methods=["backprop"], device="default.qubit", diff_method="backprop",
                executions=240, circuits=240, executions_per_step=1.0, circuits_per_step=1.0,
                execute_s=0.7, asked="lightning.qubit+adjoint", foreign=True,
            ),
        ),
        ev.RunFailed(
            run_id="r1", exc_type="ForeignDevice",
            message="asked for lightning.qubit+adjoint, circuits ran on default.qubit+backprop",
            traceback="tb",
        ),
        ev.RunCrashed(run_id="r1", signal="SIGSEGV", exit_code=None, stderr_tail="boom"),
        ev.RunTimedOut(run_id="r1", timeout_s=5.0),
        ev.RunCancelled(run_id="r1"),
        ev.JobState(
            run_id="r1", executor="slurm", job_id="16_0", array_task_id="0", state="RUNNING",
            node="n1", machine={"cpu_model": "x", "logical_cores": 16},
        ),
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


# --- typed decoding: each kind of bad line has a reason, the others are kept ---------

GOOD_EPOCH = '{"type":"epoch","v":1,"t":1.5,"run_id":"r1","epoch":2,"mean_loss":0.5,"elapsed_s":1.0}'


def _with(**changes: object) -> str:
    d = json.loads(GOOD_EPOCH)
    d.update(changes)
    return json.dumps(d)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (_with(epoch="3"), "Expected `int`, got `str` - at `$.epoch`"),
        (_with(epoch=2**63), "$.epoch"),
        (_with(epoch=-1), "$.epoch"),
        (_with(run_id={"a": 1}), "Expected `str`, got `object` - at `$.run_id`"),
        (_with(run_id=None), "$.run_id"),
        (_with(epoch=True), "$.epoch"),
        (_with(t="yesterday"), "$.t"),
        (GOOD_EPOCH.replace('"t":1.5', '"t":NaN'), "$.t"),
        (GOOD_EPOCH.replace('"t":1.5', '"t":1e999'), "range"),
        (GOOD_EPOCH.replace('"t":1.5', '"t":Infinity'), "$.t"),
        ('{"type":"epoch","v":1,"x":' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
        (
            '{"type":"run_queued","v":1,"t":1,"run_id":"r","spec":{"x":' + "[" * 100 + "]" * 100
            + "}}",
            "nested deeper than",
        ),
        (
            '{"type":"run_queued","v":1,"t":1,"run_id":"r","spec":{"params":{"epochs":"6"}}}',
            "$.params.epochs",
        ),
        (
            '{"type":"session_started","v":1,"t":1,"session_id":"s","qtui_version":"x",'
            '"machine":{"hostname":{"a":1}}}',
            "machine",
        ),
        (
            '{"type":"session_started","v":1,"t":1,"session_id":"s","qtui_version":"x",'
            '"machine":{"x":123456789012345678901234567890}}',
            "outside 64 bits",
        ),
        ('{"type":"note","v":1,"t":1,"message":"\\ud800"}', "not valid Unicode"),
        ('{"type":"note","v":"1","t":1,"message":"m"}', "$.v"),
    ],
)
def test_wrong_types_and_ranges_are_reported(line: str, reason: str) -> None:
    event, why = ev.decode(line)
    assert event is None and why is not None and reason in why, why


def test_invalid_utf8_is_reported_for_its_line_only() -> None:
    bad = GOOD_EPOCH.encode().replace(b'"r1"', b'"r\xff1"')
    event, why = ev.decode(bad)
    assert event is None and why is not None and "not valid UTF-8" in why
    # also inside a field decoding skips (an unknown one): the whole line is checked
    event, why = ev.decode(GOOD_EPOCH.encode()[:-1] + b',"later":"\xc3"}')
    assert event is None and why is not None and "UTF-8" in why
    good, why = ev.decode(GOOD_EPOCH.encode())
    assert why is None and isinstance(good, ev.Epoch)


def test_decode_takes_bytes_or_text_and_never_raises() -> None:
    for line in (GOOD_EPOCH, GOOD_EPOCH.encode(), GOOD_EPOCH.encode() + b"\r\n", "\ufeff" + GOOD_EPOCH):
        event, why = ev.decode(line)
        assert why is None and isinstance(event, ev.Epoch) and event.epoch == 2
    for junk in (b"\x00" * 10, b"\xff\xfe", "\ud800", b"{" * 100000, b"1" * 10000, b"null"):
        event, why = ev.decode(junk)
        assert event is None and why


def test_nan_survives_the_wire_as_null_and_old_logs_with_nan_still_read() -> None:
    e = ev.RunFinished(
        run_id="r", accuracy=float("nan"), train_s=1.0, final_loss=float("nan"),
        epoch_losses=[0.5, float("inf")], steps=1, core_s=1.0, cores_in_use=1.0,
        core_s_per_step=1.0, peak_rss=1, peak_threads=1, phases={"data": float("nan")},
    )
    raw = ev.encoded(e)
    assert b"NaN" not in raw and json.loads(raw)["final_loss"] is None
    back, why = ev.decode(raw)
    assert why is None and isinstance(back, ev.RunFinished)
    assert math.isnan(back.final_loss) and math.isnan(back.epoch_losses[1])
    assert math.isnan(back.phases["data"]) and back.accuracy is None
    # Python's json (qtui before msgspec) wrote bare NaN: still readable.
    old = json.dumps({**json.loads(raw), "final_loss": float("nan"), "epoch_losses": [0.5]})
    back, why = ev.decode(old)
    assert why is None and isinstance(back, ev.RunFinished) and math.isnan(back.final_loss)


def test_encoded_once_and_decoded_lines_pass_on_unchanged() -> None:
    e = ev.Batch(run_id="r", epoch=1, batch=1, loss=0.25, step=1, elapsed_s=0.5)
    first = ev.encoded(e)
    assert ev.encoded(e) is first  # cached, not encoded again
    assert e.to_json() == first.decode()
    line = b'{"v":1,"type":"batch","t":2.0,"run_id":"r","epoch":1,"batch":1,"loss":0.25,' \
        b'"step":1,"elapsed_s":0.5,"later_field":1}'
    back, _ = ev.decode(line + b"\n")
    assert back is not None and ev.encoded(back) == line  # the original bytes, kept
    back.loss = 0.5  # a changed field drops the cache
    assert json.loads(ev.encoded(back))["loss"] == 0.5


def test_replace_gives_a_new_event_without_the_cache() -> None:
    e = ev.RunFinished(
        run_id="r", accuracy=None, train_s=1.0, final_loss=0.1, epoch_losses=[], steps=1,
        core_s=1.0, cores_in_use=1.0, core_s_per_step=1.0, peak_rss=0, peak_threads=1,
    )
    ev.encoded(e)
    new = ev.replace(e, peak_rss=7)
    assert isinstance(new, ev.RunFinished) and new.peak_rss == 7 and e.peak_rss == 0
    assert json.loads(ev.encoded(new))["peak_rss"] == 7


def test_wire_tag_is_the_type_string() -> None:
    for kind, cls in ev.EVENT_TYPES.items():
        assert cls.__struct_config__.tag == kind == cls.type
    assert ev.Batch(run_id="r", epoch=1, batch=1, loss=0.1, step=1, elapsed_s=0).type == "batch"
    assert ev.WarningSeen(
        run_id="r", category="C", message="m", filename="f", lineno=1, count=1, first_t=1,
        last_t=1,
    ).key == ("C", "m", "f", 1)


def test_from_dict_raises_value_error_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"\$\.epoch"):
        ev.from_dict(json.loads(_with(epoch="x")))
    with pytest.raises(ValueError, match="unknown event type"):
        ev.from_dict({"type": "mystery"})
    with pytest.raises(ValueError, match="not a JSON object"):
        ev.from_dict([1])  # type: ignore[arg-type]


def test_numpy_values_survive_the_wire_as_the_same_numbers() -> None:
    """What a workload hands the child (numpy losses, accuracies, arrays) is what
    every reader gets back: plain Python numbers, NaN as null, nothing rounded."""
    np = pytest.importorskip("numpy")
    batch = ev.Batch(
        run_id="r1", epoch=np.int64(2), batch=np.int32(3), loss=np.float32(0.25),  # type: ignore[arg-type]
        step=np.int64(43), elapsed_s=np.float64(1.5),  # type: ignore[arg-type]
    )
    done = ev.RunFinished(
        run_id="r1", accuracy=np.float64(0.875), train_s=np.float64(2.5),  # type: ignore[arg-type]
        final_loss=np.float32("nan"), epoch_losses=np.array([0.5, 0.25]),  # type: ignore[arg-type]
        steps=np.int64(80), core_s=3.0, cores_in_use=1.2, core_s_per_step=0.0375,  # type: ignore[arg-type]
        peak_rss=np.uint64(2**33), peak_threads=np.int16(9), phases={"data": np.float64(0.1)},  # type: ignore[arg-type]
        warnings=np.int64(0), threadpools=[],  # type: ignore[arg-type]
    )
    for sent in (batch, done):
        line = ev.encoded(sent)
        back, reason = ev.decode(line)
        assert reason is None and back is not None, reason
        assert type(back) is type(sent)
        assert json.loads(line) == json.loads(back.to_json())
    b, _ = ev.decode(ev.encoded(batch))
    assert isinstance(b, ev.Batch)
    assert (b.epoch, b.batch, b.step, b.loss, b.elapsed_s) == (2, 3, 43, 0.25, 1.5)
    assert all(type(x) in (int, float) for x in (b.epoch, b.loss))
    d, _ = ev.decode(ev.encoded(done))
    assert isinstance(d, ev.RunFinished)
    assert d.epoch_losses == [0.5, 0.25] and d.peak_rss == 2**33 and d.peak_threads == 9
    assert d.accuracy == 0.875 and d.phases == {"data": 0.1}
    assert d.final_loss != d.final_loss  # NaN in, null on the wire, NaN back
    assert json.loads(ev.encoded(done))["final_loss"] is None


def test_device_truth_is_optional_and_checked() -> None:
    """``run_finished.quantum`` (device truth): absent in older logs, typed when present."""
    old = ('{"type":"run_finished","v":1,"t":1,"run_id":"r","accuracy":null,"train_s":1,'
           '"final_loss":0.1,"epoch_losses":[],"steps":1,"core_s":1,"cores_in_use":1,'
           '"core_s_per_step":1,"peak_rss":0,"peak_threads":1}')
    back, why = ev.decode(old)
    assert why is None and isinstance(back, ev.RunFinished)
    assert back.quantum is None and back.cuda_sync is False
    d = json.loads(old)
    d["quantum"] = {"devices": [{"name": "default.qubit", "wires": -1}]}
    back, why = ev.decode(json.dumps(d))
    assert back is None and why is not None and "$.quantum.devices[0].wires" in why
    d["quantum"] = {"executions_per_step": "many"}
    back, why = ev.decode(json.dumps(d))
    assert back is None and why is not None and "$.quantum.executions_per_step" in why
    d["quantum"] = {"devices": [{"name": "lightning.qubit"}], "newer_field": 1}
    back, why = ev.decode(json.dumps(d))
    assert why is None and isinstance(back, ev.RunFinished) and back.quantum is not None
    assert back.quantum.devices[0].name == "lightning.qubit"
