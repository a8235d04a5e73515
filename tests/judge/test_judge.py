"""The error bound, statuses and expectations, on hand-made outcomes (no framework)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from helpers import make_case

from harness.judge.judge import judge, judge_backward
from harness.model.data import make_tensors
from harness.model.expectation import Expectation
from harness.model.ops import expected_param_count, terms
from harness.results.outcome import Outcome, Output
from harness.truth.bounds import error_bound
from harness.truth.reference import reference


def ran(case, values=None, dtype=None, params=None, pads=((0, 0), (0, 0))):
    ref = reference(case, make_tensors(case, 0))
    y = ref.out.copy() if values is None else values
    return ref, Outcome("torch", "ran", Output(y, dtype or case.dtype), "native",
                        expected_param_count(case) if params is None else params, pads, seconds=0.1,
                        version="torch 0")


def test_terms_and_parameter_count_by_hand() -> None:
    case = make_case(in_channels=16, out_channels=33, kernel_size=[3, 5])
    assert terms(case) == 3 * 5 * 16 + 1 and expected_param_count(case) == (3 * 5 * 16 + 1) * 33 == 7953
    grouped = make_case(in_channels=4, out_channels=6, groups=2, bias=False)
    assert terms(grouped) == 3 * 3 * 2 and expected_param_count(grouped) == 3 * 3 * 2 * 6
    assert expected_param_count(make_case(in_channels=3, out_channels=16, kernel_size=5)) == 1216


def test_error_bound_by_hand() -> None:
    """One output element: x = [1, 2], w = [1, 1] (1x2 kernel), bias 1; float32."""
    case = make_case(in_channels=1, out_channels=1, input_size=[1, 2], kernel_size=[1, 2],
                     data={"input": "arange", "weights": "ones"})
    ref = reference(case, make_tensors(case, 0))
    assert ref.out.item() == 4 and ref.no_bias.item() == 3 and ref.abs_conv.item() == 4
    u = 2.0**-24
    gamma = 3 * u / (1 - 3 * u)
    assert error_bound(case, ref).item() == pytest.approx(gamma * 4 + u * (3 + 4), rel=1e-15)


def test_float64_and_half_roundoffs() -> None:
    for dtype, u_acc, u_out in (("float64", 2.0**-53, 2.0**-53), ("float16", 2.0**-24, 2.0**-11),
                                ("bfloat16", 2.0**-24, 2.0**-8)):
        case = make_case(dtype=dtype, in_channels=1, out_channels=1, kernel_size=1, input_size=1,
                         data="ones")
        ref = reference(case, make_tensors(case, 0))
        gamma = 2 * u_acc / (1 - 2 * u_acc)
        assert error_bound(case, ref).item() == pytest.approx(gamma * 2 + u_out * (1 + 2), rel=1e-15)


def test_tolerance_override() -> None:
    case = make_case(tolerance={"rtol": 0.5, "atol": 1.0})
    ref = reference(case, make_tensors(case, 0))
    np.testing.assert_array_equal(error_bound(case, ref), 1.0 + 0.5 * np.abs(ref.out))


def test_match_row_has_every_column() -> None:
    case = make_case()
    row = judge(case, *ran(case))
    assert (row.op, row.rank, row.ref_pad_front, row.pad_top, row.pad_right) == ("conv", 2, None, 0, 0)
    assert (row.status, row.expected, row.passed, row.mismatch_on) == ("match", "match", True, None)
    assert row.ref_shape == row.out_shape == "1x3x4x4" and row.err_bound_ratio == 0.0
    assert row.pad_asymmetric is False


def test_values_beyond_the_bound_mismatch_and_locate_the_worst() -> None:
    case = make_case()
    ref, outcome = ran(case)
    bound = error_bound(case, ref)
    y = ref.out.copy()
    y[0, 2, 1, 3] += 3 * bound[0, 2, 1, 3]
    y[0, 0, 0, 0] += 0.5 * bound[0, 0, 0, 0]
    outcome = replace(outcome, output=Output(y, "float32"))
    row = judge(case, ref, outcome)
    assert row.status == "mismatch" and row.mismatch_on == "values" and not row.passed
    assert row.err_bound_ratio == pytest.approx(3)
    assert row.worst_index == "0x2x1x3" and row.diff_map


def test_within_the_bound_matches() -> None:
    case = make_case()
    ref, outcome = ran(case)
    outcome = replace(outcome, output=Output(ref.out + 0.99 * error_bound(case, ref), "float32"))
    row = judge(case, ref, outcome)
    assert row.status == "match" and 0.98 < row.err_bound_ratio <= 1


def test_shape_dtype_and_params_mismatches() -> None:
    case = make_case()
    ref, outcome = ran(case, values=np.zeros((1, 3, 3, 3)), dtype="float16", params=5)
    row = judge(case, ref, outcome)
    assert row.status == "mismatch" and row.mismatch_on == "shape;dtype;params"
    assert row.max_abs_err is None


def test_nan_and_infinity_must_sit_at_the_same_places() -> None:
    case = make_case()
    ref, outcome = ran(case)
    y = ref.out.copy()
    y[0, 0, 0, 0] = math.nan
    outcome = replace(outcome, output=Output(y, "float32"))
    row = judge(case, ref, outcome)
    assert row.status == "mismatch" and row.err_bound_ratio == math.inf


def test_invalid_case_that_returns_output_is_a_shape_mismatch() -> None:
    case = make_case(kernel_size=9)
    ref = reference(case, make_tensors(case, 0))
    row = judge(case, ref, Outcome("jax", "ran", Output(np.zeros((1, 3, 0, 0)), "float32"), "native",
                                   expected_param_count(case)))
    assert (row.status, row.expected, row.mismatch_on, row.passed) == ("mismatch", "error", "shape", False)
    assert row.ref_shape is None


def test_expected_error_passes_and_a_now_matching_case_fails() -> None:
    case = make_case(expect={"torch": Expectation(status="error", reason="r")})
    ref, outcome = ran(case)
    row = judge(case, ref, outcome)
    assert (row.status, row.expected, row.passed, row.reason) == ("match", "error", False, "r")
    errored = judge(case, ref, Outcome("torch", "error", error_type="ValueError", error_message="no"))
    assert errored.passed and errored.error_message == "no"


def test_skipped_and_unsupported() -> None:
    case = make_case()
    ref = reference(case, make_tensors(case, 0))
    assert judge(case, ref, Outcome("jax", "skipped")).passed
    unsupported = judge(case, ref, Outcome("keras", "unsupported", error_message="why"))
    assert (unsupported.status, unsupported.passed, unsupported.verdict) == ("unsupported", True, "not applicable")


@pytest.mark.parametrize(("rule", "passed", "verdict"), [
    (None, True, "not applicable"),  # a declared limitation is a fact, not a failure
    ("unsupported", True, "not applicable"),  # recorded by the case: still passes
    ("match", False, "fail"),  # the case expects the adapter to run it
    ("error", False, "fail"),
])
def test_an_unsupported_pair_fails_only_when_its_case_expects_a_run(rule: str | None, passed: bool,
                                                                     verdict: str) -> None:
    case = make_case(expect={} if rule is None else {"keras": Expectation(status=rule, reason="r")})
    ref = reference(case, make_tensors(case, 0))
    row = judge(case, ref, Outcome("keras", "unsupported", error_message="keras cannot"))
    assert (row.passed, row.verdict) == (passed, verdict)
    back = judge_backward(make_case(grad=True), False, None, Outcome("scipy", "unsupported", error_message="no AD"))
    assert (back.passed, back.verdict, back.expected) == (True, "not applicable", "unsupported")


def test_verdicts_name_agreement_recorded_differences_and_failures() -> None:
    case = make_case(expect={"jax": Expectation(status="error", reason="jax refuses")})
    ref = reference(case, make_tensors(case, 0))
    assert judge(case, ref, Outcome("jax", "error", error_type="E", error_message="m")).verdict == "differ"
    assert judge(case, ref, Outcome("torch", "error", error_type="E", error_message="m")).verdict == "fail"
    invalid = make_case(kernel_size=9)
    ref = reference(invalid, make_tensors(invalid, 0))
    assert judge(invalid, ref, Outcome("torch", "error", error_type="E", error_message="m")).verdict == "agree"


@pytest.mark.parametrize(("pinned", "passed"), [
    ({}, True),
    ({"error_type": "ValueError"}, True),
    ({"error_type": "RuntimeError"}, False),
    ({"message": "strided conv"}, True),
    ({"message": "^strided"}, False),
    ({"error_type": "ValueError", "message": "not supported for strided"}, True),
])
def test_a_pinned_error_must_match_type_and_message(pinned: dict, passed: bool) -> None:
    case = make_case(expect={"torch": Expectation(status="error", **pinned)})
    ref = reference(case, make_tensors(case, 0))
    row = judge(case, ref, Outcome("torch", "error", error_type="ValueError",
                                   error_message="'same' is not supported for strided convolutions"))
    assert row.passed is passed
    assert row.expected_error == (None if not pinned else f"{pinned.get('error_type', '*')}: /{pinned.get('message', '')}/")


def test_parameter_counts_of_every_op_by_hand() -> None:
    """prod(k) * in * out / groups + bias * out: the same for conv, convolve and conv_transpose."""
    for op in ("conv", "convolve", "conv_transpose"):
        case = make_case(op=op, in_channels=4, out_channels=6, groups=2, kernel_size=[2, 3, 5], input_size=[7, 7, 7])
        assert expected_param_count(case) == 2 * 3 * 5 * 4 * 6 // 2 + 6 == 366
        assert terms(case) == 2 * 3 * 5 * 2 + 1


def test_tf32_bound_by_hand_and_the_strict_ratio_beside_it() -> None:
    """x = [1, 2], w = [1, 1], bias 1 in float32: A = 4, c = 3, out = 4; TF32 rounds operands to 2^-11."""
    case = make_case(in_channels=1, out_channels=1, input_size=[1, 2], kernel_size=[1, 2],
                     data={"input": "arange", "weights": "ones"}, precision="default")
    ref = reference(case, make_tensors(case, 0))
    u, u_in = 2.0**-24, 2.0**-11
    gamma = 3 * u / (1 - 3 * u)
    relaxed = (gamma + (2 * u_in + u_in**2) * (1 + gamma)) * 4 + u * (3 + 4)
    assert error_bound(case, ref, "tf32").item() == pytest.approx(relaxed, rel=1e-15)
    strict = error_bound(case, ref).item()
    _, outcome = ran(case, values=ref.out + 10 * strict)
    outcome = replace(outcome, precision="tf32")
    row = judge(case, ref, outcome)
    assert row.status == "match" and row.precision == "tf32"
    assert row.err_bound_ratio == pytest.approx(10 * strict / relaxed) and row.strict_err_bound_ratio == pytest.approx(10)
    outcome = replace(outcome, precision="float32")
    assert judge(case, ref, outcome).mismatch_on == "values"


def test_a_float64_backward_computed_in_float32_is_diagnosed_precision() -> None:
    """As the forward pass is: gradients within the bound of float32 sums and results (Keras on JAX
    computes float64 in float32) are `precision`; gradients off by more are `unexplained`."""
    from harness.judge.judge import lower_precision
    from harness.truth.gradients import cotangent, reference_gradients

    case = make_case(dtype="float64", grad=True, input_size=7)
    t = make_tensors(case, case.seed)
    g = cotangent(case, reference(case, t).out.shape, case.seed)
    grads = reference_gradients(case, t.input, t.weights, g)
    as_float32 = {name: grad.value.astype(np.float32).astype(np.float64) for name, grad in grads.items()}
    assert lower_precision(case, grads, as_float32, ["dx", "dw", "db"])[0] == "precision"
    off = {**as_float32, "dw": as_float32["dw"] + 1e-3}
    assert lower_precision(case, grads, off, ["dx", "dw", "db"]) == ("unexplained", None)
