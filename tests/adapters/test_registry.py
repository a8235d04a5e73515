"""The adapter registry: entry points only, no framework imported, a third party adds an adapter."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import install_fake

from harness.adapters.registry import adapter_names, split_names


def test_a_package_with_only_an_entry_point_adds_an_adapter(tmp_path: Path) -> None:
    env = install_fake(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(textwrap.dedent("""
        cases:
          - id: plain
            in_channels: 2
            input_size: [6, 7]
            out_channels: 3
            kernel_size: [2, 3]
            stride: [2, 1]
            adapters: [numpy-engine]
          - id: padded
            in_channels: 1
            input_size: 5
            out_channels: 1
            kernel_size: 3
            padding: [[1, 0], [0, 2]]
            adapters: [numpy-engine]
          - id: transposed
            op: conv_transpose
            in_channels: 1
            input_size: 5
            out_channels: 1
            kernel_size: 3
            adapters: [numpy-engine]
            expect: {numpy-engine: {status: unsupported, reason: a third party's own record}}
    """))
    listed = subprocess.run([sys.executable, "-m", "harness", "adapters"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert "numpy-engine         installed" in listed.stdout
    run = subprocess.run([sys.executable, "-m", "harness", "run", "-o", "out"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(tmp_path / "out" / "results.csv", newline="") as handle:
        rows = {r["case_id"]: r for r in csv.DictReader(handle)}
    assert (rows["plain"]["adapter"], rows["plain"]["status"], rows["plain"]["out_shape"]) == (
        "numpy-engine", "match", "1x3x3x5")
    assert (rows["padded"]["status"], rows["padded"]["realization"], rows["padded"]["pad_left"]) == (
        "match", "emulated", "0")
    assert rows["transposed"]["status"] == "unsupported" and rows["transposed"]["passed"] == "true"


def test_unknown_names_are_refused_at_their_line_without_the_package(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("cases:\n  - id: a\n    in_channels: 1\n    input_size: 4\n"
                                     "    out_channels: 1\n    kernel_size: 1\n    adapters: [numpy-engine]\n")
    out = subprocess.run([sys.executable, "-m", "harness", "validate", "c.yaml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "c.yaml:7: case 'a': adapters.0: unknown adapter 'numpy-engine'" in out.stderr


def test_names_come_from_entry_points_and_import_no_framework() -> None:
    code = ("import sys; from harness.adapters.registry import adapter_names; print(adapter_names()); "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'jax', 'scipy', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines()[1] == "[]"
    assert set(adapter_names()) >= {"torch", "torch-functional", "keras", "jax", "scipy", "onnxruntime"}


def test_split_names_ignores_spaces() -> None:
    assert split_names("torch, jax ,keras") == ["torch", "jax", "keras"]
    assert split_names(None) == [] and split_names(" , ") == []
