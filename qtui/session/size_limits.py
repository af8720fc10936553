"""Sweeps that stop before they hurt (issue 25, item 3): ``--max-memory``, ``--max-step-time``.

A sweep over qubits runs each combination's sizes in increasing order.  The
first three sizes run as planned (a model needs three); before each larger
size runs, the combination's cost model (``qtui.analysis.cost_model``, fitted
on its finished points) predicts that size's peak memory and time per step.
A size predicted above a limit is not run: it and every larger size of that
combination are recorded as *skipped* with the prediction and the limit
("skipped: predicted 41.2 GiB > 19.0 GiB allowed"), and the sweep goes on
with the other combinations.  The *predicted value* decides, not the top of
its interval: a limit is a line the user drew, and the interval is shown
beside it.

The memory limit is on by default: 80 % of the memory a run may use here,
the cgroup's ``memory.max`` when there is one, else the machine's total
(``available_memory``).  ``--max-memory 0`` turns it off.  On a cluster the
node's memory is not this machine's; the check is for local sweeps only.

The planner is the supervisor's (``Supervisor(planner=...)``): it sees every
event and is asked for ``more()`` when the queue runs dry, as ``--repeat
auto``'s is; the two are not combined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qtui.analysis import cost_model, predictions
from qtui.core import events as ev
from qtui.core import units
from qtui.core.config import RunSpec
from qtui.core.parameters import combo_key, combo_parameters

#: The default memory limit: this share of what a run may use.
DEFAULT_MEMORY_SHARE = 0.8


def available_memory() -> int:
    """Bytes a run may use here: the cgroup v2 ``memory.max`` when set, else the machine's."""
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isascii() and text.isdigit():
            return int(text)
    except OSError:
        pass
    import psutil

    return int(psutil.virtual_memory().total)


@dataclass(frozen=True)
class Limits:
    """What a point may cost: peak memory in bytes, time per step in seconds (None: no limit)."""

    max_memory: float | None = None
    max_step_time: float | None = None

    def breach(self, rss: float | None, step: float | None) -> str:
        """Why a point with these predictions must not run ("" when it may)."""
        if self.max_memory and rss is not None and rss > self.max_memory:
            return (f"predicted {units.memory(rss)} > {units.memory(self.max_memory)} allowed"
                    " (--max-memory)")
        if self.max_step_time and step is not None and step > self.max_step_time:
            return (f"predicted {units.seconds(step)} per step > {units.seconds(self.max_step_time)}"
                    " allowed (--max-step-time)")
        return ""


@dataclass
class _Line:
    """One combination (at fixed other parameters): its sizes in order, what they measured."""

    sizes: list[int]
    specs: dict[int, list[RunSpec]]
    queued: int = 0  # sizes handed to the supervisor so far
    stopped: bool = False
    #: size -> each finished repeat's (time per step, peak RSS)
    measured: dict[int, list[tuple[float, float]]] = field(default_factory=dict)


class SizeLimits:
    """Plans a qubit sweep size by size, skipping the sizes predicted over a limit."""

    FIRST = cost_model.MIN_SIZES

    def __init__(self, specs: list[RunSpec], limits: Limits) -> None:
        self.limits = limits
        self.lines: dict[str, _Line] = {}
        self._line_of: dict[str, tuple[str, int]] = {}
        self.skipped: list[str] = []
        for spec in specs:
            params = combo_parameters(spec.to_dict())
            n = int(params.pop("qubits", 0) or 0)
            key = combo_key(params)
            line = self.lines.setdefault(key, _Line([], {}))
            if n not in line.specs:
                line.sizes.append(n)
                line.specs[n] = []
            line.specs[n].append(spec)
        for line in self.lines.values():
            line.sizes.sort()

    def describe(self) -> str:
        """What the console says before the first run."""
        lim = self.limits
        parts = []
        if lim.max_memory:
            parts.append(f"peak memory {units.memory(lim.max_memory)}")
        if lim.max_step_time:
            parts.append(f"{units.seconds(lim.max_step_time)} per step")
        return (
            f"Running each combination's sizes in order, one run at a time: the first "
            f"{self.FIRST}, then each larger one only while its predicted cost stays within "
            f"{' and '.join(parts)} (--max-memory, --max-step-time)."
        )

    def first(self) -> list[RunSpec]:
        """The sizes every combination runs before any prediction: its first three."""
        out: list[RunSpec] = []
        for line in self.lines.values():
            line.queued = min(self.FIRST, len(line.sizes))
            for n in line.sizes[: line.queued]:
                out += line.specs[n]
        return out

    def observe(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunQueued):
            params = combo_parameters(event.spec)
            n = int(params.pop("qubits", 0) or 0)
            self._line_of[event.run_id] = (combo_key(params), n)
            return
        if isinstance(event, ev.RunFinished) and event.steps:
            key, n = self._line_of.get(event.run_id, ("", 0))
            line = self.lines.get(key)
            if line is not None:
                line.measured.setdefault(n, []).append((event.train_s / event.steps, float(event.peak_rss)))

    def more(self) -> list[RunSpec]:
        """The next size of every combination whose predictions stay within the limits."""
        out: list[RunSpec] = []
        for line in self.lines.values():
            while not line.stopped and line.queued < len(line.sizes):
                n = line.sizes[line.queued]
                line.queued += 1
                why = self._breach(line, n)
                if why:
                    line.stopped = True
                    label = line.specs[n][0].combo
                    rest = line.sizes[line.queued - 1:]
                    sizes = ", ".join(str(s) for s in rest)
                    self.skipped.append(f"{label} at {sizes} qubits: skipped: {why}")
                    break
                out += line.specs[n]
                break
        return out

    def _breach(self, line: _Line, n: int) -> str:
        xs = sorted(line.measured)
        if len(xs) < self.FIRST:
            return ""
        # repeats of a size: the mean time, the largest peak (what has to fit)
        times = [[t for t, _ in line.measured[x]] for x in xs]
        time_model = cost_model.build("time_per_step", xs, [sum(v) / len(v) for v in times], times)
        spec = line.specs[n][0]
        circuit = predictions.circuit_of(spec.diff_method, spec.params.batch_size, spec.params.layers,
                                         spec.params.workload)
        rss_model = cost_model.build("peak_rss", xs, [max(m for _, m in line.measured[x]) for x in xs],
                                     circuit=circuit)
        t = time_model.predict(n)
        m = predictions.memory_at(rss_model, n)  # the figure every view shows
        return self.limits.breach(m[0] if m else None, t[0] if t else None)


def limits_from(max_memory: float | None, max_step_time: float | None) -> Limits:
    """The limits a sweep runs under: ``--max-memory`` (bytes; None: the default share of
    ``available_memory()``; 0: none) and ``--max-step-time`` (seconds; None: none)."""
    memory = DEFAULT_MEMORY_SHARE * available_memory() if max_memory is None else max_memory
    return Limits(max_memory=memory or None, max_step_time=max_step_time or None)


def needed(specs: list[RunSpec]) -> bool:
    """Whether a sweep has sizes beyond the first three to check (else: plan nothing)."""
    return len({int(s.params.qubits) for s in specs}) > SizeLimits.FIRST
