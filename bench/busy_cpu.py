"""Wall time and the machine's busy CPU time of one command: `python bench/busy_cpu.py -- python -m harness run`.

`/usr/bin/time` counts only the children a process waited for, and a forkserver's workers (the family
servers', harness/run/families.py) are not the run's children; /proc/stat counts every core's busy time,
so run it on an otherwise quiet machine. Linux only.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def busy() -> float:
    """Seconds of busy CPU time since boot, summed over the cores (idle and iowait are not busy; 100 ticks a s)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / 100


def main(command: list[str]) -> int:
    before, start = busy(), time.perf_counter()
    code = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall, cpu = time.perf_counter() - start, busy() - before
    print(f"exit {code}: {wall:.1f} s wall, {cpu:.1f} s busy CPU")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]))
