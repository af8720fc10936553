"""The summary document (``qtui.summary``): typed records with their own load and dump.

Version history of the JSON format (``schema_version``):

- **v1** — the untyped dict of qtui 0.1 up to commit b36e7b3.  Each
  ``results[]`` entry named its combination ``command`` (``device+method``);
  ``runs[].result`` was ``{}`` for a run that did not finish.
- **v2** — the same document as typed records (this module).  ``results[].command``
  becomes ``combo`` ("command" now means only an exec argv); ``runs[].result`` is
  ``null`` for a run that did not finish; every field is written, with its
  default when the writer had nothing to say.  Fields added since, each optional
  (an older v2 file loads with its default): ``runs[].script.stdout_path``,
  ``stderr_path``, ``output_limit_bytes``, ``stdout_bytes``, ``stderr_bytes`` and
  ``output_note`` (a ``qtui exec`` run's whole output, kept in a file per stream);
  ``sweep.<axis>.series[].diff_method``, ``batch_size``, ``layers`` and ``workload``
  (what the memory model reads of a line's circuit).

In pyperf's manner (``Run`` / ``Benchmark`` / ``BenchmarkSuite``), the records
load and dump themselves: ``Summary.loads`` reads v1 and v2 (v1 is upgraded
on the way in) and refuses a newer version with a message naming both;
``Summary.dumps`` writes v2.  Every reader decodes a file once into these
records and reads attributes.

The records are lenient on purpose: unknown fields are ignored (newer
writers, other tools) and every field may be missing, but a field that is
present must have the type readers expect.  Numbers are ``float | None``
(NaN allowed: views show it as "—"; JSON has no NaN, so it is written as
``null``), integers are bounded to 64 bits.  Field by field in
``docs/EXPORTS.md``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec

from qtui.core import events as ev

SUMMARY_SCHEMA = "qtui.summary"
SUMMARY_VERSION = 2

Int = Annotated[int, msgspec.Meta(ge=ev.INT64_MIN, le=ev.INT64_MAX)]
Num = float | None  # NaN allowed
#: A parameter value on a sweep axis: kept an int when it was one ("2 qubits").
AxisValue = Int | float | str | None


class SummaryError(ValueError):
    """A document is not a summary this qtui can read; one line says why."""


class _Record(msgspec.Struct):
    """Base of every record: unknown fields ignored, every field defaulted."""


# --- one combination's results -----------------------------------------------------


class Resources(_Record):
    """What a combination's finished runs used (``results[].resources``)."""

    peak_rss_bytes: Int | None = None
    cores_in_use: Num = None
    core_s: Num = None
    core_s_stddev: Num = None
    core_s_per_step: Num = None
    peak_threads: Int | None = None
    peak_rss_values: list[Int] = []
    core_s_values: list[Num] = []
    contention_cores: Num = None
    contention_cores_max: Num = None
    # Only where NVML saw a GPU (qtui.engine.sampler).
    gpu_mem_peak_bytes: Int | None = None
    gpu_mem_scope: str | None = None
    gpu_util_mean: Num = None
    #: Page faults in the measured window, mean over the runs that counted them.
    minor_faults: Num = None
    major_faults: Num = None


class SessionResources(_Record):
    """What qtui itself cost over the session (``resources``): its own process's CPU,
    children excluded, and that per second of the runs' training (issue 24)."""

    qtui_cpu_s: Num = None
    qtui_cpu_per_train_s: Num = None


class WarningRecord(_Record):
    """One distinct Python warning and how often it fired."""

    category: str | None = None
    message: str | None = None
    filename: str | None = None
    lineno: Int | None = None
    count: Int = 0
    first_t: Num = None
    last_t: Num = None


class RunCount(_Record):
    total: Int = 0
    finished: Int = 0


