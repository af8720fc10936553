"""Workloads for the engine and CLI tests, used as ``--workload workloads.<module>:<function>``.

The tests put ``tests/`` on ``PYTHONPATH`` so run children can import them.
"""
