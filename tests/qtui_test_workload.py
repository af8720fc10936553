"""A test workload: the forum model plus a warning, and a failure on demand.

Used by the ``real_events`` fixture (tests/conftest.py) through the child's
``--workload`` mechanism: it warns three times while building (so warnings are
real ``warning`` events) and raises for ``finite-diff`` (so a real
``run_failed`` exists) while every run keeps the same parameters.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any


def build(ctx: Any) -> Any:
    for _ in range(3):
        warnings.warn("qtui test warning: three of these per run", UserWarning, stacklevel=1)
    if ctx.diff_method == "finite-diff":
        raise RuntimeError("the test workload refuses finite-diff")
    from qtui.engine.forum import build as forum_build

    wl = forum_build(ctx)
    pause = float(os.environ.get("QTUI_TEST_BATCH_SLEEP", "0"))
    if pause > 0:  # long enough to be sampled, for a test that reads the samples
        from workloads.faulty import _wrap

        return _wrap(wl, lambda: time.sleep(pause))
    return wl
