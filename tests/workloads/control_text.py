"""Workloads whose warning, exception and stderr text carry terminal escapes (issue 21, item 2).

``ESC]0;pwned BEL`` retitles a terminal window and ``ESC[2J`` clears its
screen; a C1 CSI (U+009B) and a carriage return (which lets a line overwrite
itself) ride along.  None of them may reach a terminal or an export raw.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from qtui.engine.forum import build as forum_build
from qtui.engine.workload import Workload, WorkloadContext

#: Retitles the window, clears the screen, a C1 CSI, a carriage return, a second line.
HOSTILE = "\x1b]0;pwned\x07boom\x1b[2J \x9b31m fake\rOK\nsecond line"


def warns_and_raises(ctx: WorkloadContext) -> Workload:
    """Trains on default.qubit; on lightning the loss writes to stderr, warns and raises."""
    wl = forum_build(ctx)
    if not ctx.device.startswith("lightning"):
        return wl
    inner = wl.loss_fn

    def loss_fn(out: Any, target: Any) -> Any:
        sys.stderr.write(f"stderr {HOSTILE}\n")
        warnings.warn(f"warning {HOSTILE}", UserWarning, stacklevel=1)
        raise RuntimeError(f"error {HOSTILE}")
        return inner(out, target)  # pragma: no cover

    wl.loss_fn = loss_fn
    return wl


def check_fails(ctx: WorkloadContext) -> Workload:
    """The build raises, so the pre-run workload check refuses it with this text."""
    raise ValueError(f"check {HOSTILE}")
