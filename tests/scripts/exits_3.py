import sys

print("some output")
print("going away with 3", file=sys.stderr)
sys.exit(3)
