"""What a run is: validated, plain-data run specifications.

Shared by the CLI flags and the TUI form, so both say the same thing about bad
input.  Pure Python: no torch, no pennylane (device names are checked against
the capability probe's answer, passed in by the caller).
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DIFF_METHODS: tuple[str, ...] = ("backprop", "adjoint", "parameter-shift", "finite-diff", "best")
DEFAULT_WORKLOAD = "qtui.engine.forum:build"
#: ``qtui exec`` without ``--device`` / ``--diff-method``: what the script itself asks
#: for (the run is then recorded under what ran, ``qtui.engine.script_child``).
SCRIPT_CHOICE = "script"
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
    # OMP_NUM_THREADS / torch threads in the child (0 = leave the defaults;
    # THREADS_AUTO = ``--threads auto``: what is free at the run's start).
    threads: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.threads == THREADS_AUTO:  # written as the word the user typed
            d["threads"] = AUTO
        return d


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
    #: ``--allow-foreign-device``: a run whose circuits ran on another device or diff
    #: method is recorded under what ran instead of failing (``qtui.engine.device_truth``).
    allow_foreign_device: bool = False
    #: ``qtui exec``: the script and its arguments (the script's absolute path first);
    #: empty for a workload run.  ``cwd`` is where it runs; ``loss_capture`` records
    #: every scalar ``.backward()`` as a loss point (``qtui.engine.script_child``).
    command: tuple[str, ...] = ()
    cwd: str = ""
    loss_capture: bool = True
    #: The child's stdout and stderr are qtui's own (the terminal, a SLURM job's
    #: ``.out``/``.err``) instead of pipes qtui keeps the tails of: ``qtui exec``
    #: shows the script's output as ``python script`` would (``--quiet``: off).
    show_output: bool = False
    #: ``qtui exec``: the folder where the run's child keeps the script's whole output
    #: (``<run id>.stdout``, ``.stderr``); the supervisor names it for every script run
    #: (``qtui.core.paths.script_output_dir``); "" keeps none.
    output_dir: str = ""

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
        if self.allow_foreign_device:  # likewise absent when off
            d["allow_foreign_device"] = True
        if self.command:  # a `qtui exec` run; absent otherwise
            d["command"] = list(self.command)
            d["cwd"] = self.cwd
            d["loss_capture"] = self.loss_capture
        if self.show_output:  # absent when off
            d["show_output"] = True
        if self.output_dir:  # absent when none
            d["output_dir"] = self.output_dir
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        known = set(WorkloadParams.__dataclass_fields__)
        given = {k: v for k, v in d.get("params", {}).items() if k in known}
        if given.get("threads") == AUTO:
            given["threads"] = THREADS_AUTO
        params = WorkloadParams(**given)
        return cls(
            device=d["device"],
            diff_method=d["diff_method"],
            params=params,
            repeat_index=int(d.get("repeat_index", 0)),
            timeout_s=d.get("timeout_s"),
            run_id=d.get("run_id", ""),
            workload_path=tuple(str(p) for p in d.get("workload_path") or ()),
            allow_foreign_device=d.get("allow_foreign_device") is True,
            command=tuple(str(a) for a in d.get("command") or ()),
            cwd=str(d.get("cwd") or ""),
            loss_capture=d.get("loss_capture") is not False,
            show_output=d.get("show_output") is True,
            output_dir=str(d.get("output_dir") or ""),
        )

    def with_id(self, run_id: str) -> RunSpec:
        return replace(self, run_id=run_id)


# --- field parsers: text in, value out, ConfigError with a clear message otherwise ---


#: The event stream carries 64-bit integers (``qtui.core.events``): no field may exceed them.
INT64_MAX = 2**63 - 1
#: numpy's legacy seeding (``np.random.seed``, and ``make_moons`` draws from it) takes 0..2**32-1;
#: a larger seed would pass here and fail in the child.
SEED_MAX = 2**32 - 1
#: Bytes one forum sample costs in the child (make_moons arrays, tensors, the per-sample
#: pairs the DataLoader indexes): 1.3 KiB measured, rounded up.
BYTES_PER_SAMPLE = 2048
#: Bytes of a state vector per amplitude (complex128): n qubits need 16 * 2**n bytes.
BYTES_PER_AMPLITUDE = 16
#: The most threads a child may be asked for, per logical CPU (oversubscription studies).
THREADS_PER_CPU = 16
#: ``--threads auto``: every pool gets the CPUs the run may use minus those other
#: processes keep busy at its start, at least 1 (``qtui.core.cpu_fit``).  Held as
#: this number in ``WorkloadParams.threads``, written as ``"auto"`` in every dict.
AUTO = "auto"
THREADS_AUTO = -1
#: --noise: the standard deviation make_moons adds to points on two moons about 3 units
#: across.  Far past the point where the moons are lost in the noise, and far below
#: where the data overflow float32 (the forum's loss was finite at 1e37 and NaN at 1e38).
NOISE_MAX = 1e6
NOISE_WHY = (
    "the moons span about 3 units, so more is noise alone; from about 1e38 the data "
    "overflow float32 and the loss is NaN"
)
#: --lr: an SGD step is lr x gradient, with lr held in float32 by torch.  The forum's loss
#: was flat (0.5) from lr 10, NaN for some seeds from 1e30; above 3.4e38 every run failed.
LR_LIMIT = 1e6
LR_WHY = (
    "torch's SGD holds lr in float32: above 3.4e38 every run fails, and from about 1e30 "
    "the loss turns NaN"
)
#: Bytes one gate of the circuit costs while a step runs (its operation, its tape entry,
#: the saved tensors of its backward): 7.3 KiB (adjoint) to 15 KiB (backprop) measured
#: on the forum circuit with 2 qubits and 10,000 layers; the smaller, rounded up.
BYTES_PER_GATE = 8192
#: Runs per combination (--repeat): beyond this a session would only be a list in memory.
MAX_REPEAT = 10_000
#: Runs in one sweep (combinations x points x repeats), checked before they are listed.
MAX_RUNS = 100_000

_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_ASCII_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)
#: Longer digit strings are refused before conversion (Python refuses > 4300 digits anyway).
_MAX_DIGITS = 40


@functools.cache
def memory_bytes() -> int:
    """What this machine can hold: physical memory, or the cgroup's limit when lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: psutil knows
        import psutil

        total = int(psutil.virtual_memory().total)
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isascii() and text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return int(total)


