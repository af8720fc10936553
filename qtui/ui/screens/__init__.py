"""Modal and full screens: help, confirm quit, export, history."""
