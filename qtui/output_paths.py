"""Output files checked before anything starts, and where a summary goes when its path fails.

``--json`` and ``--events`` are checked during validation, so a bad path is
one line and exit 2 with nothing trained: not a folder, no existing file
without ``--force``, and the folder must exist and really accept a new file
(a probe file is created and removed — permission bits say nothing for root,
and read-only mounts or ``/proc`` refuse whatever the bits say).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from qtui.config import ConfigError


def check_output_path(field_name: str, path: str | None, force: bool) -> None:
    """Raise ``ConfigError`` when ``path`` cannot be written as a new output file."""
    if not path:
        return
    p = Path(path).expanduser()
    if p.is_dir():
        raise ConfigError(field_name, f"{path} is a folder; give a file name")
    if p.exists() and not force:
        raise ConfigError(field_name, f"{path} already exists; pass --force to overwrite it")
    folder = p.parent
    if not folder.is_dir():
        raise ConfigError(field_name, f"folder {folder} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(field_name, f"cannot write in {folder} ({reason})") from None
    os.close(fd)
    os.unlink(probe)


def fallback_path(name: str) -> Path:
    """Where a summary goes when its own path fails at the end: the user data folder."""
    from qtui.history_db import data_dir

    folder = data_dir() / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / Path(name).name
