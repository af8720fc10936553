"""Run specs and validation: the same clear messages for the CLI and the form."""

from __future__ import annotations

import pytest

from qtui.core.config import (
    DIFF_METHODS,
    FIELD_PARSERS,
    ConfigError,
    RunSpec,
    WorkloadParams,
    build_params,
    parse_devices,
    parse_diff_methods,
    parse_workload,
)


def test_defaults_are_the_forum_settings() -> None:
    p = WorkloadParams()
    assert (p.seed, p.samples, p.noise, p.batch_size, p.epochs, p.lr) == (42, 200, 0.1, 5, 6, 0.2)
    assert (p.qubits, p.layers, p.workload) == (2, 1, "qtui.engine.forum:build")


def test_build_params_parses_text() -> None:
    p = build_params({"epochs": "3", "lr": "0.05", "noise": "0", "qubits": 4, "seed": None})
    assert (p.epochs, p.lr, p.noise, p.qubits, p.seed) == (3, 0.05, 0.0, 4, 42)


@pytest.mark.parametrize(
    ("values", "field", "text"),
    [
        ({"epochs": "0"}, "epochs", "must be at least 1, got 0"),
        ({"epochs": "-2"}, "epochs", "must be at least 1, got -2"),
        ({"epochs": "1.5"}, "epochs", "must be a whole number, got '1.5'"),
        ({"batch_size": "300"}, "batch-size", "must not exceed the sample count (200), got 300"),
        ({"samples": "10", "batch_size": "11"}, "batch-size", "must not exceed the sample count (10)"),
        ({"lr": "abc"}, "lr", "must be a number, got 'abc'"),
        ({"lr": "-1"}, "lr", "must be a positive number, got -1"),
        ({"lr": "0"}, "lr", "must be a positive number, got 0"),
        ({"lr": "nan"}, "lr", "must be a finite number"),
        ({"qubits": "0"}, "qubits", "must be at least 1, got 0"),
        ({"layers": "0"}, "layers", "must be at least 1, got 0"),
        ({"noise": "-0.1"}, "noise", "must be at least 0"),
        ({"samples": "1"}, "samples", "must be at least 2, got 1"),
        ({"workload": "nope"}, "workload", "must look like module:function"),
    ],
)
def test_bad_values_name_the_field(values: dict[str, str], field: str, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_params(values)
    assert info.value.field == field
    assert text in info.value.detail
    assert str(info.value).startswith(f"{field}: ")


def test_diff_methods() -> None:
    assert parse_diff_methods("backprop, adjoint") == ["backprop", "adjoint"]
    with pytest.raises(ConfigError, match="'backprop' is listed twice; give each value once"):
        parse_diff_methods("backprop, adjoint,backprop")
    with pytest.raises(ConfigError, match="item 2 of 'backprop,,adjoint' is empty"):
        parse_diff_methods("backprop,,adjoint")
    assert parse_diff_methods(",".join(DIFF_METHODS)) == list(DIFF_METHODS)
    with pytest.raises(ConfigError, match="unknown method 'magic'; allowed: backprop"):
        parse_diff_methods("backprop,magic")
    with pytest.raises(ConfigError, match="needs at least one value"):
        parse_diff_methods("  ")
    with pytest.raises(ConfigError, match="item 1 of ',' is empty"):
        parse_diff_methods(" , ")


def test_devices_are_checked_against_the_probe() -> None:
    known = ["default.qubit", "lightning.qubit"]
    assert parse_devices("lightning.qubit,default.qubit", known) == ["lightning.qubit", "default.qubit"]
    assert parse_devices("anything.at.all", None) == ["anything.at.all"]
    with pytest.raises(ConfigError) as info:
        parse_devices("nope", known)
    assert info.value.field == "device"
    assert "available: default.qubit, lightning.qubit" in info.value.detail


def test_run_level_parsers() -> None:
    assert FIELD_PARSERS["repeat"]("3") == 3
    assert FIELD_PARSERS["timeout"]("2.5") == 2.5
    assert FIELD_PARSERS["interval"]("0.1") == 0.1
    for name, bad in (("repeat", "0"), ("timeout", "-1"), ("interval", "20")):
        with pytest.raises(ConfigError) as info:
            FIELD_PARSERS[name](bad)
        assert info.value.field == name


def test_workload_spec_shape() -> None:
    assert parse_workload(" mypkg.bench:build ") == "mypkg.bench:build"
    for bad in ("mypkg.bench", ":build", "a b:c", "pkg:1x"):
        with pytest.raises(ConfigError):
            parse_workload(bad)


def test_run_spec_round_trip() -> None:
    spec = RunSpec("lightning.qubit", "adjoint", WorkloadParams(epochs=2), 1, 30.0, "r7")
    back = RunSpec.from_dict(spec.to_dict())
    assert back == spec
    assert back.combo == "lightning.qubit+adjoint"
    assert spec.with_id("r8").run_id == "r8"
    # unknown parameters from a newer qtui are ignored, not fatal
    d = spec.to_dict()
    d["params"]["from_the_future"] = 1
    assert RunSpec.from_dict(d) == spec


def test_limits_come_from_the_machine() -> None:
    """n qubits need 16 * 2**n bytes; a sample about 2 KiB; the seed is numpy's 32 bits."""
    from qtui.core.config import SEED_MAX, max_qubits, max_samples, memory_bytes

    assert max_qubits(16 * 2**30) == 30  # exactly one 30-qubit state vector
    assert max_qubits(16 * 2**30 - 1) == 29
    assert max_qubits(2**37) == 33  # 128 GiB
    assert max_samples(2**30) == 2**30 // 2048
    assert 16 * 2 ** max_qubits() <= memory_bytes() < 16 * 2 ** (max_qubits() + 1)
    assert FIELD_PARSERS["seed"](str(SEED_MAX)) == 2**32 - 1
    with pytest.raises(ConfigError, match="numpy's seeding takes 32 bits"):
        FIELD_PARSERS["seed"](str(2**32))


@pytest.mark.parametrize("text", ["\uff11", "\u0664\u0662", "1_000", "0x10", "1e3", "١.٥"])
def test_numbers_are_ascii_digits_only(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        FIELD_PARSERS["epochs"](text)
    assert info.value.field == "epochs"


# --- ranges every run survives (issue 21, item 6) -----------------------------------


def test_noise_is_capped_where_the_data_stay_finite() -> None:
    """make_moons with noise 1e38 gave float32 overflow and a NaN loss; 1e37 was finite."""
    from qtui.core.config import NOISE_MAX

    assert FIELD_PARSERS["noise"](str(NOISE_MAX)) == NOISE_MAX < 1e37
    for text in ("1e38", "1e308", str(NOISE_MAX * 1.01)):
        with pytest.raises(ConfigError, match="loss is NaN") as info:
            FIELD_PARSERS["noise"](text)
        assert info.value.field == "noise"


def test_minus_zero_is_zero() -> None:
    """make_moons refuses ``-0.0`` (its sign bit): -0 is read as 0, for every float field."""
    import math

    value = FIELD_PARSERS["noise"]("-0.0")
    assert value == 0.0 and math.copysign(1.0, value) == 1.0
    with pytest.raises(ConfigError, match="positive"):
        FIELD_PARSERS["lr"]("-0")


def test_lr_is_finite_and_below_the_limit() -> None:
    from qtui.core.config import LR_LIMIT

    assert FIELD_PARSERS["lr"]("999999") == 999999.0
    for text in (str(LR_LIMIT), "1e308", "1e39"):
        with pytest.raises(ConfigError, match="less than 1e\\+06") as info:
            FIELD_PARSERS["lr"](text)
        assert "float32" in info.value.detail


def test_layers_fit_the_machine_for_the_qubits_asked() -> None:
    """A layer is 2n-1 gates on n qubits, each about 8 KiB while a step runs."""
    from qtui.core.config import BYTES_PER_GATE, INT64_MAX, circuit_gates, max_layers, memory_bytes

    assert circuit_gates(2, 1) == 7  # H, RZ on each wire, then CNOT + 2 RY
    assert circuit_gates(1, 5) == 7
    mem = 2**30
    assert circuit_gates(1, max_layers(1, mem)) * BYTES_PER_GATE <= mem
    assert circuit_gates(1, max_layers(1, mem) + 1) * BYTES_PER_GATE > mem
    assert circuit_gates(20, max_layers(20, mem)) * BYTES_PER_GATE <= mem
    assert circuit_gates(20, max_layers(20, mem) + 1) * BYTES_PER_GATE > mem
    assert max_layers() == max_layers(1, memory_bytes())
    with pytest.raises(ConfigError, match="at most") as info:
        FIELD_PARSERS["layers"](str(INT64_MAX))
    assert info.value.field == "layers"
    assert FIELD_PARSERS["layers"](str(max_layers())) == max_layers()
    with pytest.raises(ConfigError, match="with 20 qubits") as info:
        build_params({"qubits": "20", "layers": str(max_layers(20) + 1)})
    assert info.value.field == "layers"
    assert build_params({"qubits": "20", "layers": str(max_layers(20))}).layers == max_layers(20)


# --- environment variables: ASCII digits, else a warning and the default --------------


@pytest.mark.parametrize("raw", ["\u00b2", "\u0663", "\uff11", "1_0", "-1", "x", "1.5", "9" * 40,
                                 "1\x1b[2J"])
def test_env_int_takes_ascii_digits_else_warns_once_and_uses_the_default(raw: str) -> None:
    from qtui.core.env import env_int

    said: list[str] = []
    assert env_int("QTUI_X", 7, environ={"QTUI_X": raw}, warn=said.append) == 7
    assert len(said) == 1 and "\n" not in said[0] and "\x1b" not in said[0], said
    assert said[0].startswith("QTUI_X=") and "using 7" in said[0]


def test_env_int_reads_good_values_quietly() -> None:
    from qtui.core.env import env_int

    said: list[str] = []
    assert env_int("N", 7, environ={"N": " 12 "}, warn=said.append) == 12
    assert env_int("N", 7, environ={}, warn=said.append) == 7
    assert env_int("N", 7, environ={"N": ""}, warn=said.append) == 7
    assert env_int("N", None, minimum=1, environ={"N": "0"}, warn=said.append) is None
    assert len(said) == 1 and "ignoring it" in said[0]


@pytest.mark.parametrize(("raw", "on"), [
    (None, False), ("", False), ("0", False), ("false", False), ("FALSE", False), ("no", False),
    ("off", False), (" 0 ", False), ("1", True), ("yes", True), ("true", True), ("2", True),
])
def test_env_flag(raw: str | None, on: bool) -> None:
    from qtui.core.env import env_flag

    assert env_flag("F", environ={} if raw is None else {"F": raw}) is on


def test_no_history_is_one_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """``QTUI_NO_HISTORY=0`` used to turn history off; both front ends ask ``history_enabled``."""
    from qtui.session.control import history_enabled

    monkeypatch.setenv("QTUI_NO_HISTORY", "0")
    assert history_enabled()
    monkeypatch.setenv("QTUI_NO_HISTORY", "1")
    assert not history_enabled()