class RunError(_Record):
    """How a run ended when it did not finish (failed, crashed, timed out, cancelled)."""

    run_id: str | None = None
    state: str | None = None
    exc_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    signal: str | None = None
    exit_code: Int | None = None
    stderr_tail: str | None = None
    timeout_s: Num = None
    reason: str | None = None
    scheduler_state: str | None = None
    left_running: bool | None = None
    cause: str | None = None  # run_crashed's: out of memory, lost with the fork server
    # A cluster run's: its end in the scheduler's words, its job's log files (stdout,
    # stderr; when the job ran) and how long its job ran by sacct (Elapsed).
    detail: str | None = None
    job_logs: list[str] | None = None
    slurm_elapsed_s: Num = None


class DeviceUse(_Record):
    name: str | None = None
    wires: Int | None = None
    shots: Int | None = None
    executions: Int | None = None
    circuits: Int | None = None
    states: Int | None = None


class Quantum(_Record):
    """Device truth (``qtui.engine.device_truth``) of a run or a combination."""

    devices: list[DeviceUse] = []
    diff_methods: list[str] = []
    device: str | None = None
    diff_method: str | None = None
    executions: Int | None = None
    circuits: Int | None = None
    states: Int | None = None
    executions_per_step: Num = None
    circuits_per_step: Num = None
    states_per_step: Num = None
    execute_s: Num = None
    execute_s_per_step: Num = None
    asked: str | list[str] | None = None
    foreign: bool | None = None
    #: Why the per-step figures are None: the run(s) had no training step.
    per_step_note: str | None = None


class RunMetric(_Record):
    """A workload's named metric as one run reported it."""

    value: Num = None
    higher_is_better: bool = True


class Metric(_Record):
    """A workload's named metric over a combination's runs: the mean ``value`` and
    the ``values`` per run."""

    value: Num = None
    higher_is_better: bool = True
    values: list[Any] = []


class Result(_Record):
    """One combination (``device+method`` and parameters) over its runs."""

    combo: str = ""
    label: str = ""
    #: Its workload group (``qtui.core.workload_groups``): what Relative and the picks
    #: compare it with, and its header where a view shows more than one group.
    group: str = ""
    parameters: dict[str, Any] = {}
    mean: Num = None
    stddev: Num = None
    median: Num = None
    mad: Num = None
    min: Num = None
    max: Num = None
    times: list[Num] = []
    relative: Num = None
    resources: Resources = msgspec.field(default_factory=Resources)
    contended_runs: Int = 0
    #: Runs whose largest thread pool exceeded the CPUs free at their start, the
    #: ``--threads`` that fits them, and the counts ``--threads auto`` chose (cpu_fit).
    oversubscribed_runs: Int = 0
    threads_advice: Int | None = None
    threads_auto: list[Int] = []
    steps: Int | None = None
    time_per_step: Num = None
    accuracy: Num = None
    final_loss: Num = None
    loss_kind: str | None = None
    epoch_losses: list[list[Num]] = []
    validation_losses: list[list[Num]] = []
    metrics: dict[str, Metric] = {}
    phases: dict[str, Num] = {}
    resolved_diff_method: str | None = None
    split_batch: bool | None = None
    quantum: Quantum | None = None
    threadpools: list[dict[str, Any]] = []
    warnings: list[WarningRecord] = []
    warning_count: Int = 0
    errors: list[RunError] = []
    runs: RunCount = msgspec.field(default_factory=RunCount)
    run_ids: list[str] = []
    node_types: list[str] = []
    nodes: list[str] = []


# --- one run --------------------------------------------------------------------------


class RunResult(_Record):
    """What a finished run measured (its ``run_finished`` event)."""

    accuracy: Num = None
    train_s: Num = None
    final_loss: Num = None
    epoch_losses: list[Num] = []
    steps: Int | None = None
    core_s: Num = None
    cores_in_use: Num = None
    core_s_per_step: Num = None
    peak_rss: Int | None = None
    peak_threads: Int | None = None
    phases: dict[str, Num] = {}
    warnings: Int | None = None
    gpu_util_mean: Num = None
    gpu_mem_peak: Int | None = None
    gpu_mem_scope: str | None = None
    contention_cores: Num = None
    contention_cores_max: Num = None
    contended: bool = False
    cuda_sync: bool = False
    metrics: dict[str, RunMetric] = {}
    validation_losses: list[Num] = []
    #: Page faults of the run's process in the measured window (ru_minflt, ru_majflt).
    minor_faults: Int | None = None
    major_faults: Int | None = None


