"""Where a view receives a summary, it is made typed once (``qtui.core.summary_schema``).

The renderers read ``Summary`` / ``Result`` attributes only.  A caller that still
holds the plain dict of a summary (a v1 file read with ``json``, the fold's
``document`` while it is converted, a test that edits a document) is converted
here, at the door, with the schema's own upgrade; nothing past this module sees
a dict.  The analysis helpers that still take dicts get ``builtins(record)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from qtui.core.summary_schema import Result, Summary


def as_summary(summary: Summary | dict[str, Any]) -> Summary:
    """The typed summary (a v1 or v2 dict is decoded with the schema's rules)."""
    if isinstance(summary, Summary):
        return summary
    return Summary.from_builtins(summary, "the summary")


def as_result(result: Result | dict[str, Any]) -> Result:
    """One typed ``results[]`` entry (a v1 dict's ``command`` becomes ``combo``)."""
    if isinstance(result, Result):
        return result
    doc = dict(result)
    if "command" in doc and "combo" not in doc:
        doc["combo"] = doc.pop("command")
    return msgspec.convert(doc, Result)


def as_results(results: Iterable[Result | dict[str, Any]]) -> list[Result]:
    return [as_result(r) for r in results if isinstance(r, (Result, dict))]


def builtins(record: msgspec.Struct | None) -> dict[str, Any]:
    """A record as plain dicts, for the analysis helpers that still read dicts."""
    if record is None:
        return {}
    out: dict[str, Any] = msgspec.to_builtins(record, enc_hook=str)
    if isinstance(record, Result):
        out["command"] = record.combo  # the v1 name those helpers read
    return out
