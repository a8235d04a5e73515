"""`harness model` as a user meets it: a subprocess, its exit code, what it prints and writes."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent  # the factories in models.py import from here, as a user's package would


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=HERE, capture_output=True, text=True,
                          timeout=600)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_a_torch_module_layer_by_layer_agrees_with_running_its_cases(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    cases = tmp_path / "kept" / "every.yaml"
    done = harness("model", "models:torch_every", "--input-shape", "1,3,12,12", "-o", str(tmp_path / "out"),
                   "-a", "torch,onnxruntime", "--write-cases", str(cases))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Every: 10 convolutions (10 distinct configurations)" in done.stdout
    assert "Traceback" not in done.stderr and "torch.onnx" not in done.stdout + done.stderr
    assert harness("validate", str(cases)).returncode == 0 and cases.with_suffix(".npz").is_file()
    layers = _rows(tmp_path / "out" / "layers.csv")
    assert [r["layer"] for r in layers if r["adapter"] == "torch"][:3] == ["stem", "features.0.conv",
                                                                            "features.0.conv2d"]
    assert harness("run", str(cases), "-o", str(tmp_path / "direct"), "-a", "torch,onnxruntime").returncode == 0
    direct = {(r["case_id"], r["adapter"]): r["status"] for r in _rows(tmp_path / "direct" / "results.csv")}
    assert {(r["case_id"], r["adapter"]): r["status"] for r in layers} == direct
    assert "| 4 | reflect | nn.Conv2d |" in (tmp_path / "out" / "layers.md").read_text()


def test_identical_configurations_run_once_and_are_reported_for_each_layer(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    done = harness("model", "models:torch_twins", "--input-shape", "1,4,6,6", "-o", str(tmp_path), "-a", "torch")
    assert done.returncode == 0, done.stderr
    assert "Sequential: 3 convolutions (2 distinct configurations)" in done.stdout
    assert {r["case_id"] for r in _rows(tmp_path / "results.csv")} == {"0", "2"}
    layers = _rows(tmp_path / "layers.csv")
    assert [(r["layer"], r["same_as"], r["outcome"]) for r in layers] == [("0", "", "same"), ("1", "0", "same"),
                                                                           ("2", "", "same")]


def test_a_keras_layer_torch_refuses_is_named_with_exit_1(tmp_path: Path) -> None:
    pytest.importorskip("keras")
    pytest.importorskip("torch")
    done = harness("model", "models:keras_every", "-o", str(tmp_path), "-a", "torch,keras")
    assert done.returncode == 1, done.stderr
    assert "every: 12 convolutions" in done.stdout
    assert "torch: 11 compute the same, 1 do not: c2 (error)" in done.stdout
    assert "keras: 12 compute the same" in done.stdout
    assert "oneDNN" not in done.stdout + done.stderr  # TensorFlow's start-up chatter is in the log, not here


@pytest.mark.parametrize(("args", "says"), [
    (("models:torch_every",), "give its input's shape, e.g. --input-shape"),
    (("missing.onnx",), "no such file: missing.onnx"),
    (("models:nothing_here",), "models has no nothing_here"),
    (("no_such_package:make",), "cannot import no_such_package"),
    (("models:not_a_model",), "returned a str: expected a torch.nn.Module or a Keras model"),
    (("model.txt",), "expected a model file (.onnx, .keras, .h5, .pt2) or package.module:factory"),
    (("models:torch_every", "--input-shape", "1,three"), "--input-shape '1,three': expected positive sizes"),
    (("models:torch_every", "--input-shape", "1,3,12,12", "-a", "tensorflow"), "-a/--adapters"),
])
def test_bad_input_is_one_error_line_and_exit_2(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    if args[0].startswith("models:torch"):
        pytest.importorskip("torch")
    done = harness("model", *args, "-o", str(tmp_path / "out"))
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_an_onnx_file_through_onnx_runtime(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    from models import onnx_file, torch_twins

    path = onnx_file(torch_twins(), (1, 4, 6, 6), tmp_path / "twins.onnx")
    done = harness("model", str(path), "-o", str(tmp_path / "out"), "-a", "onnxruntime")
    assert done.returncode == 0, done.stderr
    assert "3 convolutions (2 distinct configurations)" in done.stdout
    assert (tmp_path / "out" / "layers.md").read_text().count("| onnxruntime |") == 1


def test_resume_keeps_the_layers_an_earlier_run_of_the_same_file_judged(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    from models import onnx_file, torch_twins

    path = onnx_file(torch_twins(), (1, 4, 6, 6), tmp_path / "twins.onnx")
    first = harness("model", str(path), "-o", str(tmp_path / "out"), "-a", "onnxruntime")
    again = harness("model", str(path), "-o", str(tmp_path / "out"), "-a", "onnxruntime", "--resume")
    assert first.returncode == again.returncode == 0, again.stderr
    assert "(2 kept from the earlier run)" in again.stdout


def test_a_factory_in_a_file_outside_any_package(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    (tmp_path / "net.py").write_text("import torch\n\ndef build():\n    return torch.nn.Conv1d(2, 3, 3)\n")
    done = harness("model", f"{tmp_path / 'net.py'}:build", "--input-shape", "1,2,9", "-o", str(tmp_path / "out"),
                   "-a", "torch")
    assert done.returncode == 0, done.stderr
    assert "Conv1d: 1 convolution (1 distinct configuration)" in done.stdout
    missing = harness("model", f"{tmp_path / 'nothere.py'}:build", "-o", str(tmp_path / "out2"))
    assert missing.returncode == 2 and "cannot import" in missing.stderr and "no such file" in missing.stderr
