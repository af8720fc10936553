"""Warnings are data: count every occurrence of every distinct warning in the child.

Python's default filter shows a warning once per location and then drops it;
torch's C++ ``TORCH_WARN_ONCE`` (the complex-to-real cast) fires once per
process.  Here the filter is ``always`` and torch is told to warn always, so
each occurrence reaches ``showwarning`` and is counted against its key
(category, message, file, line).  The first occurrence of a key is reported at
once; later counts at most every ``flush_interval`` seconds and at the end.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qtui.core.events import WarningSeen

Key = tuple[str, str, str, int]


@dataclass
class _Tally:
    count: int
    first_t: float
    last_t: float
    reported_count: int = 0


class WarningCounter:
    def __init__(
        self,
        run_id: str,
        emit: Callable[[WarningSeen], None],
        flush_interval: float = 0.5,
    ) -> None:
        self.run_id = run_id
        self._emit = emit
        self._flush_interval = flush_interval
        self._tallies: dict[Key, _Tally] = {}
        self._last_flush = 0.0
        self._saved: Any = None

    @property
    def total(self) -> int:
        return sum(t.count for t in self._tallies.values())

    def install(self) -> None:
        """Route every warning here, counting repeats instead of dropping them."""
        self._saved = (warnings.showwarning, list(warnings.filters))
        warnings.simplefilter("always")
        warnings.showwarning = self._show  # type: ignore[assignment]

    def uninstall(self) -> None:
        if self._saved is not None:
            warnings.showwarning = self._saved[0]
            warnings.filters[:] = self._saved[1]  # type: ignore[index]
            self._saved = None

    def _show(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        now = time.time()
        key: Key = (category.__name__, str(message), str(filename), int(lineno))
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(1, now, now)
            self._report(key, tally)
            return
        tally.count += 1
        tally.last_t = now
        if now - self._last_flush >= self._flush_interval:
            self.flush()

    def flush(self) -> None:
        """Report every key whose count changed since it was last reported."""
        self._last_flush = time.time()
        for key, tally in self._tallies.items():
            if tally.count != tally.reported_count:
                self._report(key, tally)

    def _report(self, key: Key, tally: _Tally) -> None:
        tally.reported_count = tally.count
        category, message, filename, lineno = key
        self._emit(
            WarningSeen(
                run_id=self.run_id,
                category=category,
                message=message,
                filename=filename,
                lineno=lineno,
                count=tally.count,
                first_t=tally.first_t,
                last_t=tally.last_t,
            )
        )
