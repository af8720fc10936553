"""The fold of events into results, their statistics and verdicts.  No I/O, no rendering."""
