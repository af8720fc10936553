"""What a node type is: the machine a timing was measured on, as far as timing goes.

Two runs were measured on the same *node type* when their machines have the
same CPU model and the same number of logical cores (``machine_info``'s
``cpu_model`` and ``logical_cores``).  Those are the two things that change a
training step's time: the core (its speed, its vector units, its caches) and
how many threads the thread pools start.  Memory does not: at the sizes qtui
measures (a state vector of 2^20 amplitudes is 16 MiB) no node runs short of
it.  Host names do not either: two nodes of one type are interchangeable.

A cluster run's machine is its node's (``node_machine`` in ``runs[]``); a run
without one (a local run) was measured on the session's own machine
(``machine_info``).  A node type is named by its label, ``AMD EPYC 7763 ×128``:
the CPU model without trademarks, "Processor", "CPU" or "64-Core" (the count
says it), then × the logical cores; equal labels are one type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from qtui.core.summary_schema import NodeType, Run

#: The label of a cluster run whose node's machine was never reported.
UNKNOWN = "unknown node"

_NOISE = re.compile(
    r"\((?:R|TM|tm)\)|®|™|\bProcessor\b|\bCPU\b(?=\s*@|\s*$)|\b\d+-Core\b", re.IGNORECASE
)


def label(machine: Any) -> str:
    """``AMD EPYC 7763 ×128`` for a ``machine_info`` dict; ``""`` when it says nothing."""
    if not isinstance(machine, dict):
        return ""
    model = " ".join(_NOISE.sub(" ", str(machine.get("cpu_model") or "")).split())
    cores = machine.get("logical_cores")
    count = f"×{cores}" if isinstance(cores, int) and not isinstance(cores, bool) else ""
    return " ".join(part for part in (model or ("unknown CPU" if count else ""), count) if part)


def is_cluster_run(run: Run) -> bool:
    """Did this run run on a cluster?"""
    return bool(run.executor)


def of_run(run: Run, session_machine: Any) -> str:
    """The node type a run was measured on: its node's, or the session machine's.

    ``""`` for a cluster run never placed on a node (cancelled while pending);
    ``UNKNOWN`` for one on a node whose machine was never reported.
    """
    if is_cluster_run(run):
        if not run.node_machine and not run.node:
            return ""
        return label(run.node_machine) or UNKNOWN
    return label(session_machine)


class HasNodeTypes(Protocol):
    """A result, a sweep point or a verdict: each lists the node types it was measured on."""

    @property
    def node_types(self) -> list[str]: ...


def of_entry(entry: HasNodeTypes) -> list[str]:
    """The node types a result (or a sweep point, a verdict) was measured on."""
    return [str(t) for t in entry.node_types if t]


def spanned(entries: Sequence[HasNodeTypes]) -> list[str]:
    """Every node type the entries were measured on, in first-seen order."""
    out: list[str] = []
    for e in entries:
        for t in of_entry(e):
            if t not in out:
                out.append(t)
    return out


def text(types: list[str]) -> str:
    """How a view names a result's node types (the Node column, the CSV's ``node_type``):
    ``A + B`` for a combination whose repeats ran on two types."""
    return " + ".join(types)


def nodes_block(runs: list[Run], session_machine: Any) -> list[NodeType]:
    """The summary's top-level ``nodes``: per node type, its label, machine, nodes and runs.

    Empty unless some run ran on a cluster.
    """
    if not any(is_cluster_run(r) for r in runs):
        return []
    block: dict[str, NodeType] = {}
    for r in runs:
        name = of_run(r, session_machine)
        if not name:
            continue  # never placed on a node (cancelled while pending)
        machine = r.node_machine if is_cluster_run(r) else session_machine
        machine = machine if isinstance(machine, dict) else {}
        cores = machine.get("logical_cores")
        entry = block.setdefault(name, NodeType(
            label=name,
            cpu_model=machine.get("cpu_model"),
            logical_cores=cores if isinstance(cores, int) and not isinstance(cores, bool) else None,
        ))
        node = str((r.node if is_cluster_run(r) else "") or machine.get("hostname") or "")
        if node and node not in entry.nodes:
            entry.nodes.append(node)
        entry.run_ids.append(r.run_id)
    return list(block.values())
