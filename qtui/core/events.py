"""The event stream: small, typed, versioned records, one JSON object per line.

Every view (headless CLI, TUI, exporters, history, ``qtui watch``) consumes the
same events, so this module is the contract between the engine and everything
else.  It imports nothing heavy (msgspec only): the UI process decodes events
with it, and the child encodes them with it.

Wire format: one JSON object per line with ``type`` (the tag of a tagged
union), ``v`` (schema version) and ``t`` (unix time, seconds).  Run-scoped
events carry ``run_id``.  The field names are the ones qtui has always written,
so old logs still read.

Decoding checks types and ranges, not just names (msgspec Structs): a field of
the wrong type, an integer outside SQLite's signed 64 bits, a time that is not
a finite date, a free-form field nested deeper than ``MAX_DEPTH`` levels, a
line that is not valid UTF-8, an unknown ``type`` or a newer ``v``: each
decodes to ``None`` plus a reason; the caller reports and skips the line, it
is never fatal.

Non-finite floats: JSON has no NaN, and msgspec writes NaN and ±inf as
``null``.  Float fields that may legitimately be NaN (a diverging loss, a
duration nobody measured) therefore read ``null`` back as NaN; logs written by
older qtui versions (Python's ``json``, which writes a bare ``NaN``) still
decode.  ``t`` must be a finite time: readers turn it into a date.

Encode once: ``encoded(event)`` encodes an event the first time it is asked
and caches the bytes on the event; ``decode`` caches the line it decoded.  The
child, the supervisor's log writer and the history writer all call
``encoded``, so an event crosses the pipe, the log and the database as the
same bytes.  Events are values: assigning a field drops the cache, but
mutating a nested list or dict in place after encoding does not (don't);
``replace(event, **changes)`` makes a changed copy (``dataclasses.replace``
does not work on msgspec Structs).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, ClassVar, Literal, Union

import msgspec

SCHEMA_VERSION = 1

#: Deepest nesting allowed inside free-form fields (machine info, specs, pools).
MAX_DEPTH = 32

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# --- field types ---------------------------------------------------------------
#: Any integer SQLite can store.
Int = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
#: A count, a size in bytes, a pid, a 1-based index.
Count = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
#: Unix time in seconds: finite and within what ``datetime`` can show.
Time = Annotated[float, msgspec.Meta(ge=0.0, le=2.5e11)]
#: A duration a scheduler reports: finite, not negative.
Seconds = Annotated[float, msgspec.Meta(ge=0.0, le=1e12)]
#: A float that may be NaN.  msgspec writes NaN (and ±inf) as ``null``; decoding
#: turns ``null`` back into NaN for the fields a class lists in ``_NAN_FIELDS`` /
#: ``_NAN_ITEMS`` (off the fast path: only a line that fails on a ``null`` pays).
Num = float


def _enc_hook(o: Any) -> Any:
    """numpy scalars and arrays, torch tensors: to plain numbers and lists."""
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)
_NAN = float("nan")


def check_tree(obj: Any, where: str, depth: int = 0) -> None:
    """Free-form JSON (``Any`` fields): bounded depth, 64-bit ints, encodable strings.

    Raises ``ValueError`` naming the field.  Run on the rare events that carry
    such fields (session_started, run_queued, run_started, run_finished).
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise ValueError(f"{where} has a key that is not a string")
            check_tree(v, where, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            check_tree(v, where, depth + 1)
    elif isinstance(obj, bool) or obj is None:
        return
    elif isinstance(obj, int):
        if not INT64_MIN <= obj <= INT64_MAX:
            raise ValueError(f"{where} holds an integer outside 64 bits")
    elif isinstance(obj, str) and not obj.isascii():
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where} holds a string that is not valid Unicode") from None


# --- shapes of the free-form fields that readers index into ---------------------
# Validation only (the events keep plain dicts, which is what readers use);
# unknown keys are allowed, known keys must have the type readers expect.
# ``qtui.store.loading`` reuses them for the same dicts inside a saved summary.


