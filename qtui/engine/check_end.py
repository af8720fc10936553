"""How a workload check's child ended: its exit code and the end of its stderr.

Shared by the spawned check (``qtui.cli.workload_gate``) and the forked one
(``qtui.engine.forked_check``); the verdict itself is the result file
(``qtui.engine.workload_check.read_result``), never this.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckEnd:
    """``returncode`` None: it ran past its time limit and was killed."""

    returncode: int | None
    stderr: str

    @property
    def last_stderr_line(self) -> str | None:
        """The last non-empty line it wrote on stderr, if any (an error's one-line reason)."""
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else None
