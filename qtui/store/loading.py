"""Reading qtui's files from disk: a summary JSON or a JSONL event log.

One loader for every reader (``qtui report``, ``qtui compare``, ``qtui
watch --once``'s checks, ``qtui history --import`` and the exporters'
``load_summary``), so they agree on what a file is and on what is wrong
with it.  Anything wrong with the file as a whole (missing, a folder,
unreadable, empty, binary, JSON that is not a qtui summary, a summary
whose fields have the wrong types, too deeply nested, integers beyond 64
bits) raises ``LoadError`` with one line that says which file and, where it
helps, which field; the commands print it and exit 2.  Inside an event log a
bad line is reported (line number, reason) and skipped; the other lines are
kept.

The file is read as bytes and an event log is decoded line by line from
bytes, so one invalid UTF-8 byte costs one line, not the whole log.

The summary schema here is lenient on purpose: unknown fields are allowed
(newer writers, other tools) and every field may be missing, but a field
the renderers read must have the type they expect.  The summary is returned
as the plain dict it was, not a converted copy.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec

from qtui.core import events as ev

#: Refuse to load files larger than this (a summary is KBs, a long log MBs).
MAX_FILE_BYTES = 2 * 1024**3
#: Lines scanned for an event when telling a log from a broken summary.
_SNIFF_LINES = 20


class LoadError(Exception):
    """A file cannot be read as a qtui summary or event log; one line says why."""


# --- the summary schema (``qtui.summary`` v1) ----------------------------------

Int = Annotated[int, msgspec.Meta(ge=ev.INT64_MIN, le=ev.INT64_MAX)]
Num = float | None  # NaN allowed: renderers show it as "—"


class _Resources(msgspec.Struct):
    peak_rss_bytes: Num = None
    cores_in_use: Num = None
    core_s: Num = None
    core_s_stddev: Num = None
    core_s_per_step: Num = None
    peak_threads: Int | None = None
    peak_rss_values: list[Num] = []
    core_s_values: list[Num] = []


class _Warning(msgspec.Struct):
    category: str | None = None
    message: str | None = None
    filename: str | None = None
    lineno: Int | None = None
    count: Int = 0
    first_t: Num = None
    last_t: Num = None


class _RunCount(msgspec.Struct):
    total: Int = 0
    finished: Int = 0


class _Error(msgspec.Struct):
    state: str | None = None
    exc_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    signal: str | None = None
    exit_code: Int | None = None
    stderr_tail: str | None = None
    timeout_s: Num = None
    reason: str | None = None


class _DeviceUse(msgspec.Struct):
    name: str | None = None
    wires: Int | None = None
    shots: Int | None = None
    executions: Int | None = None
    circuits: Int | None = None


class _Quantum(msgspec.Struct):
    """Device truth (``qtui.engine.device_truth``) of a run or a combination."""

    devices: list[_DeviceUse] = []
    diff_methods: list[str] = []
    device: str | None = None
    diff_method: str | None = None
    executions_per_step: Num = None
    circuits_per_step: Num = None
    execute_s: Num = None
    execute_s_per_step: Num = None
    asked: str | list[str] | None = None
    foreign: bool | None = None


class _Result(msgspec.Struct):
    command: str | None = None
    label: str | None = None
    parameters: dict[str, Any] = {}
    mean: Num = None
    stddev: Num = None
    median: Num = None
    min: Num = None
    max: Num = None
    times: list[Num] = []
    relative: Num = None
    resources: _Resources | None = None
    steps: Int | None = None
    time_per_step: Num = None
    accuracy: Num = None
    final_loss: Num = None
    epoch_losses: list[list[Num]] = []
    phases: dict[str, Num] = {}
    resolved_diff_method: str | None = None
    split_batch: bool | None = None
    threadpools: list[dict[str, Any]] = []
    warnings: list[_Warning] = []
    warning_count: Int = 0
    errors: list[_Error] = []
    runs: _RunCount | None = None
    run_ids: list[str] = []
    node_types: list[str] = []
    nodes: list[str] = []
    quantum: _Quantum | None = None


class _RunResult(msgspec.Struct):
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


class _Run(msgspec.Struct):
    run_id: str | None = None
    state: str | None = None
    repeat_index: Int | None = None
    parameters: dict[str, Any] = {}
    resolved_diff_method: str | None = None
    split_batch: bool | None = None
    pid: Int | None = None
    import_s: Num = None
    build_s: Num = None
    threadpools: list[dict[str, Any]] = []
    result: _RunResult | None = None
    epoch_losses: list[Num] = []
    phases: dict[str, Num] = {}
    warnings: list[_Warning] = []
    error: _Error | None = None
    executor: str | None = None
    job_id: str | None = None
    array_task_id: str | None = None
    node: str | None = None
    job_state: str | None = None
    node_machine: ev.MachineShape | None = None
    quantum: _Quantum | None = None
    asked: dict[str, Any] | None = None


class _Point(msgspec.Struct):
    x: float
    time_per_step: Num = None
    time_per_step_sd: Num = None
    core_s_per_step: Num = None
    cores_in_use: Num = None
    n: Int | None = None
    node_types: list[str] = []


class _NodeType(msgspec.Struct):
    label: str
    cpu_model: str | None = None
    logical_cores: Int | None = None
    nodes: list[str] = []
    run_ids: list[str | None] = []


class _SweepAxis(msgspec.Struct):
    series: dict[str, list[_Point]] = {}
    crossovers: list[str] = []


class _Summary(msgspec.Struct):
    schema: str
    schema_version: Int
    qtui_version: str | None = None
    datetime: str | None = None
    session_id: str | None = None
    argv: list[Any] = []
    machine_info: ev.MachineShape | None = None
    versions: dict[str, Any] = {}
    interrupted: bool = False
    results: list[_Result] = []
    recommendation: dict[str, Any] | None = None
    sweep: dict[str, _SweepAxis] | None = None
    refused: list[ev.RefusedShape] = []
    runs: list[_Run] = []
    notes: list[Any] = []
    nodes: list[_NodeType] = []


def _field_error(exc: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.results[0].steps`" as
    'field "results[0].steps": expected `int`, got `str`'."""
    msg = str(exc)
    what, sep, where = msg.partition(" - at `")
    if not sep:
        return msg
    path = where.rstrip("`").removeprefix("$").lstrip(".") or "the top level"
    return f'field "{path}": {what[:1].lower()}{what[1:]}'


