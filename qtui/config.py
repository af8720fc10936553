"""What a run is: validated, plain-data run specifications.

Shared by the CLI flags and the TUI form, so both say the same thing about bad
input.  Pure Python: no torch, no pennylane (device names are checked against
the capability probe's answer, passed in by the caller).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

DIFF_METHODS: tuple[str, ...] = ("backprop", "adjoint", "parameter-shift", "finite-diff", "best")
DEFAULT_WORKLOAD = "qtui.engine.forum:build"
_WORKLOAD_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ConfigError(ValueError):
    """Bad input: the message names the field and what is allowed."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.detail = message


@dataclass(frozen=True)
class WorkloadParams:
    """The forum's parameters, with the forum's values as defaults."""

    seed: int = 42
    samples: int = 200
    noise: float = 0.1
    batch_size: int = 5
    epochs: int = 6
    lr: float = 0.2
    qubits: int = 2
    layers: int = 1
    workload: str = DEFAULT_WORKLOAD
    # Sweep mode: stop after ``warmup + steps`` training steps (0 = run all epochs).
    steps: int = 0
    warmup: int = 0
    # OMP_NUM_THREADS / torch threads in the child (0 = leave the defaults).
    threads: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunSpec:
    """One run: a device, a diff method, the workload parameters and limits."""

    device: str
    diff_method: str
    params: WorkloadParams = field(default_factory=WorkloadParams)
    repeat_index: int = 0  # 0-based index among --repeat
    timeout_s: float | None = None
    run_id: str = ""
    #: Folders the child searches for the workload's module (``--workload-path``);
    #: empty: the current directory.  Only that module is looked up there; the
    #: folders are not put on ``sys.path`` (``qtui.engine.workload.load_builder``).
    workload_path: tuple[str, ...] = ()

    @property
    def combo(self) -> str:
        return f"{self.device}+{self.diff_method}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "run_id": self.run_id,
            "device": self.device,
            "diff_method": self.diff_method,
            "repeat_index": self.repeat_index,
            "timeout_s": self.timeout_s,
            "params": self.params.to_dict(),
        }
        if self.workload_path:  # absent when default, so existing logs and summaries read the same
            d["workload_path"] = list(self.workload_path)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        known = set(WorkloadParams.__dataclass_fields__)
        params = WorkloadParams(**{k: v for k, v in d.get("params", {}).items() if k in known})
        return cls(
            device=d["device"],
            diff_method=d["diff_method"],
            params=params,
            repeat_index=int(d.get("repeat_index", 0)),
            timeout_s=d.get("timeout_s"),
            run_id=d.get("run_id", ""),
            workload_path=tuple(str(p) for p in d.get("workload_path") or ()),
        )

    def with_id(self, run_id: str) -> RunSpec:
        return replace(self, run_id=run_id)


# --- field parsers: text in, value out, ConfigError with a clear message otherwise ---


def parse_int(name: str, text: str | int, *, minimum: int | None = None) -> int:
    if isinstance(text, bool):
        raise ConfigError(name, f"must be a whole number, got {text!r}")
    if isinstance(text, int):
        value = text
    else:
        s = str(text).strip()
        try:
            value = int(s)
        except ValueError:
            raise ConfigError(name, f"must be a whole number, got {s!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def parse_float(
    name: str,
    text: str | float,
    *,
    positive: bool = False,
    minimum: float | None = None,
) -> float:
    if isinstance(text, bool):
        raise ConfigError(name, f"must be a number, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        s = str(text).strip()
        try:
            value = float(s)
        except ValueError:
            raise ConfigError(name, f"must be a number, got {s!r}") from None
    if not math.isfinite(value):
        raise ConfigError(name, f"must be a finite number, got {value}")
    if positive and value <= 0:
        raise ConfigError(name, f"must be a positive number, got {value:g}")
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum:g}, got {value:g}")
    return value


def parse_workload(text: str) -> str:
    s = str(text).strip()
    if not _WORKLOAD_RE.match(s):
        raise ConfigError(
            "workload",
            f"must look like module:function (e.g. mypkg.bench:build), got {s!r}",
        )
    return s


def parse_workload_path(texts: Iterable[str] | None) -> tuple[str, ...]:
    """``--workload-path`` folders as absolute paths; each must be an existing folder."""
    out: list[str] = []
    for text in texts or ():
        path = os.path.abspath(os.path.expanduser(str(text)))
        if not os.path.isdir(path):
            raise ConfigError("workload-path", f"{text!r} is not a folder")
        if path not in out:
            out.append(path)
    return tuple(out)


def parse_list(name: str, text: str) -> list[str]:
    items = [p.strip() for p in str(text).split(",") if p.strip()]
    if not items:
        raise ConfigError(name, "needs at least one value (comma-separated)")
    return items


def parse_diff_methods(text: str) -> list[str]:
    items = parse_list("diff-method", text)
    for m in items:
        if m not in DIFF_METHODS:
            raise ConfigError(
                "diff-method", f"unknown method {m!r}; allowed: {', '.join(DIFF_METHODS)}"
            )
    return _dedupe(items)


def parse_devices(text: str, known: Iterable[str] | None) -> list[str]:
    """Device names, checked against the probe's list when one is given."""
    items = parse_list("device", text)
    if known is not None:
        allowed = list(known)
        for d in items:
            if d not in allowed:
                raise ConfigError(
                    "device",
                    f"unknown or unusable device {d!r}; available: {', '.join(allowed)}",
                )
    return _dedupe(items)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


#: Per-field parsers used by both the CLI and the TUI form.  Each takes the raw
#: text and returns the parsed value or raises ConfigError naming the field.
FIELD_PARSERS: dict[str, Callable[[str], Any]] = {
    "seed": lambda s: parse_int("seed", s, minimum=0),
    "samples": lambda s: parse_int("samples", s, minimum=2),
    "noise": lambda s: parse_float("noise", s, minimum=0.0),
    "batch_size": lambda s: parse_int("batch-size", s, minimum=1),
    "epochs": lambda s: parse_int("epochs", s, minimum=1),
    "lr": lambda s: parse_float("lr", s, positive=True),
    "qubits": lambda s: parse_int("qubits", s, minimum=1),
    "layers": lambda s: parse_int("layers", s, minimum=1),
    "workload": parse_workload,
    "steps": lambda s: parse_int("steps", s, minimum=0),
    "warmup": lambda s: parse_int("warmup", s, minimum=0),
    "threads": lambda s: parse_int("threads", s, minimum=0),
    "repeat": lambda s: parse_int("repeat", s, minimum=1),
    "timeout": lambda s: parse_float("timeout", s, positive=True),
    "interval": lambda s: _parse_interval(s),
}


def _parse_interval(s: str) -> float:
    value = parse_float("interval", s, positive=True)
    if not 0.01 <= value <= 10:
        raise ConfigError("interval", f"must be between 0.01 and 10 seconds, got {value:g}")
    return value


def build_params(values: dict[str, Any]) -> WorkloadParams:
    """Parse every field given (text or value) and check the cross-field rules."""
    parsed: dict[str, Any] = {}
    for key, raw in values.items():
        if raw is None or key not in WorkloadParams.__dataclass_fields__:
            continue
        parsed[key] = FIELD_PARSERS[key](raw)
    params = WorkloadParams(**parsed)
    check_params(params)
    return params


def check_params(p: WorkloadParams) -> None:
    """Rules that involve more than one field."""
    if p.batch_size > p.samples:
        raise ConfigError(
            "batch-size",
            f"must not exceed the sample count ({p.samples}), got {p.batch_size}",
        )
