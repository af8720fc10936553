"""Exports: render a summary in a format, write it safely, load it back.

Used alike by ``qtui run``, the TUI's export action and ``qtui report``.

Nothing is lost: files are written to a temporary file in the target folder
and moved into place in one step (``os.link``/``os.replace``), so a reader
never sees half a report and a crash leaves the old file intact; an existing
file is never overwritten unless ``force`` is given; a failed render leaves
no file behind and raises ``ExportError`` with one line that says why (the
caller still holds the summary).

``load_summary`` reads a summary JSON back (checking its schema and version)
and also accepts a JSONL event log (``qtui run --events``), folding it through
``SessionSummary`` so a log can be reported on directly.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
from pathlib import Path
from typing import Any

from qtui.export.base import Exporter, ExportError
from qtui.export.csv_export import CsvExporter
from qtui.export.html_export import HtmlExporter
from qtui.export.json_export import JsonExporter
from qtui.export.markdown_export import MarkdownExporter

__all__ = [
    "EXPORTERS",
    "ExportError",
    "Exporter",
    "FORMATS",
    "get_exporter",
    "load_summary",
    "render",
    "validate_summary",
    "write_all",
    "write_summary",
]

EXPORTERS: dict[str, Exporter] = {
    e.name: e for e in (JsonExporter(), MarkdownExporter(), CsvExporter(), HtmlExporter())
}
FORMATS: tuple[str, ...] = tuple(EXPORTERS)
_ALIASES = {"markdown": "md", "htm": "html"}


def get_exporter(fmt: str) -> Exporter:
    name = _ALIASES.get(fmt.lower(), fmt.lower())
    try:
        return EXPORTERS[name]
    except KeyError:
        raise ExportError(
            f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}"
        ) from None


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name implies (``x.md`` -> ``md``), if any."""
    ext = Path(path).suffix.lower().lstrip(".")
    ext = _ALIASES.get(ext, ext)
    return ext if ext in EXPORTERS else None


def render(summary: dict[str, Any], fmt: str) -> str | bytes:
    """Render in memory; any failure becomes a one-line ``ExportError``."""
    exporter = get_exporter(fmt)
    try:
        return exporter.render(summary)
    except ExportError:
        raise
    except Exception as exc:
        raise ExportError(
            f"could not render the {exporter.name} export: {type(exc).__name__}: {exc}"
        ) from exc


