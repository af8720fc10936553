"""JSON: the summary itself (schema ``qtui.summary``, ``qtui.core.summary_schema``).

Written by the schema's own ``Summary.dumps`` (version 2), so ``qtui report``
and ``qtui compare`` read back exactly what was written.  Non-finite floats
(a NaN loss) become ``null``: ``NaN`` is not JSON, and tools such as ``jq`` or
JavaScript would refuse the whole file for one bad number.  Text from a run is
kept as data: JSON escapes U+0000–U+001F itself, and DEL and the C1 controls
are written ``\\u007f``–``\\u009f`` (``qtui.core.safe_text.json_text``), so the
file holds nothing a terminal acts on and reads back the same.
"""

from __future__ import annotations

import msgspec

from qtui.core.safe_text import json_text
from qtui.core.summary_schema import Summary
from qtui.report.export.base import Exporter


def dumps(summary: Summary, indent: int | None = 2) -> str:
    """The v2 document: indented for people, or on one line (``indent=None``) to embed."""
    if indent:
        return json_text(summary.dumps().decode("utf-8"))
    return json_text(msgspec.json.encode(summary.to_builtins()).decode("utf-8")) + "\n"


class JsonExporter(Exporter):
    name = "json"
    extension = "json"
    description = "the summary itself (schema qtui.summary); qtui report/compare read it back"

    def render(self, summary: Summary) -> str:
        return dumps(summary)
