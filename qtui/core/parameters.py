"""What a combination is and what it is called: its parameters and its one label.

A result is identified by ``parameters{}``: device, diff method and every
workload parameter.  Its label is ``device+diff_method``, plus the workload
parameters that differ between the results shown together (a sweep's axes),
e.g. ``default.qubit+backprop (qubits=4)``; a ``qtui exec`` run is named by its
script (``train.py --epochs 2 on default.qubit+backprop``).  Every view names combinations
with ``label``; nothing else builds one.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from typing import Any, Protocol

from qtui.core.config import SCRIPT_CHOICE
from qtui.core.summary_schema import Result

#: The workload parameters a workload may say it reads (``Workload.params_used``):
#: a run whose workload reads only some of them records only those.  The rest
#: (seed, workload, steps, warmup, threads) are qtui's own and always apply.
WORKLOAD_KNOBS = frozenset({"samples", "noise", "batch_size", "epochs", "lr", "qubits", "layers"})
#: How a ``qtui exec`` run's ``workload`` parameter starts: ``exec train.py --epochs 2``
#: (``qtui.session.exec_spec.exec_params``).
EXEC_PREFIX = "exec "
#: Characters of a script's command line kept in its label.
COMMAND_CHARS = 40


def combo_parameters(spec: dict[str, Any]) -> dict[str, Any]:
    """``parameters{}``: device, diff method and every workload parameter."""
    out: dict[str, Any] = {"device": spec.get("device"), "diff_method": spec.get("diff_method")}
    params = spec.get("params")
    if isinstance(params, dict):
        out.update(params)
    return out


def combo_key(parameters: dict[str, Any]) -> str:
    """A hashable identity for a combination's parameters."""
    return json.dumps(parameters, sort_keys=True, default=str)


def combo_name(parameters: dict[str, Any]) -> str:
    """``default.qubit+backprop``: a combination's ``combo``.  A ``qtui exec`` run's is
    its script and arguments, with the device and method it ran on where known
    (``train.py --epochs 2 on default.qubit+backprop``): ``script+script`` said nothing."""
    device, method = parameters.get("device"), parameters.get("diff_method")
    command = script_command(parameters)
    if command is None:
        return f"{device}+{method}"
    ran = "+".join(str(x) for x in (device, method) if x and x != SCRIPT_CHOICE)
    return command + (f" on {ran}" if ran else "")


def script_command(parameters: dict[str, Any]) -> str | None:
    """``train.py --epochs 2``: a ``qtui exec`` run's script (its file name) and
    arguments, cut to ``COMMAND_CHARS``; None for a run of a workload."""
    workload = parameters.get("workload")
    if not isinstance(workload, str) or not workload.startswith(EXEC_PREFIX):
        return None
    command = workload[len(EXEC_PREFIX):].strip()
    try:
        words = shlex.split(command)
    except ValueError:  # not as exec_params wrote it: shown as it is
        words = []
    if words:
        command = shlex.join([os.path.basename(words[0]), *words[1:]])
    return command if len(command) <= COMMAND_CHARS else command[: COMMAND_CHARS - 1] + "…"


class HasParameters(Protocol):
    """A ``results[]`` or ``runs[]`` record: both carry ``parameters{}``."""

    @property
    def parameters(self) -> dict[str, Any]: ...


def varying_parameters(results: Sequence[HasParameters], exclude: tuple[str, ...] = ()) -> list[str]:
    """Workload parameters whose value differs between results (a sweep's axes)."""
    keys: list[str] = []
    for r in results:
        for k in r.parameters:
            if k not in ("device", "diff_method", *exclude) and k not in keys:
                keys.append(k)
    return [k for k in keys if len({repr(r.parameters.get(k)) for r in results}) > 1]


def label(result: Result, varying: list[str]) -> str:
    """``default.qubit+backprop`` plus the swept parameters, e.g. ``(qubits=4)``."""
    params = result.parameters
    text = result.combo or combo_name(params)
    extra = [f"{k}={params.get(k)}" for k in varying]
    return text + (f" ({', '.join(extra)})" if extra else "")


def where(parameters: dict[str, Any]) -> str:
    """``qubits=4, layers=2``: a sweep point in words."""
    return ", ".join(f"{k}={v}" for k, v in parameters.items())


def run_label(parameters: dict[str, Any], repeat_index: Any, varying: list[str] | None = None) -> str:
    """One run: ``default.qubit+backprop #2``, plus the swept parameters."""
    try:
        n = int(repeat_index or 0) + 1
    except (TypeError, ValueError):
        n = 1
    text = f"{combo_name(parameters)} #{n}"
    extra = [f"{k}={parameters.get(k)}" for k in varying or []]
    return text + (f" ({', '.join(extra)})" if extra else "")