class ParamsShape(msgspec.Struct):
    seed: Int = 0
    samples: Count = 0
    noise: float = 0.0
    batch_size: Count = 0
    epochs: Count = 0
    lr: float = 0.0
    qubits: Count = 0
    layers: Count = 0
    workload: str = ""
    steps: Count = 0
    warmup: Count = 0
    threads: Count | Literal["auto"] = 0


class SpecShape(msgspec.Struct):
    run_id: str = ""
    device: str = ""
    diff_method: str = ""
    repeat_index: Count = 0
    timeout_s: float | None = None
    params: ParamsShape = msgspec.field(default_factory=ParamsShape)
    allow_foreign_device: bool = False


class RefusedShape(msgspec.Struct):
    device: str = ""
    diff_method: str = ""
    reason: str = ""


class MachineShape(msgspec.Struct):
    hostname: str | None = None
    node: str | None = None
    cpu_model: str | None = None
    processor: str | None = None
    os: str | None = None
    system: str | None = None
    release: str | None = None
    python_version: str | None = None
    logical_cores: Count | None = None
    physical_cores: Count | None = None
    usable_cores: Count | None = None
    memory_total: Annotated[float, msgspec.Meta(ge=0, le=1e30)] | None = None
    cpu: dict[str, Any] | None = None
    versions: dict[str, Any] | None = None


def check_shape(value: Any, shape: Any, where: str) -> None:
    check_tree(value, where)
    try:
        msgspec.convert(value, shape)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{where}: {exc}") from None


# --- the events ----------------------------------------------------------------


class Event(msgspec.Struct, kw_only=True, tag_field="type", dict=True):
    """Base of every event.  Subclasses set ``type`` (also their wire tag)."""

    type: ClassVar[str] = "event"
    #: Float fields where ``null`` on the wire means NaN.
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ()
    #: List- or dict-of-float fields where a ``null`` item means NaN.
    _NAN_ITEMS: ClassVar[tuple[str, ...]] = ()
    t: Time = msgspec.field(default_factory=time.time)
    v: Count = SCHEMA_VERSION

    # Classes with free-form fields check them in ``__post_init__`` (run on decode
    # and on construction; a ``ValueError`` there is a rejected line).

    def __setattr__(self, name: str, value: Any) -> None:
        # A changed field invalidates the cached encoding.
        if self.__dict__:
            self.__dict__.clear()
        super().__setattr__(name, value)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, with ``type`` and ``v``: what one log line holds."""
        d: dict[str, Any] = msgspec.to_builtins(self, enc_hook=_enc_hook)
        return d

    def to_json(self) -> str:
        """One JSON line (no newline); the cached encoding when there is one."""
        return encoded(self).decode("utf-8")


def encoded(event: Event) -> bytes:
    """The event as one JSON line, **without** the trailing newline.

    Encoded once and cached on the event (a decoded event caches the line it
    came from), so writers pass these bytes on rather than encoding again.
    """
    raw: bytes | None = event.__dict__.get("_raw")
    if raw is None:
        raw = _ENCODER.encode(event)
        event.__dict__["_raw"] = raw
    return raw


def replace(event: Event, **changes: Any) -> Event:
    """A copy of ``event`` with some fields changed (and no cached encoding)."""
    return msgspec.structs.replace(event, **changes)


# --- session-level -------------------------------------------------------------


class SessionStarted(Event, tag="session_started"):
    """First line of a log: who, where, what was asked."""

    type: ClassVar[str] = "session_started"
    session_id: str
    machine: dict[str, Any]
    qtui_version: str
    argv: list[str] = msgspec.field(default_factory=list)
    runs: list[dict[str, Any]] = msgspec.field(default_factory=list)  # RunSpec.to_dict()
    refused: list[dict[str, Any]] = msgspec.field(default_factory=list)  # RunRefused.to_dict()
    n_cpus: Count = 0
    # Where the runs execute (``Executor.session_info``): {} for local children;
    # a cluster session: {"name": "slurm", "jobs_dir": <its folder>, "cluster": ...}.
    executor: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        check_shape(self.machine, MachineShape, "machine")
        check_shape(self.runs, list[SpecShape], "runs")
        check_shape(self.refused, list[RefusedShape], "refused")
        check_tree(self.executor, "executor")


class SessionFinished(Event, tag="session_finished"):
    type: ClassVar[str] = "session_finished"
    session_id: str
    interrupted: bool = False
    # qtui's own CPU seconds (user + system of its process, children excluded)
    # from session_started to here; None in older logs and where runs train in qtui's
    # own process (--isolation thread), whose CPU time would include them.
    qtui_cpu_s: float | None = None


# --- run lifecycle -------------------------------------------------------------


class RunRefused(Event, tag="run_refused"):
    """A combination PennyLane refuses; reported before anything trains."""

    type: ClassVar[str] = "run_refused"
    device: str
    diff_method: str
    reason: str


class RunQueued(Event, tag="run_queued"):
    type: ClassVar[str] = "run_queued"
    run_id: str
    spec: dict[str, Any]

    def __post_init__(self) -> None:
        check_shape(self.spec, SpecShape, "spec")


class RunLaunched(Event, tag="run_launched"):
    """The run's process (or thread) exists; it is importing torch and pennylane."""

    type: ClassVar[str] = "run_launched"
    run_id: str
    pid: Count
    isolation: str = "process"


