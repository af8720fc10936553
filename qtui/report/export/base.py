"""The exporter interface.

One small exporter per format (hyperfine's shape): a name, a file extension and
``render(summary) -> str | bytes``.  Exporters render from the typed summary
(``qtui.core.summary_schema.Summary``: ``qtui.analysis.summary_builder.document``
or a loaded file), never from live objects, so ``qtui report`` re-renders a
saved file exactly as the live session would.  The narrative formats (Markdown,
HTML, and the console report beside them) render ``qtui.report.narrative``;
the data formats (JSON, CSV) write the records.  The figures they show come
from ``qtui.report.results`` (the results model) and ``qtui.core.units``, like
every other view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from qtui.core.summary_schema import Summary


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
    #: Files written beside the main one, by what each adds to its stem
    #: (``("-samples",)``: ``out.csv`` and ``out-samples.csv``), in the same format.
    beside: tuple[str, ...] = ()

    @abstractmethod
    def render(self, summary: Summary) -> str | bytes:
        """The whole file's contents for this summary."""

    def render_beside(self, summary: Summary, suffix: str) -> str | bytes:
        """The contents of the file ``suffix`` names (one of ``beside``)."""
        raise KeyError(suffix)
