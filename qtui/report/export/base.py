"""The exporter interface.

One small exporter per format (hyperfine's shape): a name, a file extension and
``render(summary) -> str | bytes``.  Exporters render from the summary
document (``qtui.analysis.summary_builder.document`` or a loaded JSON file), never from
live objects, so ``qtui report`` re-renders a saved file exactly as the live
session would.  The figures they show come from ``qtui.report.results`` (the results
model) and ``qtui.core.units``, like every other view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class ExportError(Exception):
    """An export or a load failed; the message is one line that says why."""


class Exporter(ABC):
    """One output format."""

    #: Format name used on the command line (``--format``).
    name: str = ""
    #: File extension, without the dot.
    extension: str = ""
    #: Short description for ``--help``.
    description: str = ""

    @abstractmethod
    def render(self, summary: dict[str, Any]) -> str | bytes:
        """The whole file's contents for this summary."""