class CpuBudget(msgspec.Struct, forbid_unknown_fields=False):
    """The CPUs a run may use, read in its process at its start (``qtui.engine.cpu_budget``)."""

    usable: Count = 0  # the smallest of the three below, at least 1
    affinity: Count | None = None  # len(os.sched_getaffinity(0))
    quota: Annotated[float, msgspec.Meta(ge=0.0, le=1e9)] | None = None  # cgroup cpu.max, in CPUs
    slurm: Count | None = None  # SLURM_CPUS_PER_TASK
    busy: Annotated[float, msgspec.Meta(ge=0.0, le=1e9)] = 0.0  # cores others kept busy then
    threads: Count | None = None  # --threads auto: the pool size chosen; None otherwise


class RunStarted(Event, tag="run_started"):
    """Emitted by the child once torch/pennylane are imported and the workload built."""

    type: ClassVar[str] = "run_started"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ("import_s", "build_s")
    run_id: str
    spec: dict[str, Any]
    pid: Count
    host: str
    versions: dict[str, str]
    resolved_diff_method: str = ""
    split_batch: bool = False
    batches_per_epoch: Count = 0
    threadpools: list[dict[str, Any]] = msgspec.field(default_factory=list)
    import_s: Num = 0.0
    build_s: Num = 0.0
    # Which workload parameters the workload reads (Workload.params_used); None: all
    # of them.  The others are not recorded as applied (qtui.summary).
    params_used: list[str] | None = None
    # The CPUs the run may use, measured in its process at its start; None in older logs.
    cpus: CpuBudget | None = None

    def __post_init__(self) -> None:
        check_shape(self.spec, SpecShape, "spec")
        check_tree(self.threadpools, "threadpools")


class Batch(Event, tag="batch"):
    type: ClassVar[str] = "batch"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ("loss", "elapsed_s")
    run_id: str
    epoch: Count  # 1-based
    batch: Count  # 1-based within the epoch
    loss: Num
    step: Count  # 1-based over the whole run
    elapsed_s: Num  # since training started


class Epoch(Event, tag="epoch"):
    type: ClassVar[str] = "epoch"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ("mean_loss", "elapsed_s")
    run_id: str
    epoch: Count  # 1-based
    mean_loss: Num
    elapsed_s: Num


