"""qtui: a terminal monitor and benchmark bench for hybrid quantum-classical training."""

__version__ = "0.1.0"
