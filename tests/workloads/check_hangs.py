"""A build that hangs and says where it is, for the workload check's limit and signals."""

from __future__ import annotations

import os
import time

from qtui.engine.workload import Workload, WorkloadContext


def hangs_and_marks(ctx: WorkloadContext) -> Workload:
    """Writes its pid to ``$QTUI_TEST_MARK`` (so a test knows the check is building), then
    never returns."""
    mark = os.environ.get("QTUI_TEST_MARK")
    if mark:
        with open(mark + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(mark + ".tmp", mark)
    while True:
        time.sleep(0.05)