class Metric(msgspec.Struct, forbid_unknown_fields=False):
    """A named result of the workload's ``evaluate``: its value and which way is better."""

    value: float | None  # None: NaN (msgspec writes NaN as null)
    higher_is_better: bool = True


class Validation(Event, tag="validation"):
    """The validation set's mean loss after an epoch (Workload.validation_data)."""

    type: ClassVar[str] = "validation"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ("loss",)
    run_id: str
    epoch: Count  # 1-based
    loss: Num
    metrics: dict[str, Metric] = msgspec.field(default_factory=dict)


class Logged(Event, tag="logged"):
    """Named metrics a ``qtui exec`` script logged with ``qtui.log(**metrics)``."""

    type: ClassVar[str] = "logged"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ("elapsed_s",)
    _NAN_ITEMS: ClassVar[tuple[str, ...]] = ("values",)
    run_id: str
    step: Count  # loss points recorded so far
    values: dict[str, Num]
    elapsed_s: Num = 0.0


class ScriptOutput(Event, tag="script_output"):
    """Where a ``qtui exec`` run keeps its script's whole output, said by the child once
    the files are open, before the script's first line (``qtui.engine.script_child``).

    ``stdout_path``/``stderr_path``: the files, each exactly what the script wrote to
    that stream, written as it writes (so a run killed meanwhile keeps them), the first
    ``limit_bytes`` of each; "" when a file could not be made (``note`` says why).
    """

    type: ClassVar[str] = "script_output"
    run_id: str
    stdout_path: str = ""
    stderr_path: str = ""
    limit_bytes: Count = 0
    note: str = ""


class ScriptEnded(Event, tag="script_ended"):
    """How a ``qtui exec`` script ended, before its terminal event (``qtui.engine.script_child``).

    ``asked_*``: what the script asked for (``qml.device`` names, QNode
    ``diff_method``s) before ``--device``/``--diff-method`` replaced them.
    """

    type: ClassVar[str] = "script_ended"
    run_id: str
    exit_code: Int
    command: list[str] = msgspec.field(default_factory=list)
    asked_devices: list[str] = msgspec.field(default_factory=list)
    asked_diff_methods: list[str] = msgspec.field(default_factory=list)
    device_override: str = ""
    diff_method_override: str = ""
    stdout_tail: list[str] = msgspec.field(default_factory=list)
    stderr_tail: list[str] = msgspec.field(default_factory=list)
    #: The script called ``qtui.epoch()``; False: its loss is the mean over every step
    #: (one epoch, the whole run).  True for logs written before it was recorded.
    epochs_marked: bool = True
    loss_points: Count = 0
    #: Bytes the script wrote to each stream in all (its ``script_output`` files hold the
    #: first ``limit_bytes``); None in logs written before they were counted.
    stdout_bytes: Count | None = None
    stderr_bytes: Count | None = None
    #: What became of the output files, when not all of it is there: cut at the limit,
    #: a file that could not be made or written ("" when each holds all of its stream).
    output_note: str = ""


class WarningSeen(Event, tag="warning"):
    """One distinct warning with its running count (the latest event per key wins)."""

    type: ClassVar[str] = "warning"
    run_id: str
    category: str
    message: str
    filename: str
    lineno: Int
    count: Count
    first_t: Time
    last_t: Time

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.category, self.message, self.filename, self.lineno)


class Phases(Event, tag="phases"):
    """Cumulative seconds per training phase (see ``qtui.engine.phases``)."""

    type: ClassVar[str] = "phases"
    _NAN_ITEMS: ClassVar[tuple[str, ...]] = ("seconds",)
    run_id: str
    seconds: dict[str, Num]
    steps: Count


