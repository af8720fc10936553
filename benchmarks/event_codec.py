"""What one event costs to encode and decode: msgspec (qtui today) vs the ``json`` path.

The baseline is the codec qtui used before (issue 8, point 3), rebuilt here
and measured in the same run: a dataclass event, ``dataclasses.asdict`` plus
``json.dumps`` with a ``default`` hook to encode; ``json.loads``, a field
filter and the dataclass constructor to decode (which checked names only,
not types).  The msgspec path is ``qtui.core.events``: ``encoded()`` on a fresh
event (no cache hit) and ``decode()`` of the bytes, with its type and range
checks.  The event is a ``batch``, the most frequent one (one per training
step).

    python benchmarks/event_codec.py [--n 200000] [--repeat 5]

Prints microseconds per event (best of ``--repeat``) and the ratios.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from qtui.core import events as ev


@dataclass
class OldBatch:
    """The pre-msgspec ``Batch`` (a dataclass), field for field."""

    type: ClassVar[str] = "batch"
    run_id: str
    epoch: int
    batch: int
    loss: float
    step: int
    elapsed_s: float
    t: float = field(default_factory=time.time, kw_only=True)


def _default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def old_encode(e: OldBatch) -> str:
    d = asdict(e)
    d["type"] = e.type
    d["v"] = 1
    return json.dumps(d, separators=(",", ":"), default=_default)


_NAMES = {f.name for f in fields(OldBatch)}


def old_decode(line: str) -> OldBatch:
    d = json.loads(line)
    if not isinstance(d, dict) or d.get("type") != "batch":
        raise ValueError("not a batch")
    return OldBatch(**{k: v for k, v in d.items() if k in _NAMES})


def best_us(fn: Any, n: int, repeat: int) -> float:
    """Best-of-``repeat`` microseconds per call of ``fn(i)`` over ``n`` calls."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n, r = args.n, args.repeat
    kw = {"run_id": "r1-default.qubit-backprop", "epoch": 3, "batch": 17, "loss": 0.5108256237659907,
          "step": 257, "elapsed_s": 12.345678}
    new_events = [ev.Batch(**kw) for _ in range(n)]  # type: ignore[arg-type]
    old_events = [OldBatch(**kw) for _ in range(n)]  # type: ignore[arg-type]
    raw = ev.encoded(ev.Batch(**kw))  # type: ignore[arg-type]
    text = old_encode(OldBatch(**kw))  # type: ignore[arg-type]

    def fresh(i: int) -> bytes:
        e = new_events[i]
        e.__dict__.clear()  # no cached bytes: measure a real encode
        return ev.encoded(e)

    enc_json = best_us(lambda i: old_encode(old_events[i]), n, r)
    enc_msgspec = best_us(fresh, n, r)
    dec_json = best_us(lambda i: old_decode(text), n, r)
    dec_msgspec = best_us(lambda i: ev.decode(raw), n, r)
    cached = best_us(lambda i: ev.encoded(new_events[i]), n, r)

    print(f"batch event, {len(raw)} bytes; best of {r} x {n} events")
    print(f"{'':8}{'json (before)':>15}{'msgspec':>11}{'ratio':>8}")
    print(f"{'encode':8}{enc_json:>12.2f} µs{enc_msgspec:>8.2f} µs{enc_json / enc_msgspec:>7.1f}×")
    print(f"{'decode':8}{dec_json:>12.2f} µs{dec_msgspec:>8.2f} µs{dec_json / dec_msgspec:>7.1f}×")
    print(f"encoded() again (cached, what the log and history writers pay): {cached:.3f} µs")


if __name__ == "__main__":
    main()
