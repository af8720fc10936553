"""The app's end-of-session bell (issue 23): a session that ran a minute or more
rings when it ends while the terminal is not focused (``qtui.core.end_notice``
has the rule and the bytes; Textual's ``app_focus`` follows the terminal's focus
reports).  ``qtui --no-bell`` turns it off."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from qtui.core import end_notice


class EndBell:
    """Times each session of the app and announces the end of a long one."""

    def __init__(self, enabled: bool, after_s: float = end_notice.LONG_SESSION_S) -> None:
        self.enabled = enabled
        self.after_s = after_s  # tests inject 0: time is injected, not waited for
        self.announced: list[str] = []  # what was announced, newest last
        self._t0: float | None = None

    def started(self) -> None:
        self._t0 = time.monotonic()

    def ended(self, app: Any, n_runs: int) -> None:
        """Ring (and notify where the terminal takes OSC 9) if the session was long and
        the terminal is not focused; what was said is kept in ``announced``."""
        if self._t0 is None:
            return
        elapsed, self._t0 = time.monotonic() - self._t0, None
        if not end_notice.wanted(elapsed, enabled=self.enabled, focused=bool(app.app_focus),
                                 after_s=self.after_s):
            return
        text = end_notice.message(n_runs, elapsed)
        self.announced.append(text)
        driver = getattr(app, "_driver", None)
        if driver is not None:
            with contextlib.suppress(Exception):  # boundary: a gone terminal; nothing to ring
                driver.write(end_notice.sequence(text))
                driver.flush()