def _atomic_write(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to ``path`` in one step; refuse to replace unless ``force``."""
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if path.exists() and not force:
        raise ExportError(f"{path} already exists; use --force to overwrite it")
    tmp = None
    for i in range(100):
        candidate = folder / f".{path.name}.{os.getpid()}.{i}.tmp"
        try:
            # O_EXCL: never clobber another writer's temp file; mode 0o666 & umask
            # gives the file the permissions a plain open() would.
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
        tmp = candidate
        break
    if tmp is None:
        raise ExportError(f"cannot write {path}: no free temporary name in {folder}")
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
        if force:
            os.replace(tmp, path)
        else:
            # link() fails if the name exists, closing the race between the
            # exists() check above and now; fall back where links are unsupported.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ExportError(f"{path} already exists; use --force to overwrite it") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
                if path.exists():
                    raise ExportError(
                        f"{path} already exists; use --force to overwrite it"
                    ) from None
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_summary(
    summary: dict[str, Any], path: str | os.PathLike[str], fmt: str, force: bool = False
) -> Path:
    """Render ``summary`` as ``fmt`` and write it to ``path`` atomically."""
    target = Path(path).expanduser()
    data = render(summary, fmt)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    _atomic_write(target, raw, force)
    return target


def default_stem(summary: dict[str, Any]) -> str:
    """``qtui-<session id>``, made safe as a file name."""
    sid = str(summary.get("session_id") or "")
    if not sid:
        sid = re.sub(r"[^0-9]", "", str(summary.get("datetime") or ""))[:14] or "summary"
    return "qtui-" + re.sub(r"[^A-Za-z0-9._-]", "_", sid)


def write_all(
    summary: dict[str, Any],
    folder: str | os.PathLike[str],
    force: bool = False,
    formats: tuple[str, ...] = FORMATS,
) -> list[Path]:
    """Write every format to ``folder`` as ``qtui-<session>.<ext>``.

    All targets are checked before anything is written, so a refusal writes
    nothing.  The JSON goes first: if a later format fails, the data is
    already safe, and the ``ExportError`` lists what was written.
    """
    out_dir = Path(folder).expanduser()
    if not out_dir.is_dir():
        raise ExportError(f"cannot write to {out_dir}: not an existing folder")
    stem = default_stem(summary)
    ordered = sorted(formats, key=lambda f: f != "json")
    targets = [(fmt, out_dir / f"{stem}.{get_exporter(fmt).extension}") for fmt in ordered]
    if not force:
        existing = [str(p) for _, p in targets if p.exists()]
        if existing:
            raise ExportError(
                f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                "use --force to overwrite"
            )
    written: list[Path] = []
    failures: list[str] = []
    for fmt, target in targets:
        try:
            written.append(write_summary(summary, target, fmt, force=force))
        except ExportError as exc:
            failures.append(str(exc))
    if failures:
        err = ExportError(
            "; ".join(failures)
            + (f" (written: {', '.join(map(str, written))})" if written else "")
        )
        err.written = written  # type: ignore[attr-defined]
        raise err
    return written


# --- reading back -----------------------------------------------------------


def validate_summary(obj: Any, source: str = "input") -> dict[str, Any]:
    """Check that ``obj`` is a summary this qtui can read; return it."""
    from qtui.summary import SUMMARY_SCHEMA, SUMMARY_VERSION

    if not isinstance(obj, dict):
        raise ExportError(f"{source} is not a qtui summary (a JSON {type(obj).__name__}, not an object)")
    schema = obj.get("schema")
    if schema != SUMMARY_SCHEMA:
        hint = ""
        if "results" in obj and schema is None:
            hint = " (it looks like a hyperfine or other tool's export)"
        elif "type" in obj and "v" in obj:
            hint = " (it looks like a single qtui event)"
        raise ExportError(
            f"{source} is not a qtui summary: expected \"schema\": \"{SUMMARY_SCHEMA}\", "
            f"found {schema!r}{hint}"
        )
    version = obj.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ExportError(f"{source}: schema_version is missing or not a whole number")
    if version > SUMMARY_VERSION:
        raise ExportError(
            f"{source} was written by a newer qtui (summary schema v{version}); "
            f"this qtui reads up to v{SUMMARY_VERSION}: upgrade qtui"
        )
    if version < 1:
        raise ExportError(f"{source}: unknown summary schema version {version}")
    for key in ("results", "runs"):
        value = obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            raise ExportError(f"{source}: \"{key}\" must be a list of objects")
    for i, r in enumerate(obj.get("results", [])):
        if not isinstance(r.get("parameters", {}), dict):
            raise ExportError(f"{source}: results[{i}].parameters must be an object")
    return obj


def _fold_event_log(text: str, source: str) -> dict[str, Any]:
    from qtui.events import decode
    from qtui.summary import SessionSummary

    summary = SessionSummary()
    skipped = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        event, _reason = decode(line)
        if event is None:
            skipped += 1
            continue
        summary.apply(event)
    if skipped:
        summary.notes.append(f"{skipped} malformed line(s) in {source} were skipped")
    return summary.to_dict()


def load_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a summary JSON (or a JSONL event log) and validate it.

    Raises ``ExportError`` with one line for a missing file, bytes that are not
    UTF-8, text that is not JSON, JSON that is not a qtui summary, or a summary
    from a newer qtui.
    """
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ExportError(f"{p} is a folder, not a summary file") from None
    except OSError as exc:
        raise ExportError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(f"{p} is not a qtui summary (not UTF-8 text)") from None
    if not text.strip():
        raise ExportError(f"{p} is empty")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        try:
            head = json.loads(first)
        except json.JSONDecodeError:
            head = None
        if isinstance(head, dict) and "type" in head and "v" in head:
            return _fold_event_log(text, str(p))
        raise ExportError(
            f"{p} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if isinstance(obj, dict) and "type" in obj and "v" in obj and "schema" not in obj:
        return _fold_event_log(text, str(p))  # a one-line event log
    return validate_summary(obj, str(p))
