"""Sweeps: how time and cost per step change as circuits, batches or thread pools grow.

A sweep is the cross product of devices × diff methods × the values of each
swept axis (qubits, layers, batch size, threads).  Every point is one run in
its own child that trains ``warmup`` steps unmeasured, then ``steps``
measured steps (``WorkloadParams.steps``/``warmup``).  The analysis reads the
summary's ``results[]`` in ``qtui.analysis.crossovers``.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from qtui.core.config import (
    AUTO,
    FIELD_PARSERS,
    THREADS_AUTO,
    THREADS_PER_CPU,
    ConfigError,
    RunSpec,
    WorkloadParams,
    build_params,
    check_params,
    layers_limit_why,
    max_layers,
    max_qubits,
    max_threads,
    parse_int_list,
    qubit_limit_why,
)

#: What a sweep measures when not told otherwise (``qtui sweep`` and the TUI's sweep form).
DEFAULT_STEPS = 20
DEFAULT_WARMUP = 3

#: Axis name -> (WorkloadParams field, smallest allowed value, the axis in words)
AXES: dict[str, tuple[str, int, str]] = {
    "qubits": ("qubits", 1, "qubit count"),
    "layers": ("layers", 1, "layer count"),
    "batch_size": ("batch_size", 1, "batch size"),
    "threads": ("threads", 1, "thread count"),
}

_VALUE_WORDS = {
    "qubits": "{} qubits",
    "layers": "{} layers",
    "batch_size": "batch size {}",
    "threads": "{} threads",
}


def at(axis: str, value: Any) -> str:
    """``4 qubits``, ``batch size 8``: one point of an axis in words."""
    return _VALUE_WORDS.get(axis, axis + " {}").format(value)


def parse_axis(name: str, text: str) -> list[int]:
    """``"2,4,8"`` -> ``[2, 4, 8]`` (sorted), each value checked like the single flag.

    An empty item (``2,,4``) or a value given twice (``2,4,2``) is refused
    (``qtui.core.config.parse_list``), as for every list flag.
    """
    field, minimum, _ = AXES[name]
    flag = name.replace("_", "-")
    limits: dict[str, Any] = {}
    if field == "qubits":
        limits = {"maximum": max_qubits(), "why_max": f" ({qubit_limit_why()})"}
        if text.strip().endswith(OPEN_END):
            return _open_ended(flag, text.strip().removesuffix(OPEN_END), minimum, limits)
    elif field == "layers":
        limits = {"maximum": max_layers(), "why_max": f" ({layers_limit_why()})"}
    elif field == "threads":
        if text.strip().lower() == AUTO:  # one value, not a point among numbers
            return [THREADS_AUTO]
        limits = {"maximum": max_threads(), "why_max": f" ({THREADS_PER_CPU} per logical CPU)"}
        if AUTO in (item.strip().lower() for item in text.split(",")):
            raise ConfigError(flag, f"{AUTO} stands alone (every run's pools get the CPUs free "
                              "at its start); a list is of whole numbers")
        try:
            return parse_int_list(flag, text, minimum=minimum, **limits)
        except ConfigError as exc:
            raise ConfigError(flag, f"{exc.detail}; or {AUTO} alone") from None
    return parse_int_list(flag, text, minimum=minimum, **limits)


#: ``--qubits 2..``: from 2 up, every other qubit, as far as the sweep's limits let it.
OPEN_END = ".."


def _open_ended(flag: str, start: str, minimum: int, limits: dict[str, Any]) -> list[int]:
    """``2..`` -> 2, 4, 6, ... up to the largest statevector this machine holds; the sweep
    runs them in order and stops at its first limit (``qtui.session.size_limits``)."""
    first = parse_int_list(flag, start, minimum=minimum, **limits)
    if len(first) != 1:
        raise ConfigError(flag, f"an open-ended range is one number then '..', like 2..; got {start + OPEN_END!r}")
    return list(range(first[0], int(limits["maximum"]) + 1, 2))


def parse_steps(text: str) -> int:
    """Measured steps per point: a whole number, at least 1."""
    steps = int(FIELD_PARSERS["steps"](text))
    if steps < 1:
        raise ConfigError("steps", f"must be at least 1, got {steps}")
    return steps


def base_params(
    values: dict[str, Any], axes: dict[str, list[int]], steps: int, warmup: int
) -> WorkloadParams:
    """The workload every point starts from (one epoch, step-limited).

    ``values`` holds the single-valued fields (seed, samples, noise, lr,
    workload) as text or values; the largest swept batch size is checked
    against the sample count here, so the error names the field once.
    """
    merged: dict[str, Any] = {**values, "steps": steps, "warmup": warmup, "epochs": 1}
    if "batch_size" in axes:
        merged["batch_size"] = max(axes["batch_size"])
    return build_params(merged)


def expand(
    devices: list[str],
    methods: list[str],
    axes: dict[str, list[int]],
    base: WorkloadParams,
    *,
    repeat: int = 1,
    timeout_s: float | None = None,
) -> list[RunSpec]:
    """Every sweep point as a RunSpec (devices × methods innermost, repeats outermost)."""
    names = [n for n in AXES if n in axes]
    points: list[WorkloadParams] = []
    for values in itertools.product(*(axes[n] for n in names)):
        changes: dict[str, Any] = {AXES[n][0]: v for n, v in zip(names, values, strict=True)}
        params = replace(base, **changes)
        check_params(params)
        points.append(params)
    # Repeats outermost: each pass visits every point once, so slow drift on a
    # shared node spreads over every point instead of biasing one.
    return [
        RunSpec(device=d, diff_method=m, params=params, repeat_index=r, timeout_s=timeout_s)
        for r in range(repeat)
        for params in points
        for d, m in itertools.product(devices, methods)
    ]
