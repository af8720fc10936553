"""Messages the UI's components post to each other (harlequin's pattern: one module).

Components never call the app directly; they post one of these and the app,
which owns the supervisor, the feed and the state, decides what happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from qtui.core.config import RunSpec


class CapabilitiesReady(Message):
    """The probe answered (from the cache or a fresh child)."""

    def __init__(self, capabilities: Any) -> None:
        super().__init__()
        self.capabilities = capabilities


class CapabilitiesFailed(Message):
    """The probe could not run; the form shows why and offers a retry."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class StartRequested(Message):
    """The form is valid and the user asked to start these runs."""

    def __init__(
        self, specs: list[RunSpec], interval: float, refused: list[dict[str, str]],
        auto_repeat: bool = False, slurm: Any = None,
    ) -> None:
        super().__init__()
        self.specs = specs
        self.slurm = slurm  # SlurmOptions: run them as one job array; None: locally
        self.auto_repeat = auto_repeat  # repeats field "auto": qtui.session.adaptive plans more passes
        self.interval = interval
        self.refused = refused


class FormValidity(Message):
    """Posted by the form whenever its validity or run count changes."""

    def __init__(self, valid: bool, runs: int, problem: str) -> None:
        super().__init__()
        self.valid = valid
        self.runs = runs
        self.problem = problem


class ComboFocused(Message):
    """A combination cell got focus: show its state (and PennyLane's reason if refused)."""

    def __init__(self, device: str, method: str, reason: str | None, note: str) -> None:
        super().__init__()
        self.device = device
        self.method = method
        self.reason = reason
        self.note = note


class SessionLaunched(Message):
    """The controller started a supervisor session sampling every ``interval`` s."""

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval


class Notice(Message):
    """Something to tell the user from a worker thread (``App.notify`` is not thread-safe)."""

    def __init__(self, text: str, severity: str = "information") -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class SessionDone(Message):
    """The supervisor's ``run()`` returned (or raised: ``error`` says why)."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


class WatchDone(Message):
    """The log follower stopped (file gone, or the app is closing)."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error
