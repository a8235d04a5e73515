"""HARNESS_DEVICE: checked once before any work, and the device a row names is the one the result was on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.adapters.device import device_text

CASE = "cases:\n  - {id: a, in_channels: 1, out_channels: 1, kernel_size: 1, input_size: 3, adapters: [scipy]}\n"


def run(tmp_path: Path, device: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "cases").mkdir(exist_ok=True)
    (tmp_path / "cases" / "c.yaml").write_text(CASE)
    return subprocess.run([sys.executable, "-m", "harness", "run"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "HARNESS_DEVICE": device}, timeout=120)


def test_a_misspelt_device_is_one_line_before_any_work(tmp_path: Path) -> None:
    out = run(tmp_path, "banana")
    assert out.returncode == 2 and out.stderr == "error: HARNESS_DEVICE='banana': expected cpu, cuda or cuda:N\n"
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(os.path.exists("/dev/nvidia0"), reason="this machine has an NVIDIA GPU")
def test_a_gpu_this_machine_lacks_is_one_line_before_any_work(tmp_path: Path) -> None:
    out = run(tmp_path, "cuda")
    assert out.returncode == 2 and out.stderr.startswith("error: HARNESS_DEVICE=cuda: this machine has no NVIDIA GPU 0")
    assert len(out.stderr.splitlines()) == 1 and not (tmp_path / "reports").exists()


PROBE = """
import json, sys
from harness.model.data import make_tensors
from harness.run.pair import run_adapter
from harness.model.schema import Case
case = Case.model_validate({"id": "a", "in_channels": 1, "out_channels": 1, "kernel_size": 1, "input_size": 3,
                            "seed": 0})
outcome = run_adapter(sys.argv[1], case, make_tensors(case, 0))
print(json.dumps([outcome.status, outcome.error_message, outcome.device]))
"""


@pytest.mark.skipif(os.path.exists("/dev/nvidia0"), reason="this machine has an NVIDIA GPU")
@pytest.mark.parametrize("adapter", ["torch", "keras", "jax"])
def test_a_framework_that_cannot_see_the_gpu_says_so_instead_of_running_on_the_cpu(adapter: str) -> None:
    """Keras on TensorFlow named gpu:0 while TensorFlow ran on the CPU (and the TF32 bound was applied)."""
    pytest.importorskip({"keras": "tensorflow"}.get(adapter, adapter))
    out = subprocess.run([sys.executable, "-c", PROBE, adapter], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HARNESS_DEVICE": "cuda"})
    status, message, _ = json.loads(out.stdout.splitlines()[-1])
    assert status == "error" and "sees no such GPU" in message, out.stdout + out.stderr


def test_the_device_is_read_from_the_result() -> None:
    class TensorFlowLike:
        device = "/job:localhost/replica:0/task:0/device:GPU:1"

    assert device_text(TensorFlowLike()) == "gpu:1"
    assert device_text(object()) is None


def test_keras_rows_name_the_device_their_result_was_on() -> None:
    pytest.importorskip("tensorflow")
    out = subprocess.run([sys.executable, "-c", PROBE, "keras"], capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout.splitlines()[-1]) == ["ran", None, "cpu:0"], out.stderr