class ScriptEnd(_Record):
    """How a ``qtui exec`` script ended (its ``script_ended`` event) and where its output
    is kept (``script_output``: also for a run that timed out, crashed or was cancelled)."""

    exit_code: Int | None = None
    command: list[str] = []
    asked_devices: list[str] = []
    asked_diff_methods: list[str] = []
    device_override: str = ""
    diff_method_override: str = ""
    stdout_tail: list[str] = []
    stderr_tail: list[str] = []
    loss_points: Int = 0
    epochs_marked: bool | None = None  # False: no qtui.epoch(), the loss is every step's mean
    # The script's whole output, one file per stream (``script_output``); None when none
    # was kept (older files, a run that never started its script).
    stdout_path: str | None = None
    stderr_path: str | None = None
    output_limit_bytes: Int | None = None  # the most of each stream a file holds
    stdout_bytes: Int | None = None  # what the script wrote in all; None: it never ended
    stderr_bytes: Int | None = None
    output_note: str = ""  # a file cut at its limit, or one not made: why


class Samples(_Record):
    """A run's resource readings over time (``runs[].samples``): the sampler's
    (``qtui.core.events.Sample``), one list per figure, item *i* of each from reading *i*.

    Columns rather than one record per reading, and bounded
    (``qtui.analysis.sample_series``: at most ``MAX_SAMPLES``, evenly thinned past
    that, ``every`` saying one reading kept in how many), so a long run adds kilobytes
    to the summary, not megabytes.  The machine's per-core readings are not kept: they
    are every process's, N cores wide; ``busy_cores`` is their sum.
    """

    t: list[Num] = []  # s since the run's process started (the sampler's wall_s)
    cpu_s: list[Num] = []  # the run's CPU seconds so far (user + system)
    cores_in_use: list[Num] = []  # its CPU s / wall s over the interval before
    rss: list[Int | None] = []  # bytes
    threads: list[Int | None] = []
    busy_cores: list[Num] = []  # the machine's: every logical CPU's busy share, summed
    every: Int = 1


class Cpus(_Record):
    """The CPUs a run may use and whether its pools fit them (``qtui.core.cpu_fit``)."""

    usable: Int | None = None
    affinity: Int | None = None
    quota: Num = None
    slurm: Int | None = None
    busy: Num = None
    free: Int | None = None
    threads_auto: Int | None = None
    largest_pool: Int | None = None
    oversubscribed: bool = False


class Run(_Record):
    """One run: its parameters, what it measured or how it ended, where it ran."""

    run_id: str = ""
    state: str = ""
    repeat_index: Int | None = None
    parameters: dict[str, Any] = {}
    resolved_diff_method: str | None = None
    split_batch: bool | None = None
    pid: Int | None = None
    import_s: Num = None
    build_s: Num = None
    threadpools: list[dict[str, Any]] = []
    cpus: Cpus | None = None
    result: RunResult | None = None
    quantum: Quantum | None = None
    #: The combination it was started as, when it ran elsewhere (--allow-foreign-device).
    asked: dict[str, Any] | None = None
    epoch_losses: list[Num] = []
    validation_losses: list[Num] = []
    phases: dict[str, Num] = {}
    warnings: list[WarningRecord] = []
    error: RunError | None = None
    # On a cluster only (None for a local run).
    executor: str | None = None
    job_id: str | None = None
    array_task_id: str | None = None
    node: str | None = None
    job_state: str | None = None
    node_machine: dict[str, Any] | None = None
    # Its job's accounting (qtui.cluster.slurm_executor): how many times the run's job
    # started it (2 after a requeue), sbatch to the job's first start, sacct's Elapsed
    # and AllocCPUS (per job: every run of a --runs-per-job job has its job's), the logs.
    attempts: Int | None = None
    queue_wait_s: Num = None
    slurm_elapsed_s: Num = None
    alloc_cpus: Int | None = None
    job_logs: list[str] | None = None
    # ``qtui exec`` only: how the script ended and what it logged with ``qtui.log``.
    script: ScriptEnd | None = None
    logged: dict[str, list[Num]] = {}
    #: Its resource readings over time (None: a summary written before qtui kept them).
    samples: Samples | None = None

    @property
    def on_cluster(self) -> bool:
        """True for a run placed by a cluster executor."""
        return bool(self.executor)


