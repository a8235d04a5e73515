"""Route ONNX -> OpenVINO through the harness: the ONNX model onnxruntime builds, read and compiled by
OpenVINO's CPU plugin; where it fails, the row names the stage."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("openvino")
pytest.importorskip("onnx")

from battery import VALID_CONFIGS, assert_matches, run

from harness.model.machine import cpu_flags

EMULATED = {"reflect", "reflect-asymmetric", "replicate", "circular", "reflect-same", "convolve-2d-asymmetric",
            "convolve-1d-full", "convolve-1-tap", "separable-reflect-no-bias"}
NOT_HERE = {"bfloat16", "channels-first-bfloat16"}  # ONNX has no bfloat16 Conv (the ONNX model's limit)
DIFFERS = {"in-channels-0", "float64", "circular"}  # below


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in NOT_HERE | DIFFERS])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("openvino", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


def test_auto_pad_same_with_dilation_runs_where_onnx_runtime_refuses() -> None:
    assert run("openvino", **VALID_CONFIGS["dilation-same"]).status == "match"


def test_float64_is_computed_in_float32() -> None:
    row = run("openvino", **VALID_CONFIGS["float64"])
    assert (row.status, row.mismatch_on, row.dtype, row.stage) == ("mismatch", "values", "float64", "run")
    assert 1 < row.err_bound_ratio < 1e12  # float32's error, far beyond float64's bound


def test_circular_padding_fails_in_conversion() -> None:
    row = run("openvino", **VALID_CONFIGS["circular"])
    assert (row.status, row.error_type, row.stage) == ("error", "RuntimeError", "convert")
    assert "Model wasn't fully converted" in row.error_message
    assert "Unsupported padding mode: [wrap]" in row.error_message  # kept: its C++ source lines are dropped
    assert "src/" not in row.error_message


def test_zero_input_channels_fail_in_conversion() -> None:
    row = run("openvino", **VALID_CONFIGS["in-channels-0"])
    assert (row.status, row.stage) == ("error", "convert")


@pytest.mark.parametrize("precision", ["highest", "default"])
def test_precision_default_is_the_plugins_own(precision: str) -> None:
    """f32 for precision: highest; the plugin's default (bf16 on CPUs with native bfloat16) otherwise."""
    row = run("openvino", precision=precision, in_channels=16, out_channels=8, input_size=8, data="uniform")
    lowered = precision == "default" and "avx512_bf16" in cpu_flags()
    assert (row.status, row.mismatch_on) == (("mismatch", "values") if lowered else ("match", None)), row


def test_one_channel_strided_narrow_input_is_computed_wrongly() -> None:
    """The direct call behind cases/edge_cases.yaml one-channel-strided-narrow-input, f32 hint on."""
    import numpy as np
    import onnxruntime
    import openvino
    from onnx import helper, numpy_helper

    def conv(x: np.ndarray, w: np.ndarray, strides: list[int]) -> tuple[np.ndarray, np.ndarray]:
        node = helper.make_node("Conv", ["X", "W"], ["Y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=strides)
        graph = helper.make_graph([node], "c", [helper.make_tensor_value_info("X", 1, list(x.shape))],
                                  [helper.make_tensor_value_info("Y", 1, None)], initializer=[numpy_helper.from_array(w, "W")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10).SerializeToString()
        core = openvino.Core()
        ov = core.compile_model(core.read_model(model, b""), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})([x])[0]
        session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        return ov.ravel(), session.run(None, {"X": x})[0].ravel()

    x = np.arange(1, 4, dtype=np.float32).reshape(1, 1, 3, 1)
    ov, ort = conv(x, np.ones((1, 1, 3, 3), np.float32), [1, 2])
    assert ort.tolist() == [3, 6, 5]
    assert (ov[0], ov[2]) == (3, 5) and ov[1] != 6  # the middle value: 0 in every run here, 1.96e31 in one CI run
    four = np.ones((1, 4, 3, 1), np.float32)
    assert np.array_equal(*conv(four, np.ones((1, 4, 3, 3), np.float32), [1, 2]))  # 4 channels: right
    assert np.array_equal(*conv(x, np.ones((1, 1, 3, 3), np.float32), [2, 2]))  # both axes strided: right


def test_compiled_models_are_kept_where_the_worker_says(tmp_path, monkeypatch) -> None:
    """The program's Core keeps compiled models in HARNESS_OPENVINO_CACHE (the worker points it under
    HARNESS_CACHE_DIR); the run that loads them computes the same values."""
    from harness.adapters.registry import get_adapter

    fields = {"in_channels": 3, "out_channels": 5, "input_size": [5, 6], "kernel_size": 2, "seed": 91}
    get_adapter("openvino").ensure_setup()  # the worker's setting first, then this test's folder
    assert os.environ["HARNESS_OPENVINO_CACHE"].endswith("openvino")
    monkeypatch.setenv("HARNESS_OPENVINO_CACHE", str(tmp_path / "kept"))
    first = run("openvino", **fields)
    kept = sorted(path.name for path in (tmp_path / "kept").iterdir())
    assert first.status == "match" and kept  # compiled once, kept
    again = run("openvino", **fields)  # compile_model finds it kept
    assert sorted(path.name for path in (tmp_path / "kept").iterdir()) == kept
    assert (again.status, again.max_abs_err, again.err_bound_ratio) == ("match", first.max_abs_err, first.err_bound_ratio)
