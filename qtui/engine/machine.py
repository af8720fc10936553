"""What machine a session ran on, for the summary's ``machine_info``.

Shaped like pytest-benchmark's ``machine_info`` (``node``, ``processor``,
``system``, ``python_version``, ``cpu{...}``) plus plainer keys for qtui's own
views.  Package versions come from installed metadata, never from imports:
the UI/CLI process must not pay for (or load) torch and pennylane.
"""

from __future__ import annotations

import copy
import os
import platform
import socket
import sys
from functools import lru_cache
from importlib import metadata
from typing import Any

import psutil

#: Packages whose versions decide a benchmark's numbers.
VERSIONED_PACKAGES: tuple[str, ...] = (
    "qtui",
    "torch",
    "pennylane",
    "pennylane-lightning",
    "pennylane-lightning-kokkos",
    "pennylane-lightning-gpu",
    "numpy",
    "scipy",
    "scikit-learn",
    "autoray",
    "textual",
    "rich",
    "psutil",
)


def package_versions(names: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    """Installed versions by distribution name (missing ones left out)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


_CPU_KEYS = ("model name", "Hardware", "Processor", "cpu model")


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, or what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in _CPU_KEYS and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _affinity() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def machine_info() -> dict[str, Any]:
    """A JSON-ready description of this machine (a fresh copy each call)."""
    return copy.deepcopy(_machine_info())


@lru_cache(maxsize=1)
def _machine_info() -> dict[str, Any]:
    uname = platform.uname()
    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 0
    physical = psutil.cpu_count(logical=False)
    model = cpu_model()
    mem_total = int(psutil.virtual_memory().total)
    return {
        # qtui's own keys
        "hostname": socket.gethostname(),
        "cpu_model": model,
        "logical_cores": logical,
        "physical_cores": physical,
        "usable_cores": _affinity(),
        "memory_total": mem_total,
        "os": f"{uname.system} {uname.release}",
        "kernel": uname.release,
        "platform": platform.platform(),
        "python_executable": sys.executable,
        # pytest-benchmark's keys
        "node": uname.node,
        "processor": uname.processor or uname.machine,
        "machine": uname.machine,
        "python_compiler": platform.python_compiler(),
        "python_implementation": platform.python_implementation(),
        "python_version": platform.python_version(),
        "release": uname.release,
        "system": uname.system,
        "cpu": {
            "brand_raw": model,
            "arch": uname.machine,
            "count": logical,
            "physical_count": physical,
        },
        "versions": package_versions(),
    }
