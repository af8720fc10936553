"""The one import-boundary helper: what a fresh interpreter has loaded after some imports.

Used by tests/test_import_boundaries.py (the UI never loads torch or PennyLane,
the engine never loads Textual) and tests/test_forkserver.py (the UI side of
the fork server loads neither).  A fresh interpreter, because this test
process has imported everything already.  The static layer order is
tests/test_import_graph.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable


def modules_after(imports: Iterable[str]) -> set[str]:
    """``sys.modules`` of a fresh interpreter after importing ``imports``, in order."""
    code = (
        "import importlib, sys\n"
        f"for m in {list(imports)!r}: importlib.import_module(m)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(out.stdout.split())


def loaded(mods: set[str], packages: Iterable[str]) -> set[str]:
    """The modules of ``mods`` that belong to one of the top-level ``packages``."""
    tops = set(packages)
    return {m for m in mods if m.split(".")[0] in tops}
