"""Sweeps: how time and cost per step change as circuits, batches or thread pools grow.

A sweep is the cross product of devices × diff methods × the values of each
swept axis (qubits, layers, batch size, threads).  Every point is one run in
its own child that trains ``warmup`` steps unmeasured, then ``steps``
measured steps (``WorkloadParams.steps``/``warmup``).  The analysis reads the
summary's ``results[]``: one series per combination (and per value of the
other swept axes), and names the crossovers in words.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from qtui.config import (
    FIELD_PARSERS,
    ConfigError,
    RunSpec,
    WorkloadParams,
    build_params,
    check_params,
    parse_int,
)
from qtui.summary import varying_parameters

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
    """``"2,4,8"`` -> ``[2, 4, 8]``, each value checked like the single flag."""
    field, minimum, _ = AXES[name]
    items = [p.strip() for p in str(text).split(",") if p.strip()]
    if not items:
        raise ConfigError(name.replace("_", "-"), "needs at least one value, e.g. 2,4,8")
    values = [parse_int(name.replace("_", "-"), item, minimum=minimum) for item in items]
    return sorted(dict.fromkeys(values))


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


def series(results: list[dict[str, Any]], axis: str) -> dict[str, list[dict[str, Any]]]:
    """Points per line: ``{label: [{x, time_per_step, core_s_per_step, peak_rss, stddev}]}``.

    A line is one combination at fixed values of every other swept parameter;
    its label names those values when they vary.
    """
    field = AXES[axis][0]
    varying = varying_parameters(results, exclude=(field,))
    lines: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if r.get("time_per_step") is None:
            continue
        p = r.get("parameters", {})
        label = str(r.get("command"))
        extra = [f"{k}={p.get(k)}" for k in varying]
        if extra:
            label += " (" + ", ".join(extra) + ")"
        steps = r.get("steps") or 1
        res = r.get("resources") or {}
        lines.setdefault(label, []).append(
            {
                "x": p.get(field),
                "time_per_step": float(r["time_per_step"]),
                "time_per_step_sd": (r["stddev"] / steps) if r.get("stddev") else None,
                "n": len(r.get("times", [])),
                "core_s_per_step": res.get("core_s_per_step"),
                "cores_in_use": res.get("cores_in_use"),
                "peak_rss": res.get("peak_rss_bytes"),
            }
        )
    for points in lines.values():
        points.sort(key=lambda pt: pt["x"])
    return lines


def swept_axes(results: list[dict[str, Any]]) -> list[str]:
    """The axes whose value differs between results."""
    fields = set(varying_parameters(results))
    return [name for name, (f, _, _) in AXES.items() if f in fields]


def _differs(a: dict[str, Any], b: dict[str, Any]) -> int:
    """-1 when a is faster, +1 when slower, 0 when within the noise."""
    ta, tb = a["time_per_step"], b["time_per_step"]
    sa, sb = a.get("time_per_step_sd"), b.get("time_per_step_sd")
    if sa and sb and a.get("n", 1) >= 2 and b.get("n", 1) >= 2:
        noise = 2.0 * ((sa**2 / a["n"]) + (sb**2 / b["n"])) ** 0.5
    else:
        noise = 0.05 * min(ta, tb)
    if abs(ta - tb) <= noise:
        return 0
    return -1 if ta < tb else 1


def crossovers(lines: dict[str, list[dict[str, Any]]], axis: str) -> list[str]:
    """Name, in words, where one line overtakes another along the axis."""
    unit = AXES[axis][2]
    out: list[str] = []
    for (la, pa), (lb, pb) in itertools.combinations(lines.items(), 2):
        bx = {pt["x"]: pt for pt in pb}
        common = [(pt, bx[pt["x"]]) for pt in pa if pt["x"] in bx]
        if len(common) < 2:
            continue
        signs = [(a["x"], _differs(a, b)) for a, b in common]
        decided = [(x, s) for x, s in signs if s != 0]
        if not decided:
            out.append(f"{la} and {lb} are within the noise of each other at every {unit} measured.")
            continue
        changes = [
            (decided[i], decided[i + 1])
            for i in range(len(decided) - 1)
            if decided[i][1] != decided[i + 1][1]
        ]
        if not changes:
            word = "faster" if decided[0][1] < 0 else "slower"
            xs = [x for x, _ in signs]
            out.append(f"{la} is {word} than {lb} at every {unit} measured ({xs[0]}–{xs[-1]}).")
            continue
        parts = []
        first_word = "faster" if decided[0][1] < 0 else "slower"
        (x0, _), (x1, s1) = changes[0]
        parts.append(f"{la} is {first_word} than {lb} up to {at(axis, x0)}")
        parts.append(f"from {at(axis, x1)} it is {'faster' if s1 < 0 else 'slower'}")
        for (_, _), (xn, sn) in changes[1:]:
            parts.append(f"and from {at(axis, xn)} {'faster' if sn < 0 else 'slower'} again")
        out.append("; ".join(parts) + ".")
    return out


def analyse(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Series and crossovers for every swept axis (empty when nothing was swept)."""
    out: dict[str, Any] = {}
    for axis in swept_axes(results):
        lines = series(results, axis)
        out[axis] = {"series": lines, "crossovers": crossovers(lines, axis)}
    return out
