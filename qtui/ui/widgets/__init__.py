"""One component per file; each reads ``LiveState`` and never touches the engine."""
