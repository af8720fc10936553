"""The event stream: small, typed, versioned records, one JSON object per line.

Every view (headless CLI, TUI, exporters, history, ``qtui watch``) consumes the
same events, so this module is the contract between the engine and everything
else.  It imports nothing heavy: the UI process decodes events with it.

Wire format: one JSON object per line with at least ``v`` (schema version),
``type`` and ``t`` (unix time, seconds).  Run-scoped events carry ``run_id``.
A malformed line or an unknown ``type`` decodes to ``None`` plus a reason; the
caller reports and skips it, it is never fatal.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

SCHEMA_VERSION = 1


@dataclass
class Event:
    """Base of every event.  Subclasses set ``type``."""

    type: ClassVar[str] = "event"
    t: float = field(default_factory=time.time, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["type"] = self.type
        d["v"] = SCHEMA_VERSION
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=_json_default)


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


# --- session-level -----------------------------------------------------------


@dataclass
class SessionStarted(Event):
    """First line of a log: who, where, what was asked."""

    type: ClassVar[str] = "session_started"
    session_id: str
    machine: dict[str, Any]
    qtui_version: str
    argv: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # RunSpec.to_dict() per run
    refused: list[dict[str, Any]] = field(default_factory=list)  # RunRefused.to_dict()
    n_cpus: int = 0


@dataclass
class SessionFinished(Event):
    type: ClassVar[str] = "session_finished"
    session_id: str
    interrupted: bool = False


# --- run lifecycle -----------------------------------------------------------


@dataclass
class RunRefused(Event):
    """A combination PennyLane refuses; reported before anything trains."""

    type: ClassVar[str] = "run_refused"
    device: str
    diff_method: str
    reason: str


@dataclass
class RunQueued(Event):
    type: ClassVar[str] = "run_queued"
    run_id: str
    spec: dict[str, Any]


@dataclass
class RunLaunched(Event):
    """The run's process (or thread) exists; it is importing torch and pennylane."""

    type: ClassVar[str] = "run_launched"
    run_id: str
    pid: int
    isolation: str = "process"


@dataclass
class RunStarted(Event):
    """Emitted by the child once torch/pennylane are imported and the workload built."""

    type: ClassVar[str] = "run_started"
    run_id: str
    spec: dict[str, Any]
    pid: int
    host: str
    versions: dict[str, str]
    resolved_diff_method: str = ""
    split_batch: bool = False
    batches_per_epoch: int = 0
    threadpools: list[dict[str, Any]] = field(default_factory=list)
    import_s: float = 0.0
    build_s: float = 0.0


@dataclass
class Batch(Event):
    type: ClassVar[str] = "batch"
    run_id: str
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    loss: float
    step: int  # 1-based over the whole run
    elapsed_s: float  # since training started


@dataclass
class Epoch(Event):
    type: ClassVar[str] = "epoch"
    run_id: str
    epoch: int  # 1-based
    mean_loss: float
    elapsed_s: float


@dataclass
class WarningSeen(Event):
    """One distinct warning with its running count (the latest event per key wins)."""

    type: ClassVar[str] = "warning"
    run_id: str
    category: str
    message: str
    filename: str
    lineno: int
    count: int
    first_t: float
    last_t: float

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.category, self.message, self.filename, self.lineno)


@dataclass
class Phases(Event):
    """Cumulative seconds per training phase (see ``qtui.engine.phases``)."""

    type: ClassVar[str] = "phases"
    run_id: str
    seconds: dict[str, float]
    steps: int


@dataclass
class Sample(Event):
    """One reading of the sampler, taken from outside the child with psutil."""

    type: ClassVar[str] = "sample"
    run_id: str
    percpu: list[float]  # system-wide, one value per logical CPU, 0-100
    rss: int  # bytes
    peak_rss: int  # bytes, highest seen so far by the sampler
    threads: int
    peak_threads: int
    cpu_s: float  # child's user+system CPU seconds so far
    wall_s: float  # since the child was spawned
    cores_in_use: float  # d(cpu_s)/d(wall_s) over the last interval


@dataclass
class RunFinished(Event):
    """The run trained to the end; resources merged in by the supervisor."""

    type: ClassVar[str] = "run_finished"
    run_id: str
    accuracy: float | None
    train_s: float
    final_loss: float
    epoch_losses: list[float]
    steps: int
    core_s: float  # child CPU seconds spent in training
    cores_in_use: float  # core_s / train_s
    core_s_per_step: float
    peak_rss: int  # bytes, OS figure (ru_maxrss) of the reaped child
    peak_threads: int
    phases: dict[str, float] = field(default_factory=dict)
    warnings: int = 0  # total occurrences
    threadpools: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunFailed(Event):
    """The workload raised a Python exception."""

    type: ClassVar[str] = "run_failed"
    run_id: str
    exc_type: str
    message: str
    traceback: str


@dataclass
class RunCrashed(Event):
    """The child died without reporting: a signal (segfault, kill) or an exit code."""

    type: ClassVar[str] = "run_crashed"
    run_id: str
    signal: str | None
    exit_code: int | None
    stderr_tail: str = ""


@dataclass
class RunTimedOut(Event):
    type: ClassVar[str] = "run_timed_out"
    run_id: str
    timeout_s: float


@dataclass
class RunCancelled(Event):
    type: ClassVar[str] = "run_cancelled"
    run_id: str
    reason: str = "cancelled"


@dataclass
class LogNote(Event):
    """A note about the stream itself (a skipped line, a rotated log)."""

    type: ClassVar[str] = "note"
    message: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SessionStarted,
        SessionFinished,
        RunRefused,
        RunQueued,
        RunLaunched,
        RunStarted,
        Batch,
        Epoch,
        WarningSeen,
        Phases,
        Sample,
        RunFinished,
        RunFailed,
        RunCrashed,
        RunTimedOut,
        RunCancelled,
        LogNote,
    )
}

TERMINAL_TYPES = frozenset(
    {"run_finished", "run_failed", "run_crashed", "run_timed_out", "run_cancelled"}
)


def from_dict(d: dict[str, Any]) -> Event:
    """Build an event from a decoded dict; raises ``ValueError`` when it does not fit."""
    if not isinstance(d, dict):
        raise ValueError("event is not a JSON object")
    kind = d.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    v = d.get("v", SCHEMA_VERSION)
    if not isinstance(v, int) or v > SCHEMA_VERSION:
        raise ValueError(f"event schema version {v!r} is newer than this qtui ({SCHEMA_VERSION})")
    names = {f.name for f in fields(cls)}
    kwargs = {k: val for k, val in d.items() if k in names}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"{kind} event is missing fields: {exc}") from None


def decode(line: str) -> tuple[Event | None, str | None]:
    """Decode one line.  Returns ``(event, None)`` or ``(None, reason)``; never raises."""
    text = line.strip()
    if not text:
        return None, "empty line"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg} at column {exc.colno})"
    try:
        return from_dict(obj), None
    except ValueError as exc:
        return None, str(exc)
