"""The bounds, against hand-computed values: gamma, forward (with TF32), gradients (folds only where they fold)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_case

from harness.model.data import make_tensors
from harness.truth import bounds
from harness.truth.bounds import error_bound
from harness.truth.gradients import Gradient
from harness.truth.reference import reference

U32, U16 = 2.0**-24, 2.0**-11


def test_gamma_by_hand() -> None:
    assert bounds.gamma(3, U32) == 3 * U32 / (1 - 3 * U32)
    assert bounds.gamma(0, U32) == 0
    assert bounds.gamma(2**11, U16) == float("inf")  # n u = 1: no bound at all


def test_forward_bound_by_hand() -> None:
    """gamma_n A + u_out (|c| + |y|), and with TF32 operands (u_in = 2^-11) the product term on top."""
    a, c, y = np.array([2.0]), np.array([-1.0]), np.array([0.5])
    g = 28 * U32 / (1 - 28 * U32)
    assert bounds.forward(28, "float32", a, c, y)[0] == g * 2 + U32 * 1.5
    u_in = 2.0**-11
    assert bounds.forward(28, "float32", a, c, y, "tf32")[0] == (g + (2 * u_in + u_in**2) * (1 + g)) * 2 + U32 * 1.5
    assert bounds.forward(28, "float16", a, c, y)[0] == g * 2 + U16 * 1.5  # halves accumulate in float32


def test_the_compare_bound_is_the_bounds_module() -> None:
    case = make_case(dtype="float16", padding=1)
    ref = reference(case, make_tensors(case, 0))
    assert np.array_equal(error_bound(case, ref), bounds.forward(2 * 9 + 1, "float16", ref.abs_conv, ref.no_bias,
                                                                 ref.out))


@pytest.mark.parametrize(("folds", "extra"), [(1, 0.0), (3, 2 * U16 * 4.0)])
def test_a_gradient_bound_adds_fold_roundings_only_where_a_pad_folds(folds: int, extra: float) -> None:
    """A float16 gradient: gamma_n A + u |g|, plus (folds - 1) u A. The term once stood even without a
    fold (u A: for float16 about 200x gamma_36 A), which hid half-precision accumulation."""
    value, absolute = np.array([1.5]), np.array([4.0])
    g = 36 * U32 / (1 - 36 * U32)
    expected = g * 4.0 + U16 * 1.5 + extra
    assert bounds.gradient(36, "float16", value, absolute, folds)[0] == pytest.approx(expected, rel=1e-15)
    assert Gradient(value, absolute, 36, folds).bound(make_case(dtype="float16"))[0] == pytest.approx(expected, rel=1e-15)


def test_half_accumulation_is_what_the_precision_diagnosis_allows() -> None:
    value, absolute = np.array([1.0]), np.array([8.0])
    assert bounds.gradient(36, "float16", value, absolute, u_acc=U16)[0] == pytest.approx(
        36 * U16 / (1 - 36 * U16) * 8.0 + U16, rel=1e-15)


def test_a_sum_too_long_for_its_precision_has_an_infinite_bound_not_nan() -> None:
    """390 terms at bfloat16's u = 2^-8 (n u = 1.5): gamma is infinite, so is the bound, forward and gradient, with
    or without a second stage (it was NaN with one stage, inf * 0, and the precision diagnosis then called a
    bfloat16 bias gradient's error unexplained)."""
    u = 2.0 ** -8
    assert bounds.gamma(390, u) == float("inf")
    ones = np.ones(2)
    for stages in (1, 2):
        assert np.all(np.isposinf(bounds.gradient(390, "bfloat16", ones, ones, u_acc=u, stages=stages)))
        assert np.all(np.isposinf(bounds.forward(390, "bfloat16", ones, ones, ones, u_acc=u, stages=stages)))
