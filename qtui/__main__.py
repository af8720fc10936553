"""``python -m qtui``: the same as the ``qtui`` console script."""

from __future__ import annotations

import sys

from qtui.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
