"""JSON: the summary itself (schema ``qtui.summary``, ``qtui.core.summary_schema``).

Written by the schema's own ``Summary.dumps`` (version 2), so ``qtui report``
and ``qtui compare`` read back exactly what was written.  Non-finite floats
(a NaN loss) become ``null``: ``NaN`` is not JSON, and tools such as ``jq`` or
JavaScript would refuse the whole file for one bad number.
"""

from __future__ import annotations

import msgspec

from qtui.core.summary_schema import Summary
from qtui.report.export.base import Exporter


def dumps(summary: Summary, indent: int | None = 2) -> str:
    """The v2 document: indented for people, or on one line (``indent=None``) to embed."""
    if indent:
        return summary.dumps().decode("utf-8")
    return msgspec.json.encode(summary.to_builtins()).decode("utf-8") + "\n"


class JsonExporter(Exporter):
    name = "json"
    extension = "json"
    description = "the summary itself (schema qtui.summary); qtui report/compare read it back"

    def render(self, summary: Summary) -> str:
        return dumps(summary)
