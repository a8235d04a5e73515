"""Benchmark: `python -m harness run` against a bare loop, cold and warm caches.

    python bench/bench.py [--repeat N]

Writes a 120-case matrix (kernels 1-5, stride 1-2, valid/same, dilation 1-2, three input
sizes) to a temporary folder, then times, each in a fresh process and with the same cache
state: the harness (`python -m harness run`) and bench/bare_loop.py. Cold: an empty
HARNESS_CACHE_DIR; warm: the same folder again. Prints wall times, the ratios and each
process's peak memory (max RSS). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MATRIX = """\
cases:
  - id: bench
    doc: the benchmark matrix (120 cases)
    batch: 2
    in_channels: 4
    out_channels: 8
    matrix:
      kernel_size: [1, 2, 3, 4, 5]
      stride: [1, 2]
      padding: [valid, same]
      dilation: [1, 2]
      input_size: [8, 15, 32]
"""


def timed(command: list[str], cache: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with {status}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement (the best is kept)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    (work / "cases").mkdir()
    (work / "cases" / "bench.yaml").write_text(MATRIX)
    harness = [sys.executable, "-m", "harness", "run", str(work / "cases"), "-o", str(work / "reports"),
               "-a", "torch,keras,jax"]  # the frameworks bare_loop.py runs
    bare = [sys.executable, str(HERE / "bare_loop.py"), str(work / "cases")]
    # read every framework's files once, so neither side pays the first disk read alone
    subprocess.run([sys.executable, "-c", "import torch, tensorflow, keras, jax"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}  cases: 120 x 3 adapters")
    print(f"{'':6} {'harness s':>10} {'bare s':>8} {'ratio':>6} {'harness MiB':>12} {'bare MiB':>9}")
    for state in ("cold", "warm"):
        best: dict[str, tuple[float, float]] = {}
        for attempt in range(args.repeat):
            for name, command in (("harness", harness), ("bare", bare)):
                cache = work / f"cache-{name}-{attempt}"
                if state == "cold":
                    subprocess.run(["rm", "-rf", str(cache)], check=True)
                result = timed(command, cache)
                if name not in best or result[0] < best[name][0]:
                    best[name] = result
        (hs, hm), (bs, bm) = best["harness"], best["bare"]
        print(f"{state:6} {hs:10.1f} {bs:8.1f} {hs / bs:6.2f} {hm:12.0f} {bm:9.0f}")


if __name__ == "__main__":
    main()
