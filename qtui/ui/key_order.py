"""Keys in the order they were typed: each acts on what the keys before it left (issue 23).

Why: Textual forwards a key to the widget focused when the key is read, and the
app's bindings see it once it has bubbled back up; what a key changes often lands
later still: a pushed screen mounts in its own task and focuses its table with a
queued ``focus()``, a ``DataTable`` says "row selected" with a message of its own
before the app opens the run detail.  Over SSH the keys typed together arrive in one
read, so ``3 enter`` sent the ``enter`` to nothing and ``h down enter`` moved no row
of the history: the keys ran ahead of the state.

How: the app takes the next key the terminal sent only when the one before has
landed.  Behind each key it posts a marker (``KeyTrip``) to the widget the key went
to; the marker bubbles up the same path behind the key, so when it reaches the app
the key has been handled.  It then goes round again through what has focus now,
behind whatever the key's action posted there (the row selected, a new screen's
mount and first focus), until a round finds the screen and the focus it left with.
An action may add a wait of its own (``wait_for``: a tab whose content is still
being built, ``qtui.ui.later``).  A key never waits more than ``MAX_WAIT_S``: a
marker lost with a widget removed under it lets the keys go on, in their order.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    _Base = App[int]
else:
    _Base = object

#: The longest a key waits for the one before it to land (a lost marker, a wait that
#: never ends): then it goes on as Textual would have sent it.
MAX_WAIT_S = 3.0
#: How often a key's own waits (``wait_for``) and the limit are looked at.
POLL_S = 0.02
#: Rounds of the marker after which a focus still moving counts as landed.
MAX_ROUNDS = 8


class KeyTrip(Message):
    """Follows a key up the widgets it went through, to the app (never stopped on the way)."""

    def __init__(self, trip: int, rounds: int, screen: Any, focused: Any) -> None:
        super().__init__()
        self.trip = trip
        self.rounds = rounds
        self.screen = screen  # what the app showed and focused when it was sent
        self.focused = focused


class KeyOrder(_Base):
    """Mixin for the app (before ``App`` in its bases): keys taken one at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_keys: deque[events.Key] = deque()
        self._key_busy = False  # a key taken has not landed yet
        self._key_trip = 0  # the marker in flight (older ones are stale)
        self._key_back = False  # it came back with nothing moved
        self._key_deadline = 0.0
        self._key_waits: list[Callable[[], bool]] = []
        self._key_timer: Timer | None = None

    def keys_pending(self) -> bool:
        """A key is on its way or held (what a test waits out before it looks)."""
        return self._key_busy or bool(self._held_keys)

    def wait_for(self, landed: Callable[[], bool]) -> None:
        """Keep the next key until ``landed()`` is true (called again every ``POLL_S``)."""
        if self._key_busy:
            self._key_waits.append(landed)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._key_busy or self._held_keys:
                self._held_keys.append(event)
                self._poll_keys(True)
                return
            await self._take_key(event)
            return
        await super().on_event(event)

    async def _take_key(self, key: events.Key) -> None:
        key = self._meant(key)
        self._key_busy, self._key_back, self._key_waits = True, False, []
        self._key_deadline = time.monotonic() + MAX_WAIT_S
        target = self.focused or self.screen
        await super().on_event(key)  # priority bindings, else forwarded to ``target``
        self._send_trip(target if key.is_forwarded else self.focused or self.screen, 1)

    def _meant(self, key: events.Key) -> events.Key:
        """The key the user typed: on a screen over the main one (a dialog, the history),
        an alt+digit is Escape.  Escape then a digit typed fast arrives as one key (ESC
        1: alt+1, which Textual reads as the Option character ``¡``), and a dialog's
        field took it as text where the user had pressed Escape.  The digit, a tab
        switch on the main screen, has nothing to do there and is dropped.  Taken here,
        in order, so it is the screen the keys before it left that decides."""
        from qtui.ui.actions import alt_digit_keys

        if self.screen is not self.screen_stack[0] and key.key in alt_digit_keys():
            return events.Key("escape", None)
        return key

    def _send_trip(self, target: Any, rounds: int) -> None:
        self._key_trip += 1
        trip = KeyTrip(self._key_trip, rounds, self.screen, self.focused)
        if not target.post_message(trip):  # closing: nothing behind it to wait for
            self._key_back = True

    async def on_key_trip(self, message: KeyTrip) -> None:
        message.stop()
        if message.trip != self._key_trip or not self._key_busy:
            return  # a marker given up on (MAX_WAIT_S)
        moved = message.screen is not self.screen or message.focused is not self.focused
        if (message.rounds < 2 or moved) and message.rounds < MAX_ROUNDS:
            # again behind what the key's action posted to what has focus now
            self._send_trip(self.focused or self.screen, message.rounds + 1)
            return
        self._key_back = True
        await self._next_key()

    def _landed(self) -> bool:
        if not self._key_back:
            return False
        self._key_waits = [w for w in self._key_waits if not w()]
        return not self._key_waits

    async def _next_key(self) -> None:
        """Take the held keys while each lands at once; else look again in ``POLL_S``."""
        while self._key_busy:
            if not self._landed() and time.monotonic() < self._key_deadline:
                self._poll_keys(True)
                return
            self._key_busy, self._key_waits = False, []
            if self._held_keys:
                await self._take_key(self._held_keys.popleft())
        self._poll_keys(False)

    def _poll_keys(self, on: bool) -> None:
        if self._key_timer is None:
            if not on:
                return
            self._key_timer = self.set_interval(POLL_S, self._next_key, pause=True)
        if on:
            self._key_timer.resume()
        else:
            self._key_timer.pause()
