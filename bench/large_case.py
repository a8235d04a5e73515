"""Memory on a large case: 8x64x224x224 input, 64 output channels, 7x7 kernel ('same').

    python bench/large_case.py

Prints the reference's own peak of traced allocations (tracemalloc sees NumPy's buffers)
against the size of its inputs and outputs, then the peak RSS of a whole
`python -m harness run` of the case in a fresh process. Not a test.
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
    from harness.cases import load_cases
    from harness.data import make_tensors
    from harness.reference import reference

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
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(work), "-o", str(work / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    print(f"harness run: {time.perf_counter() - start:.1f} s, exit {os.waitstatus_to_exitcode(status)}, "
          f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB")
    print(out.strip().splitlines()[-1] if out.strip() else "")


if __name__ == "__main__":
    main()