# --- the analysis ------------------------------------------------------------------------


class Pick(_Record):
    """One criterion's recommendation (``qtui.analysis.recommend``): ``verdict`` is the
    conclusion on the lowest against the next (``qtui.analysis.conclusion``: faster,
    tie, unstable, too few; empty in summaries written before it); ``winner`` is
    empty unless it is ``faster``."""

    criterion: str = ""
    winner: str = ""
    verdict: str = ""
    confidence: Num = None
    value: Num = None
    uncertainty: Num = None
    tied_with: list[str] = []
    runner_up: str | None = None
    margin: Num = None
    method: str = ""
    contended: list[str] = []
    unstable: list[str] = []
    evidence: str = ""


class PickGroup(_Record):
    """The picks within one workload group (a sweep point, a script; ``group`` its name)."""

    group: str = ""
    parameters: dict[str, Any] = {}
    fastest: Pick | None = None
    cheapest: Pick | None = None
    leanest: Pick | None = None


class NodeTypePicks(_Record):
    """The picks among results measured on one node type."""

    node_type: str = ""
    fastest: Pick | None = None
    cheapest: Pick | None = None
    leanest: Pick | None = None
    groups: list[PickGroup] = []


class Recommendation(_Record):
    """The picks: top-level, else per parameter group, else per node type."""

    fastest: Pick | None = None
    cheapest: Pick | None = None
    leanest: Pick | None = None
    groups: list[PickGroup] = []
    node_types: list[NodeTypePicks] = []


class SweepPoint(_Record):
    """One combination at one value of a sweep axis (per step)."""

    x: AxisValue = None
    time_per_step: Num = None
    time_per_step_sd: Num = None
    values: list[Num] = []
    n: Int | None = None
    core_s_per_step: Num = None
    cores_in_use: Num = None
    peak_rss: Int | None = None
    contended: bool = False
    unstable: bool = False
    node_types: list[str] = []
    # what the memory model reads of the circuit (``qtui.analysis.cost_model.Circuit``)
    diff_method: str = ""  # as resolved ("best" says what ran)
    batch_size: Int | None = None
    layers: Int | None = None
    workload: str = ""


class Verdict(_Record):
    """Two combinations compared at one point of an axis."""

    a: str = ""
    b: str = ""
    axis: str = ""
    point: AxisValue = None
    verdict: str = ""
    ratio: Num = None
    confidence: Num = None
    method: str = ""
    node_types: list[str] = []


class FigureModel(_Record):
    """One figure of one combination fitted along the axis (``qtui.analysis.cost_model``):
    ``overhead + work · growthˣ``, the noise its 90 % intervals use and its source."""

    figure: str = ""  # time_per_step, core_s_per_step, peak_rss
    overhead: Num = None
    work: Num = None
    growth: Num = None  # per unit of the axis (per qubit), fitted
    noise: Num = None  # relative SD behind the intervals
    noise_from: str = ""  # "repeats", "residuals", or why there is no interval
    fitted_from: AxisValue = None
    fitted_to: AxisValue = None
    sizes: Int | None = None
    reason: str = ""  # why there is no model


class Prediction(_Record):
    """One combination at one size beyond (or between) the measured ones: *predicted*."""

    combo: str = ""
    x: AxisValue = None
    time_per_step: Num = None
    time_low: Num = None
    time_high: Num = None
    core_s_per_step: Num = None
    core_s_low: Num = None
    core_s_high: Num = None
    peak_rss: Num = None
    rss_low: Num = None
    rss_high: Num = None
    beyond: bool = True  # outside the fitted range: an extrapolation