def validate_summary(obj: Any, source: str = "input") -> dict[str, Any]:
    """Check that ``obj`` is a summary this qtui can read; return it unchanged.

    Raises ``LoadError`` naming the first field that does not fit.
    """
    from qtui.analysis.fold import SUMMARY_SCHEMA, SUMMARY_VERSION

    if not isinstance(obj, dict):
        raise LoadError(f"{source} is not a qtui summary (a JSON {_kind(obj)}, not an object)")
    schema = obj.get("schema")
    if schema != SUMMARY_SCHEMA:
        hint = ""
        if "results" in obj and schema is None:
            hint = " (it looks like a hyperfine or other tool's export)"
        elif "type" in obj and "v" in obj:
            hint = " (it looks like a single qtui event)"
        found = repr(schema) if isinstance(schema, (str, int, float, type(None))) else _kind(schema)
        raise LoadError(
            f"{source} is not a qtui summary: expected \"schema\": \"{SUMMARY_SCHEMA}\", "
            f"found {found[:80]}{hint}"
        )
    version = obj.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise LoadError(f"{source}: schema_version is missing or not a whole number")
    if version > SUMMARY_VERSION:
        raise LoadError(
            f"{source} was written by a newer qtui (summary schema v{version}); "
            f"this qtui reads up to v{SUMMARY_VERSION}: upgrade qtui"
        )
    if version < 1:
        raise LoadError(f"{source}: unknown summary schema version {version}")
    try:
        ev.check_tree(obj, "the summary")
        msgspec.convert(obj, _Summary)
    except msgspec.ValidationError as exc:
        raise LoadError(f"{source}: {_field_error(exc)}") from None
    except ValueError as exc:
        raise LoadError(f"{source}: {exc}") from None
    return obj


