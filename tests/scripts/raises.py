"""Prints, then raises: the run must be failed with the exception and the stderr tail."""

print("about to fail")
raise RuntimeError("the script broke on purpose")
