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
  else ``<data>/exports``; never the current directory;
* ``script_output_dir(session)``: ``<data>/outputs/<session id>``, where a
  ``qtui exec`` run's child keeps the script's whole stdout and stderr
  (``<run id>.stdout``, ``<run id>.stderr``; ``qtui.engine.script_child``).

``--json`` and ``--events`` are checked during validation, so a bad path is
one line and exit 2 with nothing trained: not a folder, no existing file
without ``--force``, and the folder must exist and really accept a new file
(a probe file is created and removed — permission bits say nothing for root,
and read-only mounts or ``/proc`` refuse whatever the bits say).

Files, both ways (``output_problem``, ``open_output_file``, ``read_regular``):
qtui writes and reads regular files only.  A device, FIFO, socket or folder is
refused, ``--force`` or not (as root, ``--json /dev/null --force`` would
otherwise rename a JSON file over the system's ``/dev/null``); a name that is
empty or ends in ``/`` is refused; a symlink is written *through*, as a
shell's ``>`` does (its target is replaced, the link stays), and one whose
target does not exist needs ``--force``.  qtui's own live files (the history
database and its ``-wal``/``-shm``/``-journal``, the jobs folder, the
summaries folder) are never an output.  Readers stat before they open, open
with ``O_NONBLOCK`` (a FIFO never blocks them) and read at most
``MAX_READ_BYTES`` (1 GiB), so a copy of ``/dev/zero`` cannot grow them.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from qtui.core.config import ConfigError

DATA_DIR_ENV = "QTUI_DATA_DIR"
CACHE_DIR_ENV = "QTUI_CACHE_DIR"
CONFIG_DIR_ENV = "QTUI_CONFIG_DIR"
JOBS_DIR_ENV = "QTUI_JOBS_DIR"
EXPORT_DIR_ENV = "QTUI_EXPORT_DIR"
#: The history database's file name in the data folder (``qtui.store.history_db``).
HISTORY_DB_NAME = "history.sqlite3"
#: The most a reader takes from one file: a summary is KBs, a long event log MBs.
MAX_READ_BYTES = 1024**3
MAX_READ_TEXT = "1 GiB"


class FileRefused(OSError):
    """A path qtui will not write or read as a file (a device, FIFO, socket, folder,
    qtui's own live file, a file over ``MAX_READ_BYTES``); the message is one line."""


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


#: The folder of the data folder holding the script output of ``qtui exec`` runs.
OUTPUTS_DIR_NAME = "outputs"


def script_output_dir(session_id: str) -> Path:
    """``<data folder>/outputs/<session id>``: where each ``qtui exec`` run of the
    session keeps its script's whole output, one ``<run id>.stdout`` and
    ``<run id>.stderr`` each (named here, created 0700 by the run's child).  Beside
    the history, not beside ``--json``/``--events``: a session has a folder whether
    or not it asked for those files, the app's sessions included."""
    return data_dir() / OUTPUTS_DIR_NAME / session_id


def kind_of(mode: int) -> str:
    """``a FIFO``, ``a character device``...: what a file that is not regular is."""
    for test, name in (
        (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a regular file"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def live_file_problem(target: Path, *, summaries: bool = True, shown: str = "") -> str | None:
    """Why ``target`` (resolved) is one of qtui's own live files, or None.

    The history database and its side files (by name, and by inode for a hard
    link), the jobs folder (SLURM sessions' pickles and logs), and with
    ``summaries`` the folder where a summary that could not go where asked is saved.
    ``shown``: the path as the user gave it, for the message.
    """
    name = shown or str(target)
    data = Path(os.path.realpath(data_dir()))
    db = data / HISTORY_DB_NAME
    side = [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))]
    if target in side:
        return f"{name} is qtui's history database ({target.name}); give another name"
    try:
        st = os.stat(target)
        for live in side:
            other = os.stat(live)
            if (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino):
                return f"{name} is qtui's history database ({live.name}); give another name"
    except OSError:
        pass  # one of them is missing: no inode to share
    jobs = Path(os.path.realpath(default_jobs_dir()))
    if _inside(target, jobs):
        return f"{name} is inside qtui's jobs folder ({jobs}); give another place"
    kept = data / "summaries"
    if summaries and _inside(target, kept):
        return f"{name} is inside qtui's summaries folder ({kept}); give another place"
    return None


