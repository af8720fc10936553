"""Run control for any front end: the session controller, adaptive repeats, capabilities."""
