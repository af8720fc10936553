"""JSON: the summary dict itself (schema ``qtui.summary``), pretty-printed.

Non-finite floats (a NaN loss) become ``null``: ``NaN`` is not JSON, and tools
such as ``jq`` or JavaScript would refuse the whole file for one bad number.
"""

from __future__ import annotations

import json
import math
from typing import Any

from qtui.report.export.base import Exporter


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def dumps(summary: dict[str, Any], indent: int | None = 2) -> str:
    return json.dumps(_finite(summary), indent=indent, allow_nan=False, default=str) + "\n"


class JsonExporter(Exporter):
    name = "json"
    extension = "json"
    description = "the summary itself (schema qtui.summary); qtui report/compare read it back"

    def render(self, summary: dict[str, Any]) -> str:
        return dumps(summary)
