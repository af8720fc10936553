"""CLI subcommands, one module each, each exposing ``register(subparsers)``.

``qtui.cli.main.COMMANDS`` lists them; a module that does not exist (yet) is
skipped.  A command's handler is set with ``parser.set_defaults(func=...)``
and returns the process exit code.
"""