def max_qubits(memory: int | None = None) -> int:
    """The most qubits whose state vector (16 * 2**n bytes) fits in ``memory`` (this machine's)."""
    mem = memory_bytes() if memory is None else memory
    return max(1, (mem // BYTES_PER_AMPLITUDE).bit_length() - 1)


def max_samples(memory: int | None = None) -> int:
    """The most make_moons samples whose data fits in ``memory`` (``BYTES_PER_SAMPLE`` each)."""
    mem = memory_bytes() if memory is None else memory
    return max(2, mem // BYTES_PER_SAMPLE)


def circuit_gates(qubits: int, layers: int) -> int:
    """Gates in the forum circuit: H and RZ per wire, then per layer a CNOT chain and an RY per wire."""
    return 2 * qubits + layers * (2 * qubits - 1)


def max_layers(qubits: int = 1, memory: int | None = None) -> int:
    """The most layers whose circuit on ``qubits`` wires fits in ``memory`` (``BYTES_PER_GATE`` a gate)."""
    mem = memory_bytes() if memory is None else memory
    return max(1, (mem // BYTES_PER_GATE - 2 * qubits) // (2 * qubits - 1))


def max_threads() -> int:
    return THREADS_PER_CPU * (os.cpu_count() or 1)


def _show(value: int) -> str:
    """A number for a message: a huge one is described, not printed in full."""
    text = str(value)
    return text if len(text) <= _MAX_DIGITS else f"a {len(text)}-digit number"


def _quote(s: str, limit: int = 60) -> str:
    """``repr`` of user text, cut so that a huge argument still makes a short line."""
    return repr(s) if len(s) <= limit else f"{s[:limit]!r}... ({len(s)} characters)"


def _check_ascii(name: str, s: str) -> None:
    if not s.isascii():
        raise ConfigError(name, f"must be written with ASCII digits (0-9), got {_quote(s)}")


def parse_int(
    name: str,
    text: str | int,
    *,
    minimum: int | None = None,
    maximum: int = INT64_MAX,
    why_max: str = "",
) -> int:
    """A whole number written in ASCII digits (``int()`` would also take "１" and "1_000")."""
    if isinstance(text, bool):
        raise ConfigError(name, f"must be a whole number, got {text!r}")
    if isinstance(text, int):
        value = text
    else:
        s = str(text).strip()
        _check_ascii(name, s)
        if not _ASCII_INT.fullmatch(s):
            raise ConfigError(name, f"must be a whole number, got {_quote(s)}")
        core = s.lstrip("+-").lstrip("0") or "0"
        if len(core) > _MAX_DIGITS:  # never converted: Python refuses > 4300 digits anyway
            if s.startswith("-"):
                low = minimum if minimum is not None else -INT64_MAX - 1
                got = f"a negative {len(core)}-digit number"
                raise ConfigError(name, f"must be at least {low}, got {got}")
            got = f"a {len(core)}-digit number"
            raise ConfigError(name, f"must be at most {maximum}{why_max}, got {got}")
        value = int(s)
    low = minimum if minimum is not None else -INT64_MAX - 1
    if value < low:
        raise ConfigError(name, f"must be at least {low}, got {_show(value)}")
    if value > maximum:
        raise ConfigError(name, f"must be at most {maximum}{why_max}, got {_show(value)}")
    return value


def parse_float(
    name: str,
    text: str | float,
    *,
    positive: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    less_than: float | None = None,
    why_max: str = "",
) -> float:
    """A finite number written in ASCII (``float()`` would also take "１.５").

    ``-0`` is read as 0: make_moons refuses a noise with a minus sign, -0.0 too."""
    if isinstance(text, bool):
        raise ConfigError(name, f"must be a number, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        s = str(text).strip()
        _check_ascii(name, s)
        if not _ASCII_FLOAT.fullmatch(s):
            raise ConfigError(name, f"must be a number, got {_quote(s)}")
        value = float(s)
    if not math.isfinite(value):
        raise ConfigError(name, f"must be a finite number, got {value}")
    value += 0.0  # -0.0 + 0.0 is +0.0
    if positive and value <= 0:
        raise ConfigError(name, f"must be a positive number, got {value:g}")
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise ConfigError(name, f"must be at most {maximum:g}{why_max}, got {value:g}")
    if less_than is not None and value >= less_than:
        raise ConfigError(name, f"must be less than {less_than:g}{why_max}, got {value:g}")
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


def parse_list(name: str, text: str, *, twice_hint: str = "") -> list[str]:
    """Comma-separated values: no empty item (``a,,b``), no value twice (``a,a``).

    Both are refused rather than silently dropped: an empty item is usually a
    lost value, and a repeated one asks for something ``--repeat`` says.
    """
    s = str(text).strip()
    if not s:
        raise ConfigError(name, "needs at least one value (comma-separated)")
    items = [p.strip() for p in s.split(",")]
    for i, item in enumerate(items, 1):
        if not item:
            raise ConfigError(
                name, f"item {i} of {s!r} is empty; separate values with single commas"
            )
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ConfigError(
                name, f"{item!r} is listed twice; give each value once{twice_hint}"
            )
        seen.add(item)
    return items


_REPEAT_HINT = " (--repeat runs a combination more than once)"


def parse_int_list(name: str, text: str, *, minimum: int, maximum: int = INT64_MAX,
                   why_max: str = "") -> list[int]:
    """``"2,4,8"`` -> ``[2, 4, 8]`` (sorted), each checked like the single field."""
    values = [
        parse_int(name, item, minimum=minimum, maximum=maximum, why_max=why_max)
        for item in parse_list(name, text)
    ]
    if len(set(values)) != len(values):  # "4,04": the same number twice
        dup = next(v for v in values if values.count(v) > 1)
        raise ConfigError(name, f"{dup} is listed twice; give each value once")
    return sorted(values)


def parse_diff_methods(text: str) -> list[str]:
    items = parse_list("diff-method", text, twice_hint=_REPEAT_HINT)
    for m in items:
        if m not in DIFF_METHODS:
            raise ConfigError(
                "diff-method", f"unknown method {m!r}; allowed: {', '.join(DIFF_METHODS)}"
            )
    return items


def parse_devices(text: str, known: Iterable[str] | None) -> list[str]:
    """Device names, checked against the probe's list when one is given."""
    items = parse_list("device", text, twice_hint=_REPEAT_HINT)
    if known is not None:
        allowed = list(known)
        for d in items:
            if d not in allowed:
                raise ConfigError(
                    "device",
                    f"unknown or unusable device {d!r}; available: {', '.join(allowed)}",
                )
    return items


def qubit_limit_why() -> str:
    """Where the qubit limit comes from, for ``--help`` and messages."""
    return (
        f"a state vector of n qubits is 16*2^n bytes; this machine holds "
        f"{memory_bytes() / 2**30:.1f} GiB"
    )


def samples_limit_why() -> str:
    return (
        f"about {BYTES_PER_SAMPLE // 1024} KiB per sample in the child; this machine holds "
        f"{memory_bytes() / 2**30:.1f} GiB"
    )


def layers_limit_why(qubits: int = 1) -> str:
    """Where the layer limit comes from, for ``--help`` and messages."""
    return (
        f"a layer is 2n-1 gates on n qubits, about {BYTES_PER_GATE // 1024} KiB each while a "
        f"step runs; this machine holds {memory_bytes() / 2**30:.1f} GiB"
    )


def limit_help(field_name: str) -> str:
    """The limit of a field in words, for ``--help`` (``""`` when only 64 bits bound it)."""
    texts = {
        "seed": f"0 to {SEED_MAX}: numpy's seeding takes 32 bits",
        "samples": f"2 to {max_samples()}: {samples_limit_why()}",
        "qubits": f"1 to {max_qubits()}: {qubit_limit_why()}",
        "threads": f"{AUTO} (the CPUs free at the run's start), or at most {max_threads()}: "
        f"{THREADS_PER_CPU} per logical CPU",
        "repeat": f"1 to {MAX_REPEAT}",
        "noise": f"0 to {NOISE_MAX:g}: {NOISE_WHY}",
        "lr": f"above 0, below {LR_LIMIT:g}: {LR_WHY}",
        "layers": f"1 to {max_layers()} (1 qubit; fewer with more): {layers_limit_why()}",
    }
    return f"; {texts[field_name]}" if field_name in texts else ""


def _qubits(name: str, s: str) -> int:
    return parse_int(name, s, minimum=1, maximum=max_qubits(), why_max=f" ({qubit_limit_why()})")


def _samples(s: str) -> int:
    return parse_int(
        "samples", s, minimum=2, maximum=max_samples(), why_max=f" ({samples_limit_why()})"
    )


def _threads(name: str, s: str | int, minimum: int) -> int:
    """A thread count, or ``auto`` (``THREADS_AUTO``); a bad value's message says both."""
    if s == THREADS_AUTO or (isinstance(s, str) and s.strip().lower() == AUTO):
        return THREADS_AUTO
    why = f" ({THREADS_PER_CPU} per logical CPU)"
    try:
        return parse_int(name, s, minimum=minimum, maximum=max_threads(), why_max=why)
    except ConfigError as exc:
        raise ConfigError(
            name, f"{exc.detail}; or {AUTO}: the CPUs free at the run's start"
        ) from None


#: Per-field parsers used by both the CLI and the TUI form.  Each takes the raw
#: text and returns the parsed value or raises ConfigError naming the field.
FIELD_PARSERS: dict[str, Callable[[str], Any]] = {
    "seed": lambda s: parse_int(
        "seed", s, minimum=0, maximum=SEED_MAX, why_max=" (numpy's seeding takes 32 bits)"
    ),
    "samples": _samples,
    "noise": lambda s: parse_float(
        "noise", s, minimum=0.0, maximum=NOISE_MAX, why_max=f" ({NOISE_WHY})"
    ),
    "batch_size": lambda s: parse_int("batch-size", s, minimum=1),
    "epochs": lambda s: parse_int("epochs", s, minimum=1),
    "lr": lambda s: parse_float(
        "lr", s, positive=True, less_than=LR_LIMIT, why_max=f" ({LR_WHY})"
    ),
    "qubits": lambda s: _qubits("qubits", s),
    "layers": lambda s: parse_int(
        "layers", s, minimum=1, maximum=max_layers(), why_max=f" ({layers_limit_why()})"
    ),
    "workload": parse_workload,
    "steps": lambda s: parse_int("steps", s, minimum=0),
    "warmup": lambda s: parse_int("warmup", s, minimum=0),
    "threads": lambda s: _threads("threads", s, 0),
    "repeat": lambda s: parse_int("repeat", s, minimum=1, maximum=MAX_REPEAT),
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
    if p.qubits > 0 and p.layers > max_layers(p.qubits):
        raise ConfigError(
            "layers",
            f"must be at most {max_layers(p.qubits)} with {p.qubits} qubits "
            f"({layers_limit_why()}), got {_show(p.layers)}",
        )
