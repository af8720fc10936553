"""Reading a cluster session to follow again (``qtui watch --jobs-dir``, history's ``a``).

Kept out of ``qtui.ui.app``, which only wires: this reads the jobs folder's
manifest and says, in one line for a notification, why its runs cannot be
shown here when they cannot.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qtui.cluster.jobs_folder import Manifest
    from qtui.core.config import RunSpec


class CannotReattach(Exception):
    """Why a cluster session cannot be followed here; ``timeout``: how long the
    notification stays (None: Textual's default)."""

    def __init__(self, message: str, timeout: float | None = None) -> None:
        super().__init__(message)
        self.timeout = timeout


def read_cluster_session(folder: Path, known_run_ids: Container[str]) -> tuple[Manifest, list[RunSpec]]:
    """The manifest of ``folder`` and its runs' specs, ids kept; ``CannotReattach``
    when it cannot be read, holds no runs, or holds runs this session already shows."""
    from qtui.cluster.jobs_folder import JobsFolderError, read_manifest
    from qtui.core.config import RunSpec

    try:
        manifest = read_manifest(folder)
        specs = [RunSpec.from_dict(job.spec) for job in manifest.jobs]
    except JobsFolderError as exc:
        raise CannotReattach(f"cannot re-attach: {exc}", timeout=8) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise CannotReattach(
            f"cannot re-attach: {folder} holds a run spec qtui cannot read ({exc})", timeout=8
        ) from exc
    if not specs:
        raise CannotReattach(f"cannot re-attach: {folder} holds no submitted runs")
    clash = [s.run_id for s in specs if s.run_id in known_run_ids]
    if clash:
        # the ids are the jobs' own; two runs with one id cannot be shown apart
        raise CannotReattach(
            f"cannot re-attach here: this session already has runs {', '.join(clash[:4])}; "
            f"in a new terminal: qtui watch --jobs-dir {folder}",
            timeout=10,
        )
    return manifest, specs
