"""Keras layers (TensorFlow backend) through the harness: matches, pads and crops, refusals."""

from __future__ import annotations

import pytest

pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from battery import ONEDNN_FLOAT16, VALID_CONFIGS, assert_matches, pads_of, run
from helpers import make_case

from harness.model.machine import cpu_flags

NATIVE = {"valid", "valid-stride2-odd", "same-odd-kernel", "same-even-kernel", "same-nonsquare", "dilation",
          "dilation-same", "groups", "depthwise", "depthwise-multiplier", "one-by-one", "no-bias", "float16",
          "bfloat16", "float64", "channels-first-bfloat16", "batch-0", "in-channels-0", "integers", "1d-same-even",
          "1d-causal", "3d-same-stride1", "3d-valid-stride2", "transpose-2d-valid", "transpose-1d-same",
          "transpose-3d-same", "separable-same"}
DIFFERS = {"replicate", "circular", "batch-0", "in-channels-0"}
# oneDNN's bfloat16 kernels need AVX512F; elsewhere TensorFlow falls back to Eigen (harness/quiet.py)
EIGEN_BFLOAT16 = "avx512f" not in cpu_flags()
if EIGEN_BFLOAT16:
    DIFFERS |= {"channels-first-bfloat16"}


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in DIFFERS])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("keras", VALID_CONFIGS[name], "native" if name in NATIVE else "emulated")


def test_same_kernel4_stride2_on_7_pads_1_before_2_after() -> None:
    row = run("keras", padding="same", kernel_size=4, stride=2, input_size=7)
    assert row.status == "match" and pads_of(row) == (1, 2, 1, 2) and row.realization == "native"


@pytest.mark.parametrize("mode", ["replicate", "circular"])
def test_replicate_and_circular_have_no_keras_pad_mode(mode: str) -> None:
    row = run("keras", padding=1, padding_mode=mode)
    assert row.status == "unsupported" and f"padding_mode='{mode}'" in row.error_message


def test_stride_with_dilation_is_refused() -> None:
    row = run("keras", stride=2, dilation=2, input_size=9)
    assert row.status == "error" and row.error_type == "ValueError"
    assert row.error_message.startswith("`strides > 1` not supported in conjunction with `dilation_rate > 1`")


@pytest.mark.parametrize("dtype", ["float64", *(() if ONEDNN_FLOAT16 else ("float16",))])
def test_channels_first_half_and_double_are_refused_on_cpu(dtype: str) -> None:
    row = run("keras", layout="channels_first", dtype=dtype)
    assert row.status == "error" and row.error_type == "UnimplementedError"
    assert "only supports the NHWC tensor format on the CPU" in row.error_message


@pytest.mark.skipif(not ONEDNN_FLOAT16, reason="this CPU has no AVX512_FP16: float16 NCHW goes to Eigen")
def test_with_onednn_float16_kernels_channels_first_float16_runs() -> None:
    row = run("keras", layout="channels_first", dtype="float16")
    assert (row.status, row.realization) == ("match", "native"), row


def test_batch_0_fails_in_the_bias_add() -> None:
    row = run("keras", batch=0)
    assert row.status == "error" and "Incompatible shapes" in row.error_message


def test_zero_input_channels_are_refused() -> None:
    row = run("keras", in_channels=0)
    assert row.status == "error" and "filter must not have zero elements" in row.error_message


def test_kernel_larger_than_input_is_refused() -> None:
    row = run("keras", kernel_size=7)
    assert row.status == "error" and row.passed


def test_depthwise_layer_with_multiplier() -> None:
    from harness.adapters.keras import depthwise

    row = run("keras", in_channels=3, out_channels=6, groups=3, input_size=[9], kernel_size=3)
    assert row.status == "match" and row.param_count == 3 * 2 * 3 + 6
    assert depthwise(make_case(in_channels=3, out_channels=6, groups=3))
    assert not depthwise(make_case(in_channels=1, out_channels=2, groups=1))


def test_transposed_valid_with_stride_above_kernel_keeps_in_times_stride() -> None:
    """Keras' default output_padding=None gives in*s + max(k - s, 0): zeros after the full output."""
    row = run("keras", op="conv_transpose", input_size=[4], kernel_size=2, stride=3)
    assert (row.status, row.mismatch_on, row.out_shape, row.ref_shape, pads_of(row)) == (
        "mismatch", "shape", "1x3x12", "1x3x11", (0, -1))


def test_grouped_transposed_is_unsupported() -> None:
    row = run("keras", op="conv_transpose", in_channels=2, out_channels=4, groups=2)
    assert row.status == "unsupported" and "no groups" in row.error_message


def test_error_messages_have_no_colour_codes_or_argument_dumps() -> None:
    row = run("keras", batch=0)
    assert "\x1b" not in row.error_message and "Arguments received" not in row.error_message


GRADIENT_DIFFERS = {"in-channels-0", "batch-0", "replicate", "circular"}  # forward refusals
GRADIENT_DIFFERS |= set() if ONEDNN_FLOAT16 else {"float16"}  # Eigen's float16 gradients: below
GRADIENT_DIFFERS |= {"bfloat16", "channels-first-bfloat16"}  # BiasAddGrad sums db in bfloat16 (cases/gradients.yaml)


@pytest.mark.skipif(EIGEN_BFLOAT16, reason="this CPU has no AVX512F: dx and dw leave the bound too")
@pytest.mark.parametrize("name", ["bfloat16", "channels-first-bfloat16"])
def test_bfloat16_bias_gradient_is_summed_in_bfloat16(name: str) -> None:
    """With oneDNN's bfloat16 kernels dx and dw stay within the bound; TensorFlow's CPU BiasAddGrad promotes
    only float16 to a float32 accumulator, so db is summed in bfloat16."""
    from battery import assert_half_accumulation

    assert_half_accumulation("keras", VALID_CONFIGS[name], "db")


@pytest.mark.skipif(not EIGEN_BFLOAT16, reason="this CPU has AVX512F: oneDNN's bfloat16 kernels run")
def test_without_avx512f_bfloat16_falls_back_to_eigen() -> None:
    """No NCHW input, and a filter gradient beyond the float32-accumulation bound (cases/dtypes_layouts.yaml,
    cases/gradients.yaml)."""
    from battery import assert_gradients_match

    row = run("keras", **VALID_CONFIGS["channels-first-bfloat16"])
    assert row.status == "error" and "only supports the NHWC tensor format" in (row.error_message or "")
    with pytest.raises(AssertionError, match="mismatch_on='dx;dw;db'"):
        assert_gradients_match("keras", VALID_CONFIGS["bfloat16"])


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in GRADIENT_DIFFERS])
def test_gradients_match(name: str) -> None:
    from battery import assert_gradients_match

    assert_gradients_match("keras", VALID_CONFIGS[name])


@pytest.mark.skipif(ONEDNN_FLOAT16, reason="this CPU has AVX512_FP16: oneDNN's float16 kernels run")
def test_float16_gradients_exceed_float32_accumulation() -> None:
    """TensorFlow's float16 Conv2DBackpropInput and Conv2DBackpropFilter on the CPU: dx and dw beyond the
    float32-accumulation bound (cases/gradients.yaml)."""
    from battery import VALID_CONFIGS, assert_gradients_match

    with pytest.raises(AssertionError, match="mismatch_on='dx;dw'"):
        assert_gradients_match("keras", VALID_CONFIGS["float16"])
