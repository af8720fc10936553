"""What persists and is read back: the history database, event logs, summary files."""