def _kind(obj: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(obj), "number" if isinstance(obj, (int, float)) else "null"
    )


# --- reading -----------------------------------------------------------------------


def read_bytes(path: str | os.PathLike[str], what: str = "file") -> bytes:
    """The file's bytes, or ``LoadError``: missing, a folder, unreadable, too large."""
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            raise LoadError(f"{p} is a folder, not a {what}")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(f"{p} is {size / 1024**3:.1f} GiB: too large for a {what}")
        return p.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{p} is a folder, not a {what}") from None
    except OSError as exc:
        raise LoadError(f"cannot read {p}: {exc.strerror or exc}") from None


@dataclass
class EventLog:
    """What a JSONL event log held: its events, and the lines that were skipped."""

    events: list[ev.Event] = field(default_factory=list)
    #: "line N: reason", one per skipped line, in file order.
    problems: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.problems)


def parse_log(data: bytes) -> EventLog:
    """Decode every line of ``data``; bad lines become ``problems``, never errors."""
    log = EventLog()
    for n, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        event, reason = ev.decode(raw)
        if event is None:
            log.problems.append(f"line {n}: {reason}")
        else:
            log.events.append(event)
    return log


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _parse_json(data: bytes) -> Any:
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


def _looks_like_event(line: bytes) -> bool:
    try:
        head = msgspec.json.decode(line)
    except Exception:  # noqa: BLE001 - any failure means "no"
        return False
    return isinstance(head, dict) and isinstance(head.get("type"), str) and "v" in head


def is_event_log(data: bytes) -> bool:
    """True when one of the first non-empty lines is a qtui event."""
    seen = 0
    for line in data.split(b"\n", 200)[:200]:
        if not line.strip():
            continue
        if _looks_like_event(line.strip()):
            return True
        seen += 1
        if seen >= _SNIFF_LINES:
            break
    return False


def load_events(path: str | os.PathLike[str]) -> EventLog:
    """A JSONL event log; ``LoadError`` when the file is unusable or holds no event."""
    p = Path(path).expanduser()
    data = _strip_bom(read_bytes(p, "event log"))
    if not data.strip():
        raise LoadError(f"{p} is empty")
    log = parse_log(data)
    if not log.events:
        first = log.problems[0] if log.problems else "no lines"
        raise LoadError(f"{p} holds no qtui events ({first})")
    return log


def fold(log: EventLog, source: str) -> dict[str, Any]:
    """The summary dict of an event log, with a note for the lines skipped."""
    from qtui.analysis.fold import SessionSummary
    from qtui.analysis.summary_builder import document

    summary = SessionSummary()
    for event in log.events:
        summary.apply(event)
    if log.problems:
        shown = "; ".join(log.problems[:3]) + (" ..." if len(log.problems) > 3 else "")
        summary.notes.append(
            f"{len(log.problems)} malformed line(s) in {source} were skipped ({shown})"
        )
    return document(summary)


def load_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A summary JSON (validated) or a JSONL event log (folded into a summary).

    Raises ``LoadError`` with one line for anything wrong with the file as a
    whole; malformed lines of a log are skipped and noted in the summary.
    """
    p = Path(path).expanduser()
    data = _strip_bom(read_bytes(p, "summary file"))
    if not data.strip():
        raise LoadError(f"{p} is empty")
    try:
        obj = _parse_json(data)
    except ValueError as exc:
        if is_event_log(data):
            return fold(parse_log(data), str(p))
        if b"\x00" in data[:4096] or str(exc).startswith("not UTF-8"):
            raise LoadError(f"{p} is not a qtui summary (binary data, not UTF-8 text)") from None
        raise LoadError(f"{p} is not valid JSON ({exc})") from None
    if isinstance(obj, dict) and "type" in obj and "v" in obj and "schema" not in obj:
        return fold(parse_log(data), str(p))  # a one-line event log
    return validate_summary(obj, str(p))