def output_problem(
    path: str | os.PathLike[str], force: bool, *, summaries: bool = True,
    hint: str = "pass --force to overwrite it",
) -> tuple[Path, str | None]:
    """``(the file to write, why it cannot be written or None)`` for an output path.

    The file is the path itself, or where a symlink points (written through).
    Refused whatever ``force`` says: an empty name, a trailing ``/``, a folder,
    a device, FIFO or socket, qtui's own live files (``live_file_problem``).
    Refused without ``force``: an existing file, a dangling symlink.
    """
    text = os.fspath(path)
    if not text:
        return Path(), "needs a file name, not an empty one"
    if text.endswith(("/", os.sep)):
        return Path(text), f"{text} ends in /: give a file name, not a folder"
    p = Path(text).expanduser()
    target = p
    try:
        st: os.stat_result | None = os.lstat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return p, f"cannot check {text} ({exc.strerror or exc})"
    if st is not None and stat.S_ISLNK(st.st_mode):
        target = Path(os.path.realpath(p))
        try:
            st = os.stat(p)
        except FileNotFoundError:
            if not force:
                return target, (
                    f"{text} is a dangling symlink (to {os.readlink(p)}); pass --force to "
                    "write where it points, or remove it"
                )
            st = None
        except OSError as exc:  # a loop, a component that is not a folder
            return p, f"{text} is a symlink that cannot be followed ({exc.strerror or exc})"
    else:
        target = Path(os.path.realpath(p))
    if st is not None and stat.S_ISDIR(st.st_mode):
        return target, f"{text} is a folder; give a file name"
    if st is not None and not stat.S_ISREG(st.st_mode):
        return target, (
            f"{text} is {kind_of(st.st_mode)}: qtui writes regular files only, "
            "--force or not"
        )
    live = live_file_problem(target, summaries=summaries, shown=text)
    if live:
        return target, live
    if st is not None and not force:
        return target, f"{text} already exists; {hint}"
    return target, None


def check_output_path(field_name: str, path: str | None, force: bool) -> None:
    """Raise ``ConfigError`` when ``path`` cannot be written as an output file
    (``output_problem``), or its folder is missing or refuses a new file."""
    if path is None:
        return
    target, problem = output_problem(path, force)
    if problem:
        raise ConfigError(field_name, problem)
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(field_name, f"folder {folder} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(field_name, f"cannot write in {folder} ({reason})") from None
    os.close(fd)
    os.unlink(probe)


def open_output_file(path: str | os.PathLike[str], *, private: bool = False) -> BinaryIO:
    """Open ``path`` to write from its start (``--events``), created when absent.

    Only a regular file (or a symlink to one) is opened: the path is checked
    first (``output_problem``, as with ``--force``), then opened with
    ``O_NONBLOCK`` (a FIFO with no reader fails at once instead of waiting for
    one) and checked again on the open descriptor before it is truncated, so a
    device or FIFO is never written or emptied.  ``FileRefused`` otherwise.
    ``private``: the file is made readable by its owner only (0600), also when it
    existed (a script's output may hold data).
    """
    target, problem = output_problem(path, True, summaries=False)
    if problem:
        raise FileRefused(problem)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(target, flags, 0o600 if private else 0o666)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO with no reader
            raise FileRefused(f"{os.fspath(path)} is a FIFO: qtui writes regular files only") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise FileRefused(
            f"{os.fspath(path)} is {kind_of(st.st_mode)}: qtui writes regular files only"
        )
    if private:
        os.fchmod(fd, 0o600)
    os.ftruncate(fd, 0)
    return os.fdopen(fd, "wb")


def _a(what: str) -> str:
    return f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"


def _too_large(path: str, size: int, what: str) -> FileRefused:
    return FileRefused(
        f"{path} is {size / 1024**3:.2f} GiB ({size} bytes): over the {MAX_READ_TEXT} "
        f"qtui reads as {_a(what)}"
    )


def _not_regular(path: str, mode: int, what: str) -> FileRefused:
    return FileRefused(f"{path} is {kind_of(mode)}, not {_a(what)}: qtui reads regular files only")


def open_regular(path: str | os.PathLike[str], what: str = "file",
                 limit: int | None = MAX_READ_BYTES) -> int:
    """A read-only descriptor on ``path``, a regular file of at most ``limit`` bytes.

    Stat first (a device is never opened: opening some has effects), then open
    with ``O_NONBLOCK`` (a FIFO swapped in meanwhile does not block) and check
    the descriptor again.  ``FileNotFoundError`` and other ``OSError`` as
    ``open`` raises them; ``FileRefused`` for what is not a regular file or too large.
    """
    text = os.fspath(path)
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(text, st.st_mode, what)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    st = os.fstat(fd)
    problem: FileRefused | None = None
    if not stat.S_ISREG(st.st_mode):
        problem = _not_regular(text, st.st_mode, what)
    elif limit is not None and st.st_size > limit:
        problem = _too_large(text, st.st_size, what)
    if problem is not None:
        os.close(fd)
        raise problem
    return fd


def read_regular(path: str | os.PathLike[str], what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``MAX_READ_BYTES`` (``open_regular``);
    a file that grows past the limit while read is refused, not followed."""
    fd = open_regular(path, what)
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise _too_large(os.fspath(path), len(data), what)
    return data


def fallback_path(name: str) -> Path:
    """Where a summary goes when its own path fails at the end: the user data folder."""
    folder = data_dir() / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / Path(name).name
