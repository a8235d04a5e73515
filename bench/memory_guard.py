"""The memory guard's estimate against what a case really takes: peak RSS over a sweep of cases.

    python bench/memory_guard.py [-a torch,jax,keras] [--shipped]

For each adapter, in a fresh process: set the framework up and run a small case (imports,
warm-up), reset the peak (`/proc/self/clear_refs`), then run one case the way `harness run`
does it, parent and worker in one process: the worker's call and probe (`run_adapter`), the
outcome through pickle as the pipe carries it, then the parent's reference, bound, judging and
for `grad` the reference gradients (`Prepared.rows`). The increment of the peak RSS over the
resident size before the case is what the case took; the ratio to `memory.estimate` should stay
at most 1.2 (the guard refuses on the estimate, so a higher ratio lets a case past it).
`--shipped` also runs every shipped case and reports the largest increment (their estimates
are a few MiB, where allocator and compiler noise dominate). Not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SWEEP = """\
defaults: {batch: 8, in_channels: 32, input_size: [128, 128], out_channels: 32, kernel_size: 3}
cases:
  - {id: conv-same, padding: same}
  - {id: conv-valid-k7, kernel_size: 7, out_channels: 64}
  - {id: conv-grad, padding: same, grad: true}
  - {id: conv-reflect-grad, padding: 3, padding_mode: reflect, kernel_size: 7, grad: true}
  - {id: depthwise, groups: 32, padding: same}
  - {id: batch-0, batch: 0, in_channels: 16, input_size: [1000, 1000], out_channels: 4}
  - {id: transpose-s2, op: conv_transpose, stride: 2, kernel_size: 4, padding: same}
  - {id: transpose-grad, op: conv_transpose, stride: 2, kernel_size: 4, grad: true}
  - {id: conv3d, input_size: [24, 48, 48], kernel_size: 3, padding: same}
  - {id: float16, dtype: float16, padding: same}
"""

CHILD = r"""
import json, pickle, sys
from harness.cases.loading import load_cases
from harness.model.data import make_tensors
from harness.run.memory import estimate
from harness.run.loop import Prepared
from harness.run.pair import run_adapter

def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    raise KeyError(key)

name, path, warm = sys.argv[1], sys.argv[2], sys.argv[3]
warmup = load_cases([warm]).cases[0]
run_adapter(name, warmup, make_tensors(warmup, warmup.seed))
for case in load_cases([path]).cases:
    with open('/proc/self/clear_refs', 'w') as handle:
        handle.write('5')  # the peak (VmHWM) starts again from the current resident size
    base = status('VmRSS')
    prepared = Prepared()
    prepared.remaining[case.id] = 1
    outcome = pickle.loads(pickle.dumps(run_adapter(name, case, make_tensors(case, case.seed))))
    rows = prepared.rows(case, outcome)
    taken = status('VmHWM') - base
    print(json.dumps({"case": case.id, "adapter": name, "estimate": estimate(case), "taken": taken,
                      "statuses": [r.status for r in rows]}), flush=True)
    del outcome, rows, prepared
"""

WARM = "cases:\n  - {id: warm, in_channels: 2, input_size: 8, out_channels: 2, kernel_size: 3, grad: true}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--adapters", default="torch,jax,keras")
    parser.add_argument("--shipped", action="store_true", help="also every shipped case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sweep, warm = Path(tmp) / "sweep.yaml", Path(tmp) / "warm.yaml"
        sweep.write_text(SWEEP)
        warm.write_text(WARM)
        paths = [str(sweep)] + (["cases"] if args.shipped else [])
        results = []
        for name in args.adapters.split(","):
            for path in paths:
                out = subprocess.run([sys.executable, "-c", CHILD, name, path, str(warm)], capture_output=True,
                                     text=True, check=False)
                if out.returncode != 0:
                    print(f"{name} {path}: exit {out.returncode}\n{out.stderr[-2000:]}", file=sys.stderr)
                results += [json.loads(line) | {"path": path} for line in out.stdout.splitlines()
                            if line.startswith("{")]
    print(f"{'case':<22} {'adapter':<8} {'estimate MiB':>12} {'taken MiB':>10} {'ratio':>6}  statuses")
    for r in results:
        if r["path"] != "cases":
            print(f"{r['case']:<22} {r['adapter']:<8} {r['estimate'] / 2**20:>12.1f} {r['taken'] / 2**20:>10.1f} "
                  f"{r['taken'] / r['estimate']:>6.2f}  {','.join(r['statuses'])}")
    swept = [r for r in results if r["path"] != "cases"]
    if swept:
        worst = max(swept, key=lambda r: r["taken"] / r["estimate"])
        print(f"worst ratio over the sweep: {worst['taken'] / worst['estimate']:.2f} ({worst['case']}, {worst['adapter']})")
    shipped = [r for r in results if r["path"] == "cases"]
    if shipped:
        big = max(shipped, key=lambda r: r["taken"])
        print(f"shipped cases: {len(shipped)} pairs, largest estimate {max(r['estimate'] for r in shipped) / 2**20:.1f} MiB, "
              f"largest increment {big['taken'] / 2**20:.1f} MiB ({big['case']}, {big['adapter']}, estimate "
              f"{big['estimate'] / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