class SweepAxis(_Record):
    """One swept parameter: each combination's series, the verdicts, the crossovers;
    along ``qubits``, the cost models and what they predict (issue 25)."""

    series: dict[str, list[SweepPoint]] = {}
    verdicts: list[Verdict] = []
    crossovers: list[str] = []
    models: dict[str, list[FigureModel]] = {}
    predictions: list[Prediction] = []
    predicted: list[str] = []  # predicted crossovers and picks, in words
    skipped: list[str] = []  # sizes not run: predicted over --max-memory/--max-step-time


class ThreadChoice(_Record):
    """One combination of a sweep over ``--threads``: the count with the best time
    per step and the one with the fewest core-seconds per step (``qtui.analysis.thread_choice``)."""

    combo: str = ""
    fastest: Int | None = None
    time_per_step: Num = None
    fastest_note: str = ""
    cheapest: Int | None = None
    core_s_per_step: Num = None
    cheapest_note: str = ""
    sentence: str = ""


class NodeType(_Record):
    """One node type a session's cluster runs ran on (``qtui.core.node_types``)."""

    label: str = ""
    cpu_model: str | None = None
    logical_cores: Int | None = None
    nodes: list[str] = []
    run_ids: list[str | None] = []


class Refusal(_Record):
    """A combination the device refused before any run started."""

    device: str = ""
    diff_method: str = ""
    reason: str = ""


# --- the document --------------------------------------------------------------------------


class Summary(_Record):
    """A session's summary: what ``--json`` writes and every reader decodes."""

    schema: str = SUMMARY_SCHEMA
    schema_version: Int = SUMMARY_VERSION
    qtui_version: str | None = None
    datetime: str | None = None
    session_id: str | None = None
    argv: list[str] = []
    #: Free-form (``qtui.engine.machine``); known keys are checked on load.
    machine_info: dict[str, Any] = {}
    versions: dict[str, Any] = {}
    interrupted: bool = False
    results: list[Result] = []
    recommendation: Recommendation | None = None
    sweep: dict[str, SweepAxis] = {}
    thread_choice: list[ThreadChoice] = []
    refused: list[Refusal] = []
    runs: list[Run] = []
    notes: list[str] = []
    nodes: list[NodeType] = []
    resources: SessionResources | None = None  # qtui's own cost; null before issue 24

    @classmethod
    def loads(cls, data: bytes | str, source: str = "input") -> Summary:
        """Decode a v1 or v2 summary; ``SummaryError`` (one line) when it is not one."""
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        try:
            obj = parse_json(raw)
        except ValueError as exc:
            raise SummaryError(f"{source} is not valid JSON ({exc})") from None
        return cls.from_builtins(obj, source)

    @classmethod
    def from_builtins(cls, obj: Any, source: str = "input") -> Summary:
        """The records of a decoded JSON document (v1 is upgraded); ``SummaryError``
        names the first field that does not fit."""
        version = _check_header(obj, source)
        try:
            ev.check_tree(obj, "the summary")
            doc = _upgrade_v1(obj) if version == 1 else obj
            summary = msgspec.convert(doc, cls)
            _check_free_form(doc)
        except msgspec.ValidationError as exc:
            raise SummaryError(f"{source}: {field_error(exc)}") from None
        except ValueError as exc:
            raise SummaryError(f"{source}: {exc}") from None
        summary.schema_version = SUMMARY_VERSION
        return summary

    def to_builtins(self) -> dict[str, Any]:
        """The v2 document as plain dicts and lists."""
        out: dict[str, Any] = msgspec.to_builtins(self, enc_hook=_enc_hook)
        return out

    def dumps(self) -> bytes:
        """The v2 JSON, indented for people (NaN is written as ``null``)."""
        return msgspec.json.format(msgspec.json.encode(self, enc_hook=_enc_hook), indent=2) + b"\n"


# --- loading helpers ------------------------------------------------------------------------