class Sample(Event, tag="sample"):
    """One reading of the sampler, taken from outside the child (``/proc``)."""

    type: ClassVar[str] = "sample"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ("cpu_s", "wall_s", "cores_in_use")
    _NAN_ITEMS: ClassVar[tuple[str, ...]] = ("percpu", "gpu_util")
    run_id: str
    percpu: list[Num]  # system-wide, one value per logical CPU, 0-100
    rss: Count  # bytes
    peak_rss: Count  # bytes, highest seen so far by the sampler
    threads: Count
    peak_threads: Count
    cpu_s: Num  # child's user+system CPU seconds so far
    wall_s: Num  # since the child was spawned
    cores_in_use: Num  # d(cpu_s)/d(wall_s) over the last interval
    # GPUs (NVML), empty without one; a reading is repeated until the next (~1 s)
    gpu_util: list[Num] = msgspec.field(default_factory=list)  # per GPU, 0-100
    gpu_mem_used: list[Count] = msgspec.field(default_factory=list)  # bytes per GPU
    gpu_mem_total: list[Count] = msgspec.field(default_factory=list)  # bytes per GPU
    run_gpu_mem: Count | None = None  # bytes NVML attributes to the run's processes


class DeviceUse(msgspec.Struct, forbid_unknown_fields=False):
    """One device that executed circuits in a run (``qtui.engine.device_truth``)."""

    name: str  # the device's short name: "default.qubit", "lightning.qubit"
    wires: Count | None = None
    shots: Count | None = None  # None: analytic
    executions: Count = 0  # device calls over the measured steps (the tracker's batches)
    circuits: Count = 0  # circuits (tapes) in those calls (the tracker's simulations)
    states: Count | None = None  # states they evolved, broadcast counted (None: older qtui)


#: A non-negative finite figure (seconds, a count per step).
NonNeg = Annotated[float, msgspec.Meta(ge=0.0, le=1e15)]


class QuantumTruth(msgspec.Struct, forbid_unknown_fields=False):
    """What PennyLane executed during a run's training, seen from the device
    (``qtui.engine.device_truth``): counts over the measured steps."""

    devices: list[DeviceUse] = msgspec.field(default_factory=list)
    diff_methods: list[str] = msgspec.field(default_factory=list)  # as PennyLane resolved them
    device: str = ""  # what ran: device short name(s), "," between several
    diff_method: str = ""  # what ran: diff method(s), "," between several
    executions: Count = 0
    circuits: Count = 0
    states: Count | None = None  # None: written by a qtui that did not count them
    # None where the run had no step (``per_step_note`` says why); states_per_step also
    # None when written by a qtui that did not count them.
    executions_per_step: NonNeg | None = 0.0
    circuits_per_step: NonNeg | None = 0.0
    states_per_step: NonNeg | None = None
    execute_s: NonNeg = 0.0  # seconds inside device calls
    asked: str = ""  # the combination the run was started as, when it ran elsewhere
    foreign: bool = False  # ran elsewhere, recorded under what ran (--allow-foreign-device)
    per_step_note: str = ""  # why there are no per-step figures ("no training step seen: ...")


