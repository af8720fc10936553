"""The optional API a script run by ``qtui exec`` may call: ``qtui.log`` and ``qtui.epoch``.

Importable without torch (it imports nothing), and a no-op outside qtui: a
script that calls it runs unchanged under plain ``python``.  Under
``qtui exec`` the run's child (``qtui.engine.script_child``) installs a sink
here before the script starts.

* ``qtui.log(**metrics)``: named scalars (numbers, or one-element tensors)
  recorded as a ``logged`` event and shown by name; ``loss=`` is also a
  training-loss point (in addition to the ones ``.backward()`` records, unless
  loss capture is off).
* ``qtui.epoch(loss=None)``: the end of an epoch.  Its loss is ``loss`` when
  given, else the mean of the loss points since the previous call.
"""

from __future__ import annotations

from typing import Any, Protocol


class Sink(Protocol):
    def log(self, metrics: dict[str, Any]) -> None: ...

    def epoch(self, loss: Any = None) -> None: ...


#: Set by the run's child while a script runs under ``qtui exec``; None elsewhere.
sink: Sink | None = None


def log(**metrics: Any) -> None:
    """Record named metrics (a no-op outside ``qtui exec``)."""
    if sink is not None and metrics:
        sink.log(metrics)


def epoch(loss: Any = None) -> None:
    """Mark the end of an epoch (a no-op outside ``qtui exec``)."""
    if sink is not None:
        sink.epoch(loss)


def active() -> bool:
    """True while running under ``qtui exec``."""
    return sink is not None