def _kind(obj: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(obj), "number" if isinstance(obj, (int, float)) else "null"
    )


def _check_header(obj: Any, source: str) -> int:
    """The document's ``schema_version`` once ``schema`` says it is a summary we read."""
    if not isinstance(obj, dict):
        raise SummaryError(f"{source} is not a qtui summary (a JSON {_kind(obj)}, not an object)")
    schema = obj.get("schema")
    if schema != SUMMARY_SCHEMA:
        hint = ""
        if "results" in obj and schema is None:
            hint = " (it looks like a hyperfine or other tool's export)"
        elif "type" in obj and "v" in obj:
            hint = " (it looks like a single qtui event)"
        found = repr(schema) if isinstance(schema, (str, int, float, type(None))) else _kind(schema)
        raise SummaryError(
            f"{source} is not a qtui summary: expected \"schema\": \"{SUMMARY_SCHEMA}\", "
            f"found {found[:80]}{hint}"
        )
    version = obj.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SummaryError(f"{source}: schema_version is missing or not a whole number")
    if version > SUMMARY_VERSION:
        raise SummaryError(
            f"{source} was written by a newer qtui (summary schema v{version}); "
            f"this qtui reads up to v{SUMMARY_VERSION}: upgrade qtui"
        )
    if version < 1:
        raise SummaryError(f"{source}: unknown summary schema version {version}")
    return version


def _upgrade_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """A v1 document as v2 builtins (a shallow copy; ``obj`` is left as it was)."""
    doc = dict(obj, schema_version=SUMMARY_VERSION)
    results = doc.get("results")
    if isinstance(results, list):
        doc["results"] = [_upgrade_result(r) if isinstance(r, dict) else r for r in results]
    runs = doc.get("runs")
    if isinstance(runs, list):
        doc["runs"] = [
            {**r, "result": None} if isinstance(r, dict) and r.get("result") == {} else r
            for r in runs
        ]
    for key in ("sweep", "machine_info", "versions"):
        if key in doc and doc[key] is None:
            del doc[key]  # v1 allowed null for these: the same as absent
    return doc


def _upgrade_result(r: dict[str, Any]) -> dict[str, Any]:
    """``command`` -> ``combo``; a null ``resources`` or ``runs`` reads as absent."""
    out = {k: v for k, v in r.items() if k != "command"}
    if "command" in r and "combo" not in r:
        out["combo"] = r["command"]
    for key in ("resources", "runs"):
        if key in out and out[key] is None:
            del out[key]
    return out


def _check_free_form(doc: dict[str, Any]) -> None:
    """The known keys of the free-form machine dicts have the types readers expect."""
    _check_shape(doc.get("machine_info"), "machine_info")
    for i, run in enumerate(doc.get("runs") or []):
        if isinstance(run, dict):
            _check_shape(run.get("node_machine"), f"runs[{i}].node_machine")


def _check_shape(value: Any, where: str) -> None:
    if value is None:
        return
    try:
        msgspec.convert(value, ev.MachineShape)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        what, sep, at = msg.partition(" - at `$")
        raise msgspec.ValidationError(f"{what} - at `$.{where}{at}" if sep else msg) from None


def field_error(exc: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.results[0].steps`" as
    'field "results[0].steps": expected `int`, got `str`'."""
    msg = str(exc)
    what, sep, where = msg.partition(" - at `")
    if not sep:
        return msg
    path = where.rstrip("`").removeprefix("$").lstrip(".") or "the top level"
    return f'field "{path}": {what[:1].lower()}{what[1:]}'


def parse_json(data: bytes) -> Any:
    """One JSON document; ``ValueError`` (with the reason) when it is not one."""
    try:
        return msgspec.json.decode(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start + 1})") from None
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    # Python's json reads what msgspec refuses: NaN and Infinity (summaries written
    # by older qtui versions), and it says where a broken document breaks.
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)[:200]) from None


def _enc_hook(obj: Any) -> Any:
    """numpy scalars and arrays to numbers and lists; anything else as its text."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
