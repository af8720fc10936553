"""Shared vocabulary and event I/O: events, configuration, parameters, units, folders.  Imports nothing else in qtui."""
