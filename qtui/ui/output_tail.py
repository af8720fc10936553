"""Following a ``qtui exec`` run's output file as it grows, for the run detail's pane.

The run's child writes the script's stdout and stderr to a file each
(``qtui.engine.script_child.Tee``); the app reads them here, a bounded piece at a
time, so a live run shows its lines as they come and a 64 MiB file never stalls
the screen.  The app never imports torch or PennyLane for it: these are plain
files.  Only regular files are read (``qtui.core.paths.open_regular``: a FIFO or a
device put in a file's place is refused, never opened blocking), and every line
is escaped for display (``qtui.core.safe_text.visible``): a script's output may
hold terminal control sequences.
"""

from __future__ import annotations

import os

from qtui.core import units
from qtui.core.paths import open_regular
from qtui.core.safe_text import visible

#: The most of a file read when it is first opened: its end (a finished run's file
#: may be 64 MiB; the pane shows the last lines and says where the rest is).
FIRST_READ_BYTES = 4 * 1024**2
#: The most read from a file per poll, so one poll never holds the screen long.
READ_BYTES = 1024**2
#: A line this long without its end is shown as it is (a progress bar of ``\r``s).
LONG_LINE_BYTES = 64 * 1024


class OutputTail:
    """The complete lines added to ``path`` since the last ``poll`` (escaped)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.note = ""  # why the file cannot be read, once
        self._fd: int | None = None
        self._pos = 0
        self._partial = b""

    def _open(self) -> list[str]:
        """Open the file; start at its last ``FIRST_READ_BYTES`` (at a line's start)."""
        try:
            fd = open_regular(self.path, "output file", limit=None)
        except FileNotFoundError:
            return []  # not made yet: the run's child makes it before the script starts
        except OSError as exc:
            self.note = f"cannot read {self.path}: {exc.strerror or exc}"
            return []
        self._fd = fd
        size = os.fstat(fd).st_size
        if size <= FIRST_READ_BYTES:
            return []
        start = size - FIRST_READ_BYTES
        head = os.pread(fd, min(LONG_LINE_BYTES, FIRST_READ_BYTES), start)
        newline = head.find(b"\n")
        self._pos = start + newline + 1 if newline >= 0 else start
        return [visible(f"… the first {units.memory(self._pos)} are not shown here: "
                        f"they are in {self.path}")]

    def poll(self) -> list[str]:
        """The lines completed since the last call (at most ``READ_BYTES`` read)."""
        lines: list[str] = []
        if self._fd is None:
            if self.note:
                return []
            lines = self._open()
            if self._fd is None:
                return lines
        try:
            data = os.pread(self._fd, READ_BYTES, self._pos)
        except OSError as exc:
            self.note = f"cannot read {self.path}: {exc.strerror or exc}"
            self.close()
            return lines
        self._pos += len(data)
        data = self._partial + data
        *complete, rest = data.split(b"\n")
        if len(rest) >= LONG_LINE_BYTES:
            complete.append(rest)
            rest = b""
        self._partial = rest
        return lines + [visible(line.decode("utf-8", errors="replace")) for line in complete]

    @property
    def opened(self) -> bool:
        """The file was found and opened (a log watched from another machine may name
        a file that is not here)."""
        return self._fd is not None

    @property
    def caught_up(self) -> bool:
        """Everything in the file now has been read (a poll would read nothing new)."""
        if self._fd is None:
            return False
        try:
            return os.fstat(self._fd).st_size <= self._pos
        except OSError:
            return True

    def rest(self) -> list[str]:
        """The last line when it has no line end (read once the run has ended)."""
        line, self._partial = self._partial, b""
        return [visible(line.decode("utf-8", errors="replace"))] if line else []

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
