"""The argparse front end (``qtui …``) and its live console progress."""
