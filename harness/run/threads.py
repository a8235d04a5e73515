"""The cores shared out between the framework workers, before any numerical library loads.

Every framework runs in its own worker, all at the same time, and each thread pool (OpenBLAS,
OpenMP, MKL) sizes itself to the whole machine and spins while it waits: eight workers and the
parent each spinning on every core of a small machine spend more time waiting than computing.
Each process therefore gets cores / (workers + 1) threads (at least one), unless the user set the
variable. Read once at import by those libraries, so this runs before NumPy is imported.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def share_cores() -> dict[str, str]:
    """Set each unset thread-count variable to this process's share of the cores; return them."""
    workers = len(entry_points(group="conv_harness.adapters")) or 1
    share = str(max(1, (os.cpu_count() or 1) // (workers + 1)))
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, share)
    return {name: os.environ[name] for name in THREAD_VARIABLES}
