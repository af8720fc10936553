"""A session's ``qtui exec`` output folder, removed with the session (issue 23).

Why: each exec run's child keeps the script's whole stdout and stderr in
``<data folder>/outputs/<session id>/`` (``qtui.core.paths.script_output_dir``,
docs/EXEC.md).  Deleting the session from the history (``qtui history ID --delete``,
the app's history ``d``) removed its rows and left these files, up to 64 MiB a stream,
that may hold the script's data, with nothing left that names them.

What is removed, and only that: the folder named by the session id directly in the
data folder's ``outputs`` folder, when it is a real folder.  An id that is not a plain
name (a separator, ``.``, ``..``) names nothing; a symlink, or a file, in the folder's
place is left alone and said (never followed out of the outputs folder); inside the
folder a symlink is removed as a link, never what it points to (``shutil.rmtree``,
which also refuses a folder swapped for a link after the check).  The question asked
before a delete names the folder and what it holds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from qtui.core.paths import OUTPUTS_DIR_NAME, data_dir


@dataclass(frozen=True)
class SessionOutputs:
    """What is at ``<data folder>/outputs/<session id>``: ``folder`` when it is a real
    folder (``files`` and ``size``, in bytes, what it holds), else ``left`` says why a
    path there stays (empty when there is none)."""

    path: Path | None
    folder: bool = False
    files: int = 0
    size: int = 0
    left: str = ""

    def question(self) -> str:
        """The words added to the delete question: `` and its script output folder …``."""
        if self.folder:
            return (f" and its script output folder {self.path}/ "
                    f"({self.files} file{'s' if self.files != 1 else ''}, {self.size:,} bytes)")
        return f" ({self.left})" if self.left else ""


def find(session_id: str) -> SessionOutputs:
    """The session's output folder as it is now (nothing is changed)."""
    if not session_id or session_id in (".", "..") or any(
        sep and sep in session_id for sep in ("/", os.sep, os.altsep, "\0")
    ):
        return SessionOutputs(None)
    path = data_dir() / OUTPUTS_DIR_NAME / session_id
    try:
        mode = os.lstat(path).st_mode
    except OSError:  # none (a session without exec runs), or unreadable: nothing to remove
        return SessionOutputs(None)
    if stat.S_ISLNK(mode):
        return SessionOutputs(path, left=f"{path} is a symlink: it is left, and what it points to")
    if not stat.S_ISDIR(mode):
        return SessionOutputs(path, left=f"{path} is not a folder: it is left")
    files, size = _count(path)
    return SessionOutputs(path, folder=True, files=files, size=size)


def _count(folder: Path) -> tuple[int, int]:
    """Entries under ``folder`` other than folders (a symlink is one, never followed)
    and the bytes of its regular files; what cannot be read is not counted."""
    files = size = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    n, b = _count(Path(entry.path))
                    files, size = files + n, size + b
                else:
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size if entry.is_file(follow_symlinks=False) else 0
    return files, size


def remove(outputs: SessionOutputs) -> tuple[str, bool]:
    """Remove the folder ``find`` found: one line saying what went, or why a path there
    stayed ("" when there was none), and whether one stayed."""
    if not outputs.folder or outputs.path is None:
        return (f"Its script output: {outputs.left}." if outputs.left else ""), bool(outputs.left)
    try:
        shutil.rmtree(outputs.path)
    except OSError as exc:
        return f"Its script output folder {outputs.path}/ was not removed: {exc.strerror or exc}.", True
    return (f"Removed its script output folder {outputs.path}/ "
            f"({outputs.files} file{'s' if outputs.files != 1 else ''}, {outputs.size:,} bytes)."), False
