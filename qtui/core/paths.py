"""Every folder rule qtui has, and output files checked before anything starts.

Folders (each with the environment variable that overrides it, for tests,
shared accounts and clusters):

* ``data_dir()``: ``$QTUI_DATA_DIR`` or the platform's user data folder; the
  history database and summaries that could not go where asked live here;
* ``cache_dir()``: ``$QTUI_CACHE_DIR`` or the user cache folder (the
  capability probe's answer);
* ``config_dir()``: ``$QTUI_CONFIG_DIR`` or the user config folder (theme, UI
  settings, user themes);
* ``default_jobs_dir()``: ``$QTUI_JOBS_DIR`` or ``<data>/jobs`` (SLURM jobs'
  files: on storage the compute nodes share);
* ``default_export_folder()``: ``$QTUI_EXPORT_DIR``, else the documents folder,
  else ``<data>/exports``; never the current directory.

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

from qtui.core.config import ConfigError

DATA_DIR_ENV = "QTUI_DATA_DIR"
CACHE_DIR_ENV = "QTUI_CACHE_DIR"
CONFIG_DIR_ENV = "QTUI_CONFIG_DIR"
JOBS_DIR_ENV = "QTUI_JOBS_DIR"
EXPORT_DIR_ENV = "QTUI_EXPORT_DIR"


def data_dir() -> Path:
    """qtui's data folder: ``$QTUI_DATA_DIR`` or the platform's user data dir."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("qtui", appauthor=False))


def cache_dir() -> Path:
    """The capability probe's cache: ``$QTUI_CACHE_DIR`` or the user cache dir."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("qtui"))


def config_dir() -> Path:
    """Where the UI keeps its settings (``$QTUI_CONFIG_DIR`` wins)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("qtui"))


def default_jobs_dir() -> Path:
    """``$QTUI_JOBS_DIR``, else ``<qtui data folder>/jobs``."""
    override = os.environ.get(JOBS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return data_dir() / "jobs"


def default_export_folder(stamp: str | None = None) -> Path:
    """Where the TUI offers to export a session: ``<folder>/qtui-export-<stamp>``.

    The folder is the user's documents folder (platformdirs:
    ``~/Documents/qtui`` on Linux and macOS, ``Documents\\qtui`` on Windows),
    because an export is a set of files the user opens, shares and deletes:
    documents, not application state.  On a machine without a documents folder
    (a compute node, a container) it is qtui's data folder, ``exports/`` beside
    the history, so nothing new appears in the home folder.  Never the current
    directory: inside a clone, ``git status`` would list every export.
    ``QTUI_EXPORT_DIR`` names the folder outright; ``QTUI_DATA_DIR`` (set for
    tests and shared accounts) keeps exports under it as well.
    """
    import time

    import platformdirs

    name = f"qtui-export-{stamp or time.strftime('%Y%m%d-%H%M%S')}"
    if os.environ.get(EXPORT_DIR_ENV):
        return Path(os.environ[EXPORT_DIR_ENV]).expanduser() / name
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser() / "exports" / name
    documents = platformdirs.user_documents_path()
    if documents.is_dir() and documents != Path.home():
        return documents / "qtui" / name
    return platformdirs.user_data_path("qtui", appauthor=False) / "exports" / name


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
    folder = data_dir() / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / Path(name).name
