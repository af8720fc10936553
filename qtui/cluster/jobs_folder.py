"""One cluster session's folder: its manifest, its jobs' event logs, submitit's files.

Layout, under ``--jobs-dir`` (``qtui.core.paths.default_jobs_dir``)::

    <jobs-dir>/<session_id>/
        manifest.json        what was submitted: runs, their specs and job ids
        events/<run_id>.jsonl   written by the job on its node, followed from here
        submitit/            submitit's pickles, sbatch scripts, stdout/stderr

The manifest is what ``qtui watch --jobs-dir`` re-attaches from (another login,
days later): it names every run with its spec and job, so the session can be
shown again exactly as if it had never been left.  It is rewritten atomically
(write a temporary file, then rename) after every submission.

The folder holds code to run (submitit's pickles are unpickled by the job and,
re-attached, by qtui) and the runs' data, so it is private: the jobs folder,
the session folder and its ``events/`` and ``submitit/`` are created 0700
(``make_private``), and a session folder (or its ``submitit/``) that group or
others can write is refused before a pickle in it is loaded (``check_private``,
called by ``read_manifest``): whoever can write there can run code as you.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtui import __version__

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


class JobsFolderError(Exception):
    """The folder is not a qtui jobs folder, or its manifest cannot be read; says why."""


@dataclass
class JobRecord:
    """One run's job: its spec and where SLURM (or submitit's local executor) put it."""

    run_id: str
    spec: dict[str, Any]
    job_id: str = ""  # submitit's id: "<array job>_<task>" on SLURM
    array_task_id: str = ""
    events: str = ""  # relative to the session folder
    submitted: float = 0.0  # unix time sbatch accepted it (submission-to-first-event latency)


@dataclass
class Manifest:
    session_id: str
    cluster: str
    options: dict[str, Any]
    argv: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    jobs: list[JobRecord] = field(default_factory=list)
    qtui_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_version": MANIFEST_VERSION,
            "qtui_version": self.qtui_version,
            "session_id": self.session_id,
            "cluster": self.cluster,
            "created": self.created,
            "argv": list(self.argv),
            "options": dict(self.options),
            "jobs": [vars(j) for j in self.jobs],
        }


def session_folder(jobs_dir: Path, session_id: str) -> Path:
    return jobs_dir / session_id


def events_path(folder: Path, run_id: str) -> Path:
    return folder / "events" / f"{run_id}.jsonl"


def _private_dir(path: Path) -> None:
    """Create ``path`` 0700 when missing (its missing parents too)."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile (another session): checked on use
            continue
        os.chmod(folder, 0o700)  # whatever the umask


def make_private(folder: Path) -> None:
    """The session folder and its ``events/`` and ``submitit/``, created 0700 (the
    jobs folder above too, when qtui creates it)."""
    for sub in (folder, folder / "events", folder / "submitit"):
        _private_dir(sub)


def check_private(folder: Path) -> None:
    """``JobsFolderError`` when the session folder or its ``submitit/`` can be written
    by group or others, or is another user's: their pickles could be anyone's code."""
    for sub in (folder, folder / "submitit"):
        try:
            st = os.stat(sub)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise JobsFolderError(f"cannot check {sub} ({exc.strerror or exc})") from None
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise JobsFolderError(
                f"{sub} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o}), "
                f"so qtui will not load the pickles in it; chmod go-w {sub} if you trust it"
            )
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            raise JobsFolderError(
                f"{sub} belongs to another user (uid {st.st_uid}), so qtui will not load "
                "the pickles in it"
            )


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Atomically (rename), so a reader never sees half a manifest."""
    make_private(folder)
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(manifest.to_dict(), f, indent=1)
        os.replace(tmp, folder / MANIFEST)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find_session(path: Path) -> Path:
    """The session folder for ``--jobs-dir PATH``: PATH itself when it holds a
    manifest, else its newest subfolder that does (the latest session)."""
    if not path.exists():
        raise JobsFolderError(f"{path} does not exist")
    if not path.is_dir():
        raise JobsFolderError(f"{path} is not a folder")
    if (path / MANIFEST).is_file():
        return path
    found = [p for p in path.iterdir() if (p / MANIFEST).is_file()]
    if not found:
        raise JobsFolderError(
            f"{path} holds no qtui jobs (no {MANIFEST} in it or in a subfolder)"
        )
    return max(found, key=lambda p: (p / MANIFEST).stat().st_mtime)


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a session folder; ``JobsFolderError`` (one line) if unreadable
    or the folder is not private (``check_private``)."""
    check_private(folder)
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JobsFolderError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JobsFolderError(f"cannot read {path}: {exc}") from None
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        version = int(data.get("manifest_version", 0))
        if version > MANIFEST_VERSION:
            raise ValueError(f"written by a newer qtui (manifest version {version})")
        jobs = []
        for item in data.get("jobs") or []:
            if not isinstance(item, dict) or not isinstance(item.get("spec"), dict):
                raise TypeError("a job entry is not an object with a spec")
            jobs.append(
                JobRecord(
                    run_id=str(item["run_id"]), spec=dict(item["spec"]),
                    job_id=str(item.get("job_id") or ""),
                    array_task_id=str(item.get("array_task_id") or ""),
                    events=str(item.get("events") or ""),
                    submitted=float(item.get("submitted") or 0.0),
                )
            )
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise TypeError("options is not an object")
        return Manifest(
            session_id=str(data["session_id"]),
            cluster=str(data.get("cluster") or "slurm"),
            options=options,
            argv=[str(a) for a in data.get("argv") or []],
            created=float(data.get("created") or 0.0),
            jobs=jobs,
            qtui_version=str(data.get("qtui_version") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise JobsFolderError(f"{path} is not a qtui jobs manifest: {exc}") from None
