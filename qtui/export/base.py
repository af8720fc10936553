"""The exporter interface.

One small exporter per format (hyperfine's shape): a name, a file extension and
``render(summary) -> str | bytes``.  Exporters render from the summary
document (``qtui.summary_doc.document`` or a loaded JSON file), never from
live objects, so ``qtui report`` re-renders a saved file exactly as the live
session would.  The figures they show come from ``qtui.results`` (the results
model) and ``qtui.units``, like every other view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

# Transitional re-exports for modules not yet moved onto qtui.results/qtui.units.
from qtui.environment import common_parameters, environment_lines  # noqa: F401
from qtui.outcomes import describe_error, failed_runs, run_warning_total  # noqa: F401
from qtui.parameters import command as _command
from qtui.parameters import label as result_label  # noqa: F401
from qtui.parameters import varying_parameters  # noqa: F401
from qtui.phase_table import PHASES, PHASES_NOTE, phases_table  # noqa: F401
from qtui.units import GiB, MiB  # noqa: F401
from qtui.units import cores as fmt_cores  # noqa: F401
from qtui.units import loss as fmt_float_4
from qtui.units import memory as fmt_bytes  # noqa: F401
from qtui.units import percent as fmt_percent  # noqa: F401


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


def fmt_seconds(value: Any, unit: str | None = None) -> str:
    """Transitional: ``qtui.units.seconds`` (the unit argument is ignored)."""
    from qtui.units import seconds

    return seconds(value)


def fmt_float(value: Any, digits: int = 4) -> str:
    return fmt_float_4(value)


def combo_label(parameters: dict[str, Any]) -> str:
    return _command(parameters)
