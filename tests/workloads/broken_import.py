"""A workload module that does not import."""

import qtui_this_module_does_not_exist  # noqa: F401


def build(ctx):  # type: ignore[no-untyped-def]
    raise AssertionError("never reached")
