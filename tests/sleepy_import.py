"""For tests/run/test_families.py: a module whose import does not end (a family server stuck in it)."""

import time

time.sleep(60)
