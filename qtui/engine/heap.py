"""*(child, fork server)* The garbage collector's state before a measured window.

Why: torch and pennylane import ~300,000 objects.  CPython's full collection
walks all of them (~150 ms on this machine) and comes when enough objects have
survived since the last one, so whether it lands inside a run's measured
training depends on what that process allocated before: one run pays it and
an identical one does not (issue 9: verdicts that flip).  And a process forked
from the fork server writes to every object a collection walks, copying pages
the server shares with it.

Decision: the fork server freezes its imported heap before it forks anything
(``freeze_imports``: ``gc.freeze``, Python's documented recipe for fork
servers), and every run, in its own process, collects once and freezes what
exists just before its measured window (``settle``): the collector still runs
during training, over what training creates, but never over the imports or
the model's construction.  A run in ``--isolation thread`` shares qtui's own
heap and is left alone.
"""

from __future__ import annotations

import gc


def freeze_imports() -> None:
    """The fork server, after its imports: children inherit a frozen heap (no collect: cheap)."""
    gc.freeze()


def settle() -> None:
    """One collection, then freeze everything alive (a few ms in a forked run, whose
    imports are frozen already)."""
    gc.collect()
    gc.freeze()
