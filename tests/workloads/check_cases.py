"""Workloads that the pre-run check (``qtui.engine.workload_check``) must see through."""

from __future__ import annotations

import os
import sys

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext


def fake_success(ctx: WorkloadContext) -> Workload:
    """Prints what the old check took for a success, then leaves with exit code 0."""
    sys.stdout.write('{"ok": true, "error": null}\n')
    sys.stdout.flush()
    os._exit(0)


def only_two_qubits(ctx: WorkloadContext) -> Workload:
    """Builds with the default parameters only: any other qubit count raises."""
    if ctx.params.qubits != 2:
        raise ValueError(f"this model is wired for 2 qubits, not {ctx.params.qubits}")
    return forum_build(ctx)


def no_adjoint(ctx: WorkloadContext) -> Workload:
    """Builds for every combination but the second one a run asks for."""
    if ctx.diff_method == "adjoint":
        raise RuntimeError("adjoint is not wired up in this model")
    return forum_build(ctx)


def builds_forever(ctx: WorkloadContext) -> Workload:
    """A build that never returns (a lock, a download that stalls): the check's limit ends it."""
    import time

    while True:
        time.sleep(0.05)
