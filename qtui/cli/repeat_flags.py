"""``--repeat N|auto``, ``--target-ci``, ``--max-repeats``, ``--max-time``: shared by run and sweep.

``--repeat auto`` runs each combination (each sweep point) once, then repeats
them in interleaved passes until the 95 % confidence interval of each mean is
within ``--target-ci`` percent (default 5) of the mean, or it has
``--max-repeats`` runs (default 10), or the session has trained for
``--max-time`` seconds (``qtui.session.adaptive``).  The three tuning flags need
``--repeat auto``: given with a fixed count they are an error, not ignored.
"""

from __future__ import annotations

import argparse
from typing import Any

from qtui.core.config import FIELD_PARSERS, MAX_REPEAT, ConfigError, parse_float, parse_int
from qtui.session.adaptive import DEFAULT_MAX_REPEATS, DEFAULT_TARGET_CI, MIN_REPEATS, RepeatPolicy


def add_flags(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--repeat", default="1", metavar="N|auto",
        help=f"runs per {what}: 1 to {MAX_REPEAT}, or auto (repeat until the 95 %% interval "
        "of the mean is within --target-ci; default 1)",
    )
    p.add_argument(
        "--target-ci", default=None, metavar="PERCENT",
        help=f"with --repeat auto: the 95 %% interval's half-width, in %% of the mean, to reach "
        f"(0.1 to 50; default {DEFAULT_TARGET_CI * 100:g})",
    )
    p.add_argument(
        "--max-repeats", default=None, metavar="N",
        help=f"with --repeat auto: at most N runs per {what} ({MIN_REPEATS} to {MAX_REPEAT}; "
        f"default {DEFAULT_MAX_REPEATS})",
    )
    p.add_argument(
        "--max-time", default=None, metavar="SECONDS",
        help="with --repeat auto: no new pass after the session has trained this long "
        "(default: no limit)",
    )


def parse(args: Any) -> tuple[int, RepeatPolicy | None]:
    """``(repeat count, policy)``: the policy is set for ``--repeat auto`` (count 1)."""
    auto = str(args.repeat).strip().lower() == "auto"
    tuning = {"target-ci": args.target_ci, "max-repeats": args.max_repeats,
              "max-time": args.max_time}
    if not auto:
        given = [f"--{k}" for k, v in tuning.items() if v is not None]
        if given:
            raise ConfigError(given[0].lstrip("-"), "needs --repeat auto")
        return int(FIELD_PARSERS["repeat"](args.repeat)), None
    policy = RepeatPolicy()
    if args.target_ci is not None:
        pct = parse_float("target-ci", args.target_ci, positive=True)
        if not 0.1 <= pct <= 50:
            raise ConfigError("target-ci", f"must be between 0.1 and 50 (percent), got {pct:g}")
        policy.target_ci = pct / 100
    if args.max_repeats is not None:
        policy.max_repeats = parse_int("max-repeats", args.max_repeats, minimum=MIN_REPEATS,
                                       maximum=MAX_REPEAT)
    if args.max_time is not None:
        policy.max_time_s = parse_float("max-time", args.max_time, positive=True)
    return 1, policy