class RunFinished(Event, tag="run_finished"):
    """The run trained to the end; resources merged in by the supervisor."""

    type: ClassVar[str] = "run_finished"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = (
        "train_s", "final_loss", "core_s", "cores_in_use", "core_s_per_step",
    )
    _NAN_ITEMS: ClassVar[tuple[str, ...]] = ("epoch_losses", "phases", "validation_losses")
    run_id: str
    accuracy: float | None
    train_s: Num
    final_loss: Num
    epoch_losses: list[Num]
    steps: Count
    core_s: Num  # child CPU seconds spent in training
    cores_in_use: Num  # core_s / train_s
    core_s_per_step: Num
    peak_rss: Count  # bytes, OS figure (ru_maxrss) of the reaped child
    peak_threads: Count
    phases: dict[str, Num] = msgspec.field(default_factory=dict)
    warnings: Count = 0  # total occurrences
    threadpools: list[dict[str, Any]] = msgspec.field(default_factory=list)
    gpu_util_mean: float | None = None  # %, over the run's GPU readings (see sampler.GpuStats)
    gpu_mem_peak: Count | None = None  # bytes, of the scope below
    gpu_mem_scope: str = ""  # "run": the run's processes; "device": all GPU memory; "": no GPU
    # Cores other processes kept busy on the node while this run trained (see
    # qtui.engine.sampler.ContentionStats); None where no reading was taken.
    contention_cores: float | None = None  # mean
    contention_cores_max: float | None = None
    contended: bool = False  # contention_cores crossed CONTENDED_CORES (sampler)
    # Device truth (qtui.engine.device_truth); None in logs older than it.
    quantum: QuantumTruth | None = None
    # GPU correctness: phase boundaries synchronised CUDA (a CUDA tensor in the run).
    cuda_sync: bool = False
    # The workload's named metrics (its evaluate returned a dict); {} otherwise and
    # in older logs.  ``accuracy`` above is metrics["accuracy"] when there is one.
    metrics: dict[str, Metric] = msgspec.field(default_factory=dict)
    # The validation set's loss per epoch (Workload.validation_data); [] without one.
    validation_losses: list[Num] = msgspec.field(default_factory=list)
    # Page faults of the run's process over the measured window (getrusage: ru_minflt,
    # ru_majflt; issue 24); None in older logs and where the OS has no getrusage.
    minor_faults: Count | None = None
    major_faults: Count | None = None

    def __post_init__(self) -> None:
        check_tree(self.threadpools, "threadpools")


class RunFailed(Event, tag="run_failed"):
    """The workload raised a Python exception."""

    type: ClassVar[str] = "run_failed"
    run_id: str
    exc_type: str
    message: str
    traceback: str


class RunCrashed(Event, tag="run_crashed"):
    """The child died without reporting: a signal (segfault, kill) or an exit code."""

    type: ClassVar[str] = "run_crashed"
    run_id: str
    signal: str | None
    exit_code: Int | None
    stderr_tail: str = ""
    # A cluster job's end in the scheduler's own word (SLURM: OUT_OF_MEMORY,
    # NODE_FAIL, FAILED, ...); "" for a local run.  Same field on the two below.
    scheduler_state: str = ""
    # What qtui found killed it, when not the run itself: "out of memory (...)"
    # (qtui.engine.oom), "lost with the fork server (...)"; "" otherwise.
    cause: str = ""


class RunTimedOut(Event, tag="run_timed_out"):
    type: ClassVar[str] = "run_timed_out"
    _NAN_FIELDS: ClassVar[tuple[str, ...]] = ("timeout_s",)
    run_id: str
    timeout_s: Num
    scheduler_state: str = ""  # "TIMEOUT": the cluster's time limit, not qtui's --timeout
    detail: str = ""  # a cluster job's end in words ("SLURM: TIMEOUT, job 58_1 on n7 ...")


class RunCancelled(Event, tag="run_cancelled"):
    type: ClassVar[str] = "run_cancelled"
    run_id: str
    reason: str = "cancelled"
    scheduler_state: str = ""  # "CANCELLED": scancel reached the job
    # Not cancelled at all: qtui stopped watching a cluster job that goes on (quit and
    # leave running); ``qtui watch --jobs-dir`` re-attaches to it.
    left_running: bool = False
    detail: str = ""  # a cluster job's end in words ("SLURM: CANCELLED, ... outside qtui")


