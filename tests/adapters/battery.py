"""What every adapter is checked on, run through the harness's own path (runner + judge)."""

from __future__ import annotations

from typing import Any

from helpers import make_case

from harness.judge.judge import judge
from harness.model.machine import cpu_flags
from harness.results.rows import Row, pads_of
from harness.run.pair import run_adapter
from harness.truth.prepare import prepare

VALID_CONFIGS: dict[str, dict[str, Any]] = {
    "valid": {},
    "valid-stride2-odd": {"input_size": [9, 7], "stride": 2},
    "same-odd-kernel": {"padding": "same"},
    "same-even-kernel": {"padding": "same", "kernel_size": 4, "input_size": [7, 8]},
    "same-nonsquare": {"padding": "same", "kernel_size": [2, 5], "input_size": [5, 9]},
    "same-lower": {"padding": "same_lower", "kernel_size": 4, "stride": 2, "input_size": 7},
    "symmetric-pads": {"padding": [1, 2]},
    "asymmetric-pads": {"padding": [[0, 2], [3, 1]]},
    "pads-larger-than-kernel": {"padding": 4, "stride": 2},
    "dilation": {"dilation": 2, "input_size": 8},
    "dilation-same": {"dilation": [3, 2], "padding": "same", "input_size": 8},
    "groups": {"in_channels": 4, "out_channels": 6, "groups": 2},
    "depthwise": {"in_channels": 3, "out_channels": 3, "groups": 3},
    "depthwise-multiplier": {"in_channels": 3, "out_channels": 6, "groups": 3},
    "one-by-one": {"kernel_size": 1, "stride": 2},
    "no-bias": {"bias": False},
    "float16": {"dtype": "float16", "padding": "same"},
    "bfloat16": {"dtype": "bfloat16", "padding": "same"},
    "float64": {"dtype": "float64", "padding": "same"},
    "channels-first": {"layout": "channels_first", "padding": [[1, 0], [0, 2]]},
    "channels-first-bfloat16": {"layout": "channels_first", "dtype": "bfloat16"},
    "reflect": {"padding": [1, 2], "padding_mode": "reflect"},
    "reflect-asymmetric": {"padding": [[2, 0], [0, 1]], "padding_mode": "reflect"},
    "replicate": {"padding": 1, "padding_mode": "replicate"},
    "circular": {"padding": [[1, 2], [2, 1]], "padding_mode": "circular"},
    "reflect-same": {"padding": "same", "padding_mode": "reflect", "kernel_size": 4},
    "batch-0": {"batch": 0},
    "in-channels-0": {"in_channels": 0},
    "integers": {"data": "integers", "batch": 3},
    "1d-same-even": {"input_size": [9], "kernel_size": 6, "padding": "same"},
    "1d-full-dilated": {"input_size": [8], "kernel_size": 3, "dilation": 2, "padding": "full"},
    "1d-causal": {"input_size": [9], "kernel_size": 3, "dilation": 2, "padding": "causal"},
    "3d-same-stride1": {"input_size": [4, 5, 6], "kernel_size": [2, 3, 3], "padding": "same"},
    "3d-valid-stride2": {"input_size": [5, 6, 7], "kernel_size": 3, "stride": 2},
    "convolve-2d-asymmetric": {"op": "convolve", "kernel_size": [2, 3], "padding": [[1, 0], [0, 2]]},
    "convolve-1d-full": {"op": "convolve", "input_size": [4], "kernel_size": 3, "padding": "full"},
    "convolve-1-tap": {"op": "convolve", "kernel_size": 1, "stride": 2},  # a size-1 flip (its port once raised)
    "transpose-2d-valid": {"op": "conv_transpose", "stride": 2},
    "transpose-2d-crops-output-padding": {"op": "conv_transpose", "stride": 2, "padding": 1, "output_padding": 1},
    "transpose-1d-same": {"op": "conv_transpose", "input_size": [5], "stride": 2, "padding": "same"},
    "transpose-3d-same": {"op": "conv_transpose", "input_size": [3, 4, 3], "stride": 2, "padding": "same"},
    "transpose-2d-dilated": {"op": "conv_transpose", "dilation": 2, "padding": 2},
    "separable-same": {"op": "separable", "in_channels": 3, "out_channels": 4, "depth_multiplier": 2, "padding": "same"},
    "separable-1d-strided-dilated": {"op": "separable", "input_size": [11], "kernel_size": 3, "stride": 2,
                                     "dilation": 2, "depth_multiplier": 3, "padding": [[2, 1]]},
    "separable-reflect-no-bias": {"op": "separable", "padding": 1, "padding_mode": "reflect", "bias": False},
}


def run(adapter: str, **fields: Any) -> Row:
    case = make_case(**fields)
    tensors, ref, bound = prepare(case)
    return judge(case, ref, run_adapter(adapter, case, tensors), bound)



def assert_matches(adapter: str, fields: dict[str, Any], realization: str) -> None:
    row = run(adapter, **fields)
    assert row.status == "match", row
    assert row.realization == realization
    assert row.param_count == row.expected_param_count
    assert row.err_bound_ratio is not None and row.err_bound_ratio <= 1
    if fields.get("in_channels") != 0:  # zero input channels leave nothing to probe
        assert pads_of(row) == pads_of(row, "ref_pad_")


HALF = ("float16", "bfloat16", "channels-first-bfloat16")  # configurations in a half precision
# torch's CPU dx keeps partial sums in a half precision where oneDNN has no kernel for it: bfloat16 needs
# AVX512BW, VL and DQ (torch.ops.mkldnn._is_mkldnn_bf16_supported), float16 AVX512_FP16 or AMX-FP16
# (_is_mkldnn_fp16_supported; cases/gradients.yaml)
ONEDNN_FLOAT16 = "avx512_fp16" in cpu_flags() or "amx_fp16" in cpu_flags()
TORCH_HALF_DX = tuple(n for n in HALF if (n == "float16" and not ONEDNN_FLOAT16)
                      or (n != "float16" and "avx512bw" not in cpu_flags()))


def backward_row(adapter: str, fields: dict[str, Any]) -> Row:
    """The judged backward row of one configuration."""
    from harness.judge.judge import judge_backward
    from harness.truth.gradients import cotangent, reference_gradients

    case = make_case(grad=True, **fields)
    tensors, ref, _ = prepare(case)
    outcome = run_adapter(adapter, case, tensors)
    assert outcome.backward is not None
    grads = None
    if ref.out is not None:
        grads = reference_gradients(case, tensors.input, tensors.weights, cotangent(case, ref.out.shape, case.seed),
                                    tensors.pointwise)
    return judge_backward(case, bool(ref.invalid), grads, outcome.backward, ref.shape)


def assert_half_accumulation(adapter: str, fields: dict[str, Any], on: str) -> None:
    """A gradient summed in the half precision (cases/gradients.yaml): out of the float32-accumulation
    bound on exactly `on`, and diagnosed `precision` (within the bound of half accumulation)."""
    row = backward_row(adapter, fields)
    assert (row.status, row.mismatch_on, row.diagnosis) == ("mismatch", on, "precision"), row


def assert_gradients_match(adapter: str, fields: dict[str, Any]) -> None:
    """The backward row of a configuration whose forward pass matches: dx, dw, db all within bounds."""
    row = backward_row(adapter, fields)
    assert row.status == "match", row
    assert row.pass_ == "backward" and row.dx_err_bound_ratio is not None and row.dx_err_bound_ratio <= 1
