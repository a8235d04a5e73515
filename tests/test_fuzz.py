"""The fuzzer finds a hidden fault, shrinks it, writes a case file that validates and passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from helpers import install_fake
from hypothesis import given, settings

from harness.fuzz import case_fields, make_case


def test_a_hidden_fault_is_found_shrunk_and_written(tmp_path: Path) -> None:
    env = install_fake(tmp_path)
    out = subprocess.run([sys.executable, "-m", "harness", "fuzz", "--time", "20", "--seed", "3", "-a", "numpy-engine",
                          "-o", "found"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    found = {}
    for path in sorted((tmp_path / "found").glob("*.yaml")):
        (case,) = yaml.safe_load(path.read_text())["cases"]
        found[path.name] = case
    wrong = [c for c in found.values() if "'values'" in c["doc"]]  # the kind: (adapter, pass, mismatch, values, ...)
    assert wrong, found
    case = wrong[0]
    strides = case.get("stride", [1])
    assert 3 in (strides if isinstance(strides, list) else [strides])  # the hidden condition
    assert case.get("batch", 1) <= 1 and case["in_channels"] <= 2 and case["out_channels"] <= 2
    assert max(case["input_size"]) <= 4 and max(case["kernel_size"]) <= 2  # shrunk
    assert all("TODO" in e[next(iter(e))]["reason"] for e in case["expect"])  # a reason to fill in
    validate = subprocess.run([sys.executable, "-m", "harness", "validate", "found"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
    assert validate.returncode == 0, validate.stderr
    rerun = subprocess.run([sys.executable, "-m", "harness", "run", "found", "-o", "r"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout  # the written expectations hold
    assert (tmp_path / "reports" / "repro").is_dir()


@settings(max_examples=200, deadline=None)
@given(case_fields())
def test_every_drawn_case_is_a_valid_case_within_the_size_limits(fields: dict) -> None:
    case = make_case(fields)
    assert case.batch <= 2 and case.in_channels <= 4 and case.out_channels <= 4 and max(case.input_size) <= 10
    assert case == make_case(fields)  # the same fields, the same case and seed
