"""The bad-input table's row types, shared by ``test_bad_input.py`` and its round-two modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qtui.core.config import RunSpec


@dataclass(frozen=True)
class Bad:
    """argv that must be refused: exit 2, one line naming ``field``."""

    argv: tuple[str, ...]
    field: str
    #: the message must contain this too (what is wrong / what is allowed)
    says: str = ""


@dataclass(frozen=True)
class Valid:
    """argv accepted on purpose; ``behaviour`` is the documented reason, ``check`` proves it."""

    argv: tuple[str, ...]
    behaviour: str
    check: Callable[[list[RunSpec], Path], bool] = field(default=lambda specs, tmp: True)