class JobState(Event, tag="job_state"):
    """Where a run's cluster job stands (``qtui.cluster``): sent on every change.

    ``state`` is the scheduler's own word (SLURM: PENDING, RUNNING, COMPLETED,
    FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...; qtui adds LOST for
    a task the scheduler no longer knows); ``reason`` is SLURM's pending reason
    (Priority, Resources, ...).  ``machine`` is the compute node's
    ``machine_info``, sent when the job's own log (re)starts: one with ``attempt``
    above 1 says that what the run reported before was an earlier attempt's
    (``qtui.cluster.slurm_executor``: requeues).  ``logs`` are the job's own
    stdout/stderr files; the accounting fields come from ``sacct`` once it ended.
    """

    type: ClassVar[str] = "job_state"
    run_id: str
    executor: str
    job_id: str
    state: str
    array_task_id: str = ""
    reason: str = ""
    node: str = ""
    machine: dict[str, Any] = msgspec.field(default_factory=dict)
    attempt: Count = 0  # 1 the first start of the job, 2 after a requeue ...; 0 unknown
    logs: list[str] = msgspec.field(default_factory=list)
    queue_wait_s: Seconds | None = None  # sbatch to the job's first start
    elapsed_s: Seconds | None = None  # sacct's Elapsed, of the attempt that ended it
    alloc_cpus: Count | None = None  # sacct's AllocCPUS

    def __post_init__(self) -> None:
        check_shape(self.machine, MachineShape, "machine")


class LogNote(Event, tag="note"):
    """A note about the stream itself (a skipped line, a rotated log).

    ``topic`` names the notes a view shows in a place of their own besides the notes
    (the app's status line): ``scheduler_outage`` (``since``: the outage's start, unix
    seconds) and ``scheduler_back``; "" for the rest."""

    type: ClassVar[str] = "note"
    message: str
    topic: str = ""
    since: float | None = None


_CLASSES: tuple[type[Event], ...] = (
    SessionStarted,
    SessionFinished,
    RunRefused,
    RunQueued,
    RunLaunched,
    RunStarted,
    Batch,
    Epoch,
    Validation,
    WarningSeen,
    Logged,
    ScriptOutput,
    ScriptEnded,
    Phases,
    Sample,
    RunFinished,
    RunFailed,
    RunCrashed,
    RunTimedOut,
    RunCancelled,
    JobState,
    LogNote,
)

EVENT_TYPES: dict[str, type[Event]] = {cls.type: cls for cls in _CLASSES}

TERMINAL_TYPES = frozenset(
    {"run_finished", "run_failed", "run_crashed", "run_timed_out", "run_cancelled"}
)

AnyEvent = Union[_CLASSES]  # type: ignore[valid-type]  # noqa: UP007 - built from a tuple
_DECODER = msgspec.json.Decoder(AnyEvent)


# --- decoding ------------------------------------------------------------------


