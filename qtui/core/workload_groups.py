"""Workload groups: which results may be compared, and what they are called.

Comparing a 40-epoch script with a 10-step forum run says nothing, nor does
naming a script's run by the forum's parameters (issue 23, item 4).  Two rules,
both here, read by the fold, the results model, the recommendation, every
report view, the CSV and the TUI:

* **Group** (what Relative, ★ and the recommendation compare): the runs of the
  same workload with the same workload parameters, everything but the device
  and the diff method.  A ``qtui exec`` run's group is its script and
  arguments.  A sweep has one group per point.
* **Labels** are made within a *family*: every run of a ``qtui exec`` script
  (its command line) is one, and every run of a workload (built-in or custom)
  together is another.  A label adds the parameters that differ within its
  family only (a sweep's ``(qubits=4)``), so an exec run beside built-in runs
  neither gains their parameters (its zeros) nor lengthens theirs.

A group's name is its header where a view shows more than one group:
``script train.py --epochs 2``, ``forum workload`` (a workload's runs where
nothing differs within its family), or the values that set it apart within
its family (``qubits=4``, a sweep point; ``forum workload, qubits=4`` beside a
script).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from qtui.core.config import DEFAULT_WORKLOAD
from qtui.core.parameters import (
    HasParameters,
    combo_key,
    label,
    run_label,
    script_command,
    varying_parameters,
    where,
)
from qtui.core.summary_schema import Result

#: The parameters that are not the workload's: a group spans them.
COMBINATION_KEYS = ("device", "diff_method")

T = TypeVar("T", bound=HasParameters)


def group_key(parameters: dict[str, Any]) -> str:
    """The identity of a group: every parameter but the device and the diff method."""
    return combo_key({k: v for k, v in parameters.items() if k not in COMBINATION_KEYS})


def family(parameters: dict[str, Any]) -> str:
    """Whose labels are made together: a script's command line, or ``""`` for every
    workload run."""
    if script_command(parameters) is None:
        return ""
    return str(parameters.get("workload"))


def workload_runs(items: Iterable[T]) -> list[T]:
    """The records of workload runs, without any ``qtui exec`` script's: what a sweep's
    axes and the thread choice read (a script's zeros are no point on a qubit axis)."""
    return [item for item in items if not family(item.parameters)]


def workload_name(workload: Any) -> str:
    """``forum workload``, ``workload my_model:build``: a workload in words."""
    if workload in (None, ""):
        return ""
    return "forum workload" if workload == DEFAULT_WORKLOAD else f"workload {workload}"


@dataclass(frozen=True)
class Group:
    """One group: its key, its name (a view's header) and what sets it apart within
    its family (``{"qubits": 4}``; ``{}`` when nothing does)."""

    key: str
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    script: bool = False


@dataclass(frozen=True)
class _Params:
    parameters: dict[str, Any]


class WorkloadGroups:
    """The groups and label families of a set of results (or runs): one per session view.

    Built from every record shown together; ``name``, ``label`` and ``run_label``
    then answer for any record of that set."""

    def __init__(self, items: Iterable[HasParameters]) -> None:
        families: dict[str, list[_Params]] = {}
        order: dict[str, dict[str, Any]] = {}
        for item in items:
            params = dict(item.parameters)
            families.setdefault(family(params), []).append(_Params(params))
            order.setdefault(group_key(params), params)
        self._varying = {f: varying_parameters(members) for f, members in families.items()}
        mixed = len(families) > 1
        self._groups = {key: self._group(key, params, mixed) for key, params in order.items()}

    def _group(self, key: str, params: dict[str, Any], mixed: bool) -> Group:
        varying = self.varying(params)
        apart = {k: params.get(k) for k in varying}
        command = script_command(params)
        if command is not None:
            name = f"script {command}" + (f" ({where(apart)})" if apart else "")
            return Group(key, name, apart, script=True)
        workload = "" if "workload" in apart else workload_name(params.get("workload"))
        words = [workload if mixed or not apart else "", where(apart)]
        return Group(key, ", ".join(w for w in words if w), apart)

    @property
    def groups(self) -> list[Group]:
        """Every group, first seen first."""
        return list(self._groups.values())

    def varying(self, parameters: dict[str, Any]) -> list[str]:
        """The parameters a label adds: those that differ within the record's family."""
        return list(self._varying.get(family(parameters), []))

    def group(self, parameters: dict[str, Any]) -> Group:
        """The record's group (one made on the spot for a record not in the set)."""
        key = group_key(parameters)
        found = self._groups.get(key)
        return found if found is not None else self._group(key, parameters, len(self._varying) > 1)

    def name(self, parameters: dict[str, Any]) -> str:
        return self.group(parameters).name

    def label(self, result: Result) -> str:
        """``default.qubit+backprop (qubits=4)``; a script's ``train.py on ...``."""
        return label(result, self.varying(result.parameters))

    def run_label(self, parameters: dict[str, Any], repeat_index: Any) -> str:
        """``default.qubit+backprop #2``, with its family's varying parameters."""
        return run_label(parameters, repeat_index, self.varying(parameters))

    def split(self, items: Sequence[T]) -> list[tuple[Group, list[T]]]:
        """``items`` by group, groups in first-seen order, items in theirs."""
        out: dict[str, tuple[Group, list[T]]] = {}
        for item in items:
            g = self.group(item.parameters)
            out.setdefault(g.key, (g, []))[1].append(item)
        return list(out.values())
