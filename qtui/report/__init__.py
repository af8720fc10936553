"""The results model and every renderer of a summary (console, Markdown, HTML, CSV, JSON)."""