def _peek_reason(obj: Any) -> str | None:
    """The reason a decoded JSON value is not one of our events, judged by its head."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        return f"unknown event type {kind!r}"[:200]
    v = obj.get("v", SCHEMA_VERSION)
    if isinstance(v, int) and not isinstance(v, bool) and v > SCHEMA_VERSION:
        return f"event schema version {v} is newer than this qtui ({SCHEMA_VERSION})"[:200]
    return None


def _explain(kind: str, exc: Exception) -> str:
    msg = str(exc)
    if "missing required field" in msg:
        return f"{kind} event is missing fields: {msg}"
    return f"{kind} event has a bad field: {msg}"


def _nan_fill(obj: dict[str, Any], cls: type[Event]) -> dict[str, Any]:
    """A copy of ``obj`` with ``null`` read as NaN where ``cls`` allows it."""
    out = dict(obj)
    for name in cls._NAN_FIELDS:
        if name in out and out[name] is None:
            out[name] = _NAN
    for name in cls._NAN_ITEMS:
        items = out.get(name)
        if isinstance(items, list):
            out[name] = [_NAN if x is None else x for x in items]
        elif isinstance(items, dict):
            out[name] = {k: _NAN if x is None else x for k, x in items.items()}
    return out


def _from_obj(obj: Any) -> Event:
    """Validate an already parsed JSON value; raises ``ValueError`` with the reason."""
    reason = _peek_reason(obj)
    if reason is not None:
        raise ValueError(reason)
    check_tree(obj, "event")
    obj = _nan_fill(obj, EVENT_TYPES[obj["type"]])
    try:
        event: Event = msgspec.convert(obj, AnyEvent)
    except msgspec.ValidationError as exc:
        raise ValueError(_explain(obj["type"], exc)) from None
    return event


def from_dict(d: dict[str, Any]) -> Event:
    """Build an event from a decoded dict; raises ``ValueError`` when it does not fit."""
    try:
        return _from_obj(d)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _slow_path(raw: bytes, exc: Exception) -> tuple[Event | None, str | None]:
    """Why a line failed the fast decoder, or the event when only NaN/Infinity stood
    in the way (Python's ``json`` writes those; older qtui logs hold them).  A
    ``\\u`` escape msgspec refuses (a lone surrogate) gets ``check_tree``'s reason."""
    try:
        if isinstance(exc, msgspec.ValidationError):
            try:
                obj = msgspec.json.decode(raw)
            except msgspec.ValidationError:  # e.g. a number beyond float range
                return None, f"bad value: {exc}"[:200]
            reason = _peek_reason(obj)
            if reason is None and "got `null`" in str(exc):
                return _from_obj(obj), None  # NaN written as null
            return None, reason or _explain(obj["type"], exc)
        if b"NaN" in raw or b"Infinity" in raw or b"\\u" in raw:
            obj = json.loads(raw)
            return _from_obj(obj), None
    except RecursionError:
        return None, "nested too deeply"
    except (ValueError, msgspec.DecodeError) as inner:
        return None, str(inner)[:200]
    return None, f"not JSON ({exc})"[:200]


def decode(line: bytes | str) -> tuple[Event | None, str | None]:
    """Decode one line.  Returns ``(event, None)`` or ``(None, reason)``; never raises.

    Takes the raw bytes of a line (preferred: no text decoding of the whole
    file) or text.  The decoded event caches ``line`` as its encoding.  The
    common case (a valid line) runs msgspec and three cheap checks; every
    other case is sorted out in ``_rejected``.
    """
    if line.__class__ is bytes:
        raw = line.strip()  # type: ignore[union-attr]
    elif isinstance(line, str):
        try:
            raw = line.encode("utf-8").strip()
        except UnicodeEncodeError:
            return None, "not valid Unicode text"
    else:
        raw = bytes(line).strip()
    try:
        event: Event = _DECODER.decode(raw)
    except (msgspec.DecodeError, RecursionError, ValueError, TypeError) as exc:
        return _rejected(raw, exc)  # every way a line can be refused: the reason is returned
    if not raw.isascii():
        # msgspec checks the strings it decodes, not those it skips (unknown fields).
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            return None, f"not valid UTF-8 (byte {err.start + 1} of the line)"
    if event.v > SCHEMA_VERSION:
        return None, f"event schema version {event.v} is newer than this qtui ({SCHEMA_VERSION})"
    event.__dict__["_raw"] = raw
    return event, None


def _rejected(raw: bytes, exc: Exception) -> tuple[Event | None, str | None]:
    """A line the fast decoder refused: the reason, or the event after all (a BOM,
    NaN written as null or as a bare NaN)."""
    if not raw:
        return None, "empty line"
    if raw.startswith(b"\xef\xbb\xbf"):
        return decode(raw[3:])
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            return None, f"not valid UTF-8 (byte {err.start + 1} of the line)"
    if isinstance(exc, RecursionError):
        return None, "nested too deeply"
    if not isinstance(exc, (msgspec.ValidationError, msgspec.DecodeError)):
        return None, f"undecodable ({type(exc).__name__}: {exc})"[:200]
    event, reason = _slow_path(raw, exc)
    if event is None:
        return None, reason
    if event.v > SCHEMA_VERSION:
        return None, f"event schema version {event.v} is newer than this qtui ({SCHEMA_VERSION})"
    event.__dict__["_raw"] = raw
    return event, None
