"""Advice in the app names the form's fields, not the command line's flags.

The analysis words its advice for every view alike, in the CLI's terms: "rerun
with --repeat 3 or more (or --repeat auto)", "rerun with --threads 1".  In the
app there is no command line: the same sentence reads "rerun with repeats 3 or
more (or repeats auto)", the form's own field names (issue 23, item 8).  The
sentence is the analysis's; only the flag's name changes, here, in one place.
"""

from __future__ import annotations

import re

#: A flag the advice names -> the form field it is (its label in the form).
_FIELDS = (
    (re.compile(r"--repeat(?=[\s=])"), "repeats"),
    (re.compile(r"--threads(?=[\s=])"), "threads"),
)


def in_form_words(text: str) -> str:
    """``text`` with the CLI flags the form has a field for named as that field."""
    for flag, field in _FIELDS:
        text = flag.sub(field, text)
    return text
