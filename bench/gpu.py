"""On a GPU machine: the shipped cases and a float32 precision sweep, with HARNESS_DEVICE=cuda.

    python bench/gpu.py [-a torch,jax] [-o DIR]

Runs `python -m harness run` twice on the GPU: the shipped cases (precision: highest, as CI
runs them on the CPU), then a sweep of float32 convolutions (3x3 and 7x7 kernels, 8 and 64
channels, 2-D and transposed) at precision highest and default, and prints per adapter and
precision the largest err_bound_ratio (against the bound of the precision the framework was
allowed) and strict_err_bound_ratio (against float32's bound). Not a test: CI has no GPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

SWEEP = """\
cases:
  - id: gpu-sweep
    doc: float32 on the GPU, as each framework ships (default) and with TF32 off (highest)
    batch: 4
    input_size: 32
    padding: same
    matrix:
      precision: [highest, default]
      op: [conv, conv_transpose]
      in_channels: [8, 64]
      kernel_size: [3, 7]
    out_channels: 16
"""


def run(args: list[str], env: dict[str, str]) -> None:
    print("$", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "harness", "run", *args], env=env, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--adapters", default="torch,torch-functional,jax")
    parser.add_argument("-o", "--output", default=None)
    args = parser.parse_args()
    out = Path(args.output or tempfile.mkdtemp(prefix="harness-gpu-"))
    env = {**os.environ, "HARNESS_DEVICE": os.environ.get("HARNESS_DEVICE", "cuda")}
    run(["-a", args.adapters, "-o", str(out / "shipped")], env)
    sweep = out / "sweep-cases"
    sweep.mkdir(parents=True, exist_ok=True)
    (sweep / "gpu.yaml").write_text(SWEEP)
    run([str(sweep), "-a", args.adapters, "-o", str(out / "sweep")], env)
    df = pd.read_csv(out / "sweep" / "results.csv")
    df["setting"] = df["case_id"].str.extract(r"precision=(\w+)")[0]
    table = df.groupby(["adapter", "setting", "precision", "device"]).agg(
        pairs=("case_id", "count"), matches=("status", lambda s: int((s == "match").sum())),
        max_err_bound_ratio=("err_bound_ratio", "max"), max_strict_ratio=("strict_err_bound_ratio", "max"),
        max_rel_err=("max_rel_err", "max"))
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))
    shipped = pd.read_csv(out / "shipped" / "results.csv")
    print(pd.crosstab(shipped["status"], shipped["adapter"], margins=True).to_string())
    print("failing pairs on the GPU:", int((shipped["passed"] == False).sum()), "; reports in", out)  # noqa: E712


if __name__ == "__main__":
    main()
