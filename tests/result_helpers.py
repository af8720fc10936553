"""A summary's ``results[]`` entry built from plain numbers (the data a summary holds),
for the tests of the one rule, the recommendation, compare and the sweep verdicts."""

from __future__ import annotations

import statistics

from qtui.core.summary_schema import Resources, Result


def entry(cmd: str, times: list[float], core: list[float] | None = None, rss: int = 2**28,
          qubits: int | None = None, contended: int = 0) -> Result:
    core = core if core is not None else times
    device, method = cmd.split("+")
    params: dict[str, object] = {"device": device, "diff_method": method}
    if qubits is not None:
        params.update(qubits=qubits, steps=1)
    return Result(
        combo=cmd,
        label=cmd,
        parameters=params,
        mean=statistics.fmean(times),
        stddev=statistics.stdev(times) if len(times) > 1 else None,
        times=list(times),
        steps=1,
        time_per_step=statistics.fmean(times),
        contended_runs=contended,
        resources=Resources(
            core_s=statistics.fmean(core),
            core_s_stddev=statistics.stdev(core) if len(core) > 1 else None,
            core_s_values=list(core),
            peak_rss_bytes=rss,
            peak_rss_values=[rss] * len(times),
        ),
    )
