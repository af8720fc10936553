"""Exports: render a summary in a format and write it safely.

Used alike by ``qtui run``, the TUI's export action and ``qtui report``.

Only regular files are written (``qtui.core.paths.output_problem``): a device,
FIFO, socket or folder at the path is refused, ``force`` or not, and a symlink
is written through.  Nothing is lost: files are written to a temporary file in the target folder
and moved into place in one step (``os.link``/``os.replace``), so a reader
never sees half a report and a crash leaves the old file intact; an existing
file is never overwritten unless ``force`` is given; a failed render leaves
no file behind and raises ``ExportError`` with one line that says why (the
caller still holds the summary).

A format may write files beside its own (``Exporter.beside``: the CSV's
``<stem>-samples.csv``).  They go with it: every target is checked before
anything is written, so one that is refused (it exists without ``force``, a
folder or FIFO is in the way) writes none of them.

Reading a summary back is the store's job (``qtui.store.loading.load_summary``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from pathlib import Path

from qtui.core.paths import output_problem
from qtui.core.summary_schema import Summary
from qtui.report.export.base import Exporter, ExportError
from qtui.report.export.csv_export import CsvExporter
from qtui.report.export.html_export import HtmlExporter
from qtui.report.export.json_export import JsonExporter
from qtui.report.export.markdown_export import MarkdownExporter

__all__ = [
    "EXPORTERS",
    "ExportError",
    "Exporter",
    "FORMATS",
    "beside_paths",
    "get_exporter",
    "render",
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


def render(summary: Summary, fmt: str) -> str | bytes:
    """Render in memory; any failure becomes a one-line ``ExportError``."""
    exporter = get_exporter(fmt)
    try:
        return exporter.render(summary)
    except ExportError:
        raise
    except Exception as exc:
        # boundary: a renderer's bug becomes a one-line ExportError with the cause
        # chained; the caller shows it and still holds the summary.
        raise ExportError(
            f"could not render the {exporter.name} export: {type(exc).__name__}: {exc}"
        ) from exc


def _atomic_write(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to ``path`` in one step; refuse to replace unless ``force``.

    Only a regular file is ever replaced (``qtui.core.paths.output_problem``): a
    device, FIFO, socket or folder is refused with ``force`` too, and a symlink is
    written through (its target replaced in the target's folder, the link kept).
    """
    target, problem = output_problem(path, force, summaries=False, hint="use --force to overwrite it")
    if problem:
        raise ExportError(problem)
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    tmp = None
    for i in range(100):
        candidate = folder / f".{target.name}.{os.getpid()}.{i}.tmp"
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
            _, problem = output_problem(path, force, summaries=False)  # swapped meanwhile?
            if problem:
                raise ExportError(problem)
            os.replace(tmp, target)
        else:
            # link() fails if the name exists, closing the race between the
            # exists() check above and now; fall back where links are unsupported.
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise ExportError(f"{path} already exists; use --force to overwrite it") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
                if os.path.lexists(target):
                    raise ExportError(
                        f"{path} already exists; use --force to overwrite it"
                    ) from None
                os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def beside_paths(path: str | os.PathLike[str], fmt: str) -> list[Path]:
    """The files ``fmt`` writes beside ``path`` (``out.csv``: ``[out-samples.csv]``)."""
    exporter = get_exporter(fmt)
    p = Path(path).expanduser()
    stem = p.stem if p.suffix else p.name
    return [p.with_name(f"{stem}{suffix}.{exporter.extension}") for suffix in exporter.beside]


def _render_beside(summary: Summary, fmt: str) -> list[bytes]:
    """The contents of the files beside ``fmt``'s, in ``beside_paths`` order."""
    exporter = get_exporter(fmt)
    out = []
    for suffix in exporter.beside:
        try:
            data = exporter.render_beside(summary, suffix)
        except Exception as exc:
            # boundary: as ``render``: one line, the cause chained
            raise ExportError(
                f"could not render the {exporter.name} export's {suffix} file: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        out.append(data.encode("utf-8") if isinstance(data, str) else data)
    return out


def _refused(paths: list[Path], force: bool) -> str:
    """Why some of ``paths`` cannot be written ("" when all can)."""
    problems = [output_problem(p, force, summaries=False, hint="use --force to overwrite it")[1]
                for p in paths]
    return "; ".join(p for p in problems if p)


def write_summary(
    summary: Summary, path: str | os.PathLike[str], fmt: str, force: bool = False
) -> Path:
    """Render ``summary`` as ``fmt`` and write it to ``path`` atomically, with the files
    the format writes beside it (``beside_paths``); returns ``path``."""
    target = Path(path).expanduser()
    data = render(summary, fmt)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    companions = list(zip(beside_paths(target, fmt), _render_beside(summary, fmt), strict=True))
    if companions:
        problem = _refused([target, *(p for p, _ in companions)], force)
        if problem:  # before anything is written: all of them or none
            raise ExportError(problem)
    _atomic_write(target, raw, force)
    for where, body in companions:
        _atomic_write(where, body, force)
    return target


def default_stem(summary: Summary) -> str:
    """``qtui-<session id>``, made safe as a file name."""
    sid = summary.session_id or ""
    if not sid:
        sid = re.sub(r"[^0-9]", "", summary.datetime or "")[:14] or "summary"
    return "qtui-" + re.sub(r"[^A-Za-z0-9._-]", "_", sid)


def write_all(
    summary: Summary,
    folder: str | os.PathLike[str],
    force: bool = False,
    formats: tuple[str, ...] = FORMATS,
) -> list[Path]:
    """Write every format to ``folder`` (made when it does not exist) as
    ``qtui-<session>.<ext>``.

    All targets are checked before anything is written, so a refusal writes
    nothing.  The JSON goes first: if a later format fails, the data is
    already safe, and the ``ExportError`` lists what was written.
    """
    out_dir = Path(folder).expanduser()
    try:  # a folder named for the exports is made, parents too (issue 23, item 8)
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    if not out_dir.is_dir():
        raise ExportError(f"cannot write to {out_dir}: not a folder")
    stem = default_stem(summary)
    ordered = sorted(formats, key=lambda f: f != "json")
    targets = [(fmt, out_dir / f"{stem}.{get_exporter(fmt).extension}") for fmt in ordered]
    every = [q for fmt, p in targets for q in (p, *beside_paths(p, fmt))]
    refused = [output_problem(p, True, summaries=False)[1] for p in every]
    if any(refused):  # a folder, a FIFO or device in the way: refused, --force or not
        raise ExportError("; ".join(r for r in refused if r))
    if not force:
        existing = [str(p) for p in every if os.path.lexists(p)]
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
            written += beside_paths(target, fmt)
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

