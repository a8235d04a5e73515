"""Memory on a large case: 8x64x224x224 input, 64 output channels, 7x7 kernel ('same').

    python bench/large_case.py [-a torch,jax]

Prints the reference's own peak of traced allocations (tracemalloc sees NumPy's buffers)
against the size of its inputs and outputs, then the time and the peak memory of a whole
`python -m harness run` of the case in a fresh process (the sum of the resident memory of the
parent and its workers, sampled every 0.2 s), forward only and with `grad: true`. Not a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

CASE = """\
cases:
  - id: large
    doc: 8x64x224x224 input, 64 output channels, a 7x7 kernel
    batch: 8
    in_channels: 64
    input_size: 224
    out_channels: 64
    kernel_size: 7
    padding: same
"""


def main() -> None:
    import argparse

    from harness.cases.loading import load_cases

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--adapters", default="torch")
    adapters = parser.parse_args().adapters
    from harness.model.data import make_tensors
    from harness.truth.reference import reference

    work = Path(tempfile.mkdtemp(prefix="harness-large-"))
    (work / "large.yaml").write_text(CASE)
    (case,) = load_cases([work]).cases
    tensors = make_tensors(case, case.seed)
    tracemalloc.start()
    start = time.perf_counter()
    ref = reference(case, tensors)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mib = 2**20
    results = sum(a.nbytes for a in (ref.out, ref.no_bias, ref.abs_conv)) / mib
    print(f"reference: {seconds:.1f} s; peak traced {peak / mib:.0f} MiB, of which its three float64 results "
          f"(out, out without bias, |x|*|w|) are {results:.0f} MiB and the input {tensors.input.nbytes / mib:.0f} MiB")
    peaks = {}
    for label, text in (("forward only", CASE), ("grad: true", CASE + "    grad: true\n")):
        (work / "large.yaml").write_text(text)
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(work), "-o", str(work / "out"),
                                 "-a", adapters], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.2)
        out = proc.stdout.read() if proc.stdout else ""
        peaks[label] = peak
        print(f"harness run -a {adapters}, {label}: {time.perf_counter() - start:.1f} s, exit {proc.returncode}, "
              f"peak memory (parent + workers) {peak / mib:.0f} MiB")
        print("   ", out.strip().splitlines()[-1] if out.strip() else "")
    print(f"grad / forward peak: {peaks['grad: true'] / max(peaks['forward only'], 1):.2f}")


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            sizes[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, frontier = 0, {root}
    while frontier:
        total += sum(sizes.get(p, 0) for p in frontier)
        frontier = {p for p, parent in parents.items() if parent in frontier}
    return total


if __name__ == "__main__":
    main()
