#!/bin/sh
# Not Python: `qtui exec` must refuse it (tests/bad_input_ranges.py).
touch "$(dirname "$0")/RAN_AS_PYTHON"
