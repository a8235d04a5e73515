"""The conversion routes torch-onnx, keras-litert and onnx2tf through the harness: the battery's configurations,
the stage a failure names, the source adapter's build-time refusals, and the direct calls behind findings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from battery import VALID_CONFIGS, run

ROOT = Path(__file__).resolve().parents[2]
ROUTES = {"torch-onnx": ("torch", "onnxscript", "onnxruntime"), "keras-litert": ("tensorflow", "ai_edge_litert"),
          "onnx2tf": ("onnx2tf", "ai_edge_litert")}
# what each route does differently from the reference on the battery (reasons in the case files); measured:
# every other configuration matches or is declared unsupported, and each of these still differs (tested below)
DIFFERS = {
    "torch-onnx": {"float64", "in-channels-0"},
    "keras-litert": {"batch-0", "bfloat16", "channels-first-bfloat16", "float16", "float64", "in-channels-0",
                     "transpose-2d-dilated"},
    "onnx2tf": {"batch-0", "circular", "float16", "float64", "in-channels-0", "same-lower",
                "separable-1d-strided-dilated", "transpose-1d-same", "transpose-2d-dilated", "transpose-3d-same"},
}


def needs(route: str) -> None:
    for module in ROUTES[route]:
        pytest.importorskip(module)


@pytest.mark.parametrize("route", list(ROUTES))
def test_the_battery_matches_through_every_route(route: str) -> None:
    """Every configuration a route has no recorded difference on computes the reference's result."""
    needs(route)
    wrong = {}
    for name, fields in VALID_CONFIGS.items():
        if name in DIFFERS[route]:
            continue
        row = run(route, **fields)
        if row.status not in ("match", "unsupported"):
            wrong[name] = (row.status, row.stage, row.mismatch_on, (row.error_message or "")[:120])
        elif row.status == "match":
            assert row.stage == "run", (name, row.stage)
    assert not wrong, wrong


@pytest.mark.parametrize("route", list(ROUTES))
def test_what_a_route_does_differently_still_differs(route: str) -> None:
    """The skip list above is no wider than the routes' real differences: each entry still errs or mismatches."""
    needs(route)
    same = [name for name in sorted(DIFFERS[route]) if run(route, **VALID_CONFIGS[name]).status in ("match", "unsupported")]
    assert not same, f"{route} now computes these as the reference does: {same}"


def test_a_build_refusal_is_the_source_frameworks_own() -> None:
    """torch refuses a strided 'same' Conv2d when the module is built: the route's row says build, and the torch
    adapter's recorded refusal is the expectation it is judged by."""
    needs("torch-onnx")
    from helpers import make_case

    from harness.judge.expected import expectation
    from harness.model.expectation import Expectation

    row = run("torch-onnx", padding="same", stride=2, input_size=8)
    assert (row.status, row.stage, row.error_type) == ("error", "build", "ValueError")
    rule = Expectation(status="error", error_type="ValueError", message="strided")
    case = make_case(padding="same", stride=2, input_size=8).model_copy(update={"expect": {"torch": rule}})
    assert expectation(case, False, "torch-onnx", "forward", "error", "build") is rule
    assert expectation(case, False, "torch-onnx", "forward", "error", "convert").status == "match"  # not at convert


def test_onnx2tf_drops_the_bias_of_a_3d_conv_transpose() -> None:
    """The direct call behind transpose-3d[padding=valid]: zero kernel, so the output is the bias alone."""
    needs("onnx2tf")
    import contextlib
    import io
    import os
    import tempfile

    import numpy as np
    import onnx2tf
    from ai_edge_litert.interpreter import Interpreter
    from onnx import helper, numpy_helper

    def tflite_output(rank: int) -> np.ndarray:
        x = np.ones((1, 2, 3, 4, 3)[:rank + 2], np.float32)
        inits = [numpy_helper.from_array(np.zeros((2, 3, 2, 3, 3)[:rank + 2], np.float32), "W"),
                 numpy_helper.from_array(np.array([1, 2, 3], np.float32), "B")]
        node = helper.make_node("ConvTranspose", ["X", "W", "B"], ["Y"], kernel_shape=[2, 3, 3][:rank],
                                strides=[2] * rank)
        graph = helper.make_graph([node], "c", [helper.make_tensor_value_info("X", 1, list(x.shape))],
                                  [helper.make_tensor_value_info("Y", 1, None)], initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
        with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
            onnx2tf.convert(onnx_graph=model, output_folder_path=folder, non_verbose=True)
            interpreter = Interpreter(model_path=os.path.join(folder, "model_float32.tflite"))
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.ascontiguousarray(np.moveaxis(x, 1, -1)))
        interpreter.invoke()
        return np.moveaxis(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), -1, 1)

    assert np.unique(tflite_output(2)[0, 2]).tolist() == [3.0]  # 2-D keeps the bias
    assert np.unique(tflite_output(3)).tolist() == [0.0]  # 3-D: the bias is gone


def test_litert_cannot_convert_a_channels_first_conv1d() -> None:
    """The direct call behind channels-first-conv1d: the converter fails for a plain NCW Conv1D, not for NWC."""
    needs("keras-litert")
    import contextlib
    import io
    import os

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("keras was imported on another backend in this process")

    def converts(layout: str) -> bool:
        shape = (1, 2, 9) if layout == "channels_first" else (1, 9, 2)
        model = keras.Sequential([keras.Input(batch_shape=shape), keras.layers.Conv1D(3, 3, data_format=layout)])
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                tf.lite.TFLiteConverter.from_keras_model(model).convert()
        except Exception as exc:
            assert "ranspose' op" in str(exc)
            return False
        return True

    assert converts("channels_last") and not converts("channels_first")


def test_a_route_failures_bundle_reproduces_standalone_from_its_artifact(tmp_path: Path) -> None:
    """repro of the 3-D ConvTranspose whose bias onnx2tf drops: the .tflite and a runtime-only script that
    exits 1 on it, run in a fresh process from the bundle's folder with no harness on the path."""
    needs("onnx2tf")
    case = "transpose-3d[padding=valid]"
    done = subprocess.run([sys.executable, "-m", "harness", "repro", case, "-a", "onnx2tf", "-o", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    [bundle] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (bundle / "onnx2tf.tflite").is_file()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    standalone = subprocess.run([sys.executable, "onnx2tf-artifact.py"], cwd=bundle, capture_output=True, text=True,
                                timeout=300, env=env)
    assert standalone.returncode == 1, standalone.stdout + standalone.stderr
    script = (bundle / "onnx2tf-artifact.py").read_text()
    assert "import harness" not in script and "from harness" not in script and "import onnx2tf" not in script
