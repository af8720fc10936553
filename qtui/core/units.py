"""How every number reads, in every view: one formatter per kind of figure.

The CLI tables, the TUI, every export, history, ``watch``, ``compare`` and the
recommendation all format through these functions, so one figure is one
string everywhere (``tests/test_one_truth.py`` checks it).

Conventions, chosen once:

* **Memory is binary: MiB, and GiB from 10 GiB up**, one decimal
  (``457.8 MiB``, ``12.3 GiB``).  It is what ``ru_maxrss`` and ``/proc`` count
  in (KiB pages), what ``top``/``htop`` show, and what PyTorch's allocator
  reports.
* **Times** carry their unit and four significant figures: ``850.0 µs``,
  ``52.30 ms``, ``2.512 s``, ``1234 s``.
* **Missing** is ``—`` (an em dash), never ``-``, ``0`` or ``nan``.
* **Ratios** two decimals and ``×`` (``2.31×``); **cores** two decimals;
  **accuracy** a percentage with one decimal; **losses** four decimals.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def number(value: Any) -> float | None:
    """A finite float, or None for missing, NaN, infinite, boolean or non-numeric values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def sig4(x: float) -> str:
    """Four significant figures without scientific notation for everyday sizes."""
    ax = abs(x)
    if ax >= 1000:
        return f"{x:.0f}"
    if ax >= 100:
        return f"{x:.1f}"
    if ax >= 10:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _time_unit(v: float) -> tuple[float, str]:
    av = abs(v)
    if av < 1e-3:
        return 1e6, "µs"
    if av < 1.0:
        return 1e3, "ms"
    return 1.0, "s"


def seconds(value: Any, like: Any = None) -> str:
    """``0.00085`` -> ``850.0 µs``; ``0.0523`` -> ``52.30 ms``; ``2.5`` -> ``2.500 s``.

    ``like``: take the unit that value would get (a σ reads in its mean's unit).
    """
    v = number(value)
    if v is None:
        return MISSING
    ref = number(like)
    if v == 0 and not ref:
        return "0 s"
    scale, unit = _time_unit(ref if ref else v)
    return f"{sig4(v * scale)} {unit}"


def wait(value: Any) -> str:
    """A wall-clock wait in whole units: ``45 s``, ``2 min 05 s``, ``1 h 02 min``."""
    v = number(value)
    if v is None:
        return MISSING
    s = max(0, int(v))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def mean_sd(mean: Any, sd: Any, fmt: Any = None) -> str:
    """``2.512 s ± 0.120 s``; the σ part is left out when there is no σ.

    Times put σ in the mean's unit; ``fmt`` formats other kinds of figure.
    """
    m = fmt(mean) if fmt else seconds(mean)
    if m == MISSING or number(sd) is None:
        return m
    return f"{m} ± {fmt(sd) if fmt else seconds(sd, like=mean)}"


def memory(value: Any) -> str:
    """Bytes in MiB (GiB from 10 GiB); missing or zero -> ``—``."""
    v = number(value)
    if not v:
        return MISSING
    if abs(v) >= 10 * GiB:
        return f"{v / GiB:.1f} GiB"
    return f"{v / MiB:.1f} MiB"


def cores(value: Any) -> str:
    """Cores in use (CPU seconds per wall second)."""
    v = number(value)
    return MISSING if v is None else f"{v:.2f}"


def core_seconds(value: Any) -> str:
    """Core-seconds (CPU time): four significant figures, no unit (the column says it)."""
    v = number(value)
    return MISSING if v is None else sig4(v)


def metric(value: Any) -> str:
    """A workload's named metric (MSE, R², F1...): four significant figures."""
    v = number(value)
    return MISSING if v is None else sig4(v)


def percent(value: Any) -> str:
    """A fraction (0.88) as ``88.0 %``."""
    v = number(value)
    return MISSING if v is None else f"{100 * v:.1f} %"


def change(value: Any) -> str:
    """A relative change (0.123) as ``+12.3 %``."""
    v = number(value)
    return MISSING if v is None else f"{100 * v:+.1f} %"


def loss(value: Any) -> str:
    v = number(value)
    return MISSING if v is None else f"{v:.4f}"


def ratio(value: Any) -> str:
    """A ratio without its sign, e.g. hyperfine's relative speed: ``2.31``."""
    v = number(value)
    return MISSING if v is None else f"{v:.2f}"


def times(value: Any) -> str:
    """A ratio in words: ``2.31×``."""
    r = ratio(value)
    return r if r == MISSING else f"{r}×"


def count(value: Any) -> str:
    v = number(value)
    return MISSING if v is None else str(int(v))


def per_step(value: Any) -> str:
    """Executions or circuits per training step: ``1``, ``2.5``, ``45``, ``1,240``."""
    v = number(value)
    if v is None:
        return MISSING
    return f"{v:,.0f}" if v >= 100 or v == int(v) else f"{v:.1f}"


def device_use(name: Any, wires: Any = None, shots: Any = None) -> str:
    """A device that executed circuits: ``default.qubit (2 wires)``,
    ``lightning.qubit (4 wires, 1000 shots)``."""
    parts = []
    w = number(wires)
    if w is not None:
        parts.append(f"{int(w)} wire" + ("" if int(w) == 1 else "s"))
    n = number(shots)
    if n is not None:
        parts.append(f"{int(n)} shots")
    return f"{name}" + (f" ({', '.join(parts)})" if parts else "")


def axis_seconds(v: float) -> str:
    """Axis ticks of at most 6 characters (512µs, 5.12ms, 51.2ms, 512ms, 5.12s): the
    graph's gutter has no room for ``seconds``' four figures and space."""
    if not math.isfinite(v):
        return MISSING
    a = abs(v)
    if a < 1e-3:
        return f"{v * 1e6:.0f}µs"
    if a < 1e-2:
        return f"{v * 1e3:.2f}ms"
    if a < 1e-1:
        return f"{v * 1e3:.1f}ms"
    if a < 1:
        return f"{v * 1e3:.0f}ms"
    if a < 10:
        return f"{v:.2f}s"
    return f"{v:.1f}s" if a < 100 else f"{v:.0f}s"


def axis_memory(v: float) -> str:
    """Axis ticks of at most 6 characters, in the memory convention (MiB; GiB from 10 GiB)."""
    return f"{v / MiB:.0f}M" if v < 10 * GiB else f"{v / GiB:.1f}G"


def source_location(filename: Any, lineno: Any) -> str:
    """Where a warning was raised, as a path a user can find: from the installed
    package down (``pennylane/qnn/torch.py:437``), not a build machine's absolute
    path or a bare file name.  Paths outside any ``site-packages`` keep their last
    three parts."""
    path = str(filename or "").replace("\\", "/")
    if not path:
        return MISSING
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    else:
        parts = [p for p in path.split("/") if p]
        path = "/".join(parts[-3:]) if len(parts) > 3 else path
    line = number(lineno)
    return f"{path}:{int(line)}" if line is not None else path


def axis_value(v: float) -> str:
    """Axis ticks of any other figure (losses, percentages): 0.512, 12.3, 1.2k, 3.4M."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"
