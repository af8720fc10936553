"""Bad input, round two (issue 21): text: control characters, multi-line messages, --slurm-extra and SLURM fields.

Rows for ``test_bad_input.py``'s table: each ``Bad`` must give exit 2, one
stderr line naming its field, nothing on stdout, no child and no file changed.
"""

from __future__ import annotations

from bad_input_types import Bad, Valid

BAD: list[Bad] = []
VALID: list[Valid] = []
