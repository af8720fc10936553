"""Reading a cluster session to follow again (``qtui watch --jobs-dir``, history's ``a``).

Kept out of ``qtui.ui.app``, which only wires: this reads the jobs folder's
manifest and says, in one line for a notification, why its runs cannot be
shown here when they cannot.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def follow(app: Any, folder: Path) -> bool:
    """Follow the cluster session in ``folder`` again in ``app`` (the ``QtuiApp``: not
    imported here, which the app imports): its runs, ids kept,
    through a ``SlurmExecutor`` attached to its manifest, as the same session (the
    history completes its row); the setup form shows where they went.  False, with
    a notification saying why, when it cannot."""
    from qtui.cluster.slurm_executor import SlurmExecutor

    try:
        manifest, specs = read_cluster_session(folder, app.state.summary.runs)
    except CannotReattach as exc:
        app.notify(str(exc), severity="error", timeout=exc.timeout)
        return False
    executor = SlurmExecutor(attach=folder, argv=manifest.argv)
    started = app.control.start(
        specs, argv=manifest.argv, renumber=False, executor=executor, session_id=manifest.session_id
    )
    app.notify(
        f"re-attached to {manifest.session_id}: {len(specs)} job(s)"
        + (" (after the current runs)" if started.queued else "")
    )
    _show_options(app, manifest)
    app.set_focus(None)
    app.action_tab("monitor")
    return True


def form_values(manifest: Manifest) -> dict[str, str]:
    """The setup form's executor fields for a manifest's options: a re-attached
    session's Setup tab said ``local`` (issue 22, item 8).  Setup lines and bare
    flags have no field; they stay in the manifest."""
    from qtui.cluster.slurm_options import SlurmOptions

    opts = SlurmOptions.from_dict({**manifest.options, "cluster": manifest.cluster})
    extra = [f"account={opts.account}"] if opts.account else []
    extra += [f"qos={opts.qos}"] if opts.qos else []
    extra += [f"{k}={v}" for k, v in opts.extra.items()]
    return {
        "executor": "slurm", "partition": opts.partition or "",
        "time_limit": str(opts.time_limit_min), "exclusive": "yes" if opts.exclusive else "no",
        "slurm_extra": " ".join(extra),
    }


def _show_options(app: Any, manifest: Manifest, tries: int = 100) -> None:
    """Put the manifest's executor options in the setup form, now or once it exists: a
    re-attach that comes before the setup tab has mounted its form (``qtui watch
    --jobs-dir`` replays at once) tries again after the next refresh."""
    from textual.css.query import NoMatches

    from qtui.ui.widgets.run_form import RunForm

    try:
        form = app.screen_stack[0].query_one(RunForm)
    except (NoMatches, IndexError):
        if tries > 0 and app.is_running:
            app.call_after_refresh(_show_options, app, manifest, tries - 1)
        return
    values = form_values(manifest)
    if form.fields_ready:
        for key, value in values.items():
            form.set_value(key, value)
    else:
        form.preset = values  # set when the fields mount
