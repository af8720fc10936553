"""The Textual monitor (``qtui`` with no subcommand).

This package must never import torch or pennylane: the UI process stays light
(first frame < 1 s, < 100 MB RSS) and all training happens in children started
by the engine's supervisor.
"""
