"""One ONNX Conv/ConvTranspose node in ONNX Runtime through the harness."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from battery import VALID_CONFIGS, assert_matches, pads_of, run

EMULATED = {"reflect", "reflect-asymmetric", "replicate", "circular", "reflect-same", "convolve-2d-asymmetric",
            "convolve-1d-full", "convolve-1-tap", "separable-reflect-no-bias"}
REFUSED = {"dilation-same", "bfloat16", "channels-first-bfloat16", "in-channels-0", "float64"}


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in REFUSED])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("onnxruntime", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


def test_auto_pad_same_with_dilation_is_refused() -> None:
    row = run("onnxruntime", padding="same", dilation=2, input_size=8)
    assert row.status == "error" and "Dilation not supported for AutoPadType::SAME_UPPER" in row.error_message


def test_float64_conv_has_no_cpu_kernel() -> None:
    row = run("onnxruntime", dtype="float64")
    assert (row.status, row.error_type) == ("error", "NotImplemented")
    assert "Could not find an implementation for Conv(11)" in row.error_message


def test_parameter_count_reads_the_initializers() -> None:
    row = run("onnxruntime", in_channels=4, out_channels=6, groups=2)
    assert row.param_count == row.expected_param_count == 6 * 2 * 9 + 6


def test_transposed_valid_is_the_full_output() -> None:
    row = run("onnxruntime", op="conv_transpose", input_size=[4], kernel_size=2, stride=3)
    assert (row.status, row.out_shape, pads_of(row)) == ("match", "1x3x11", (0, 0))


def test_output_size_under_same_is_onnx_output_shape_and_matches_the_adjoint() -> None:
    from helpers import make_case

    from harness.adapters.onnxruntime import node_attributes
    from harness.adapters.registry import get_adapter
    from harness.model.geometry import output_padding_for

    case = make_case(op="conv_transpose", input_size=[4, 3], kernel_size=3, stride=2, padding="same", output_size=[7, 6])
    case = case.model_copy(update={"output_padding": output_padding_for(case, [7, 6])})
    attrs = node_attributes(case, get_adapter("onnxruntime").plan(case))
    assert attrs["output_shape"] == [7, 6] and attrs["auto_pad"] == "SAME_UPPER" and "output_padding" not in attrs
