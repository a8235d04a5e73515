"""op: separable (depthwise, then 1x1 pointwise, one bias): its reference against a direct loop, its
gradients against finite differences, its bound against float32 arithmetic done the frameworks' way,
its parameter count and its shapes by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import make_case
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model import ops
from harness.model.data import Tensors, make_tensors, probe_tensors
from harness.truth.bounds import error_bound
from harness.truth.gradients import cotangent, reference_gradients
from harness.truth.reference import reference


def direct(case, x: np.ndarray, w: np.ndarray, pw: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """y[n, o, p] = sum over c, j of pw[o, c*m + j] * sum over taps t of w[c*m + j, 0, t] x_pad[n, c, p*s + t*d] + b[o]."""
    pads = ops.pads(case)
    xp = np.pad(x, ((0, 0), (0, 0), *pads), mode=ops.NUMPY_PAD_MODES[case.padding_mode])
    m, out = case.depth_multiplier, ops.output_spatial(case)
    y = np.zeros((x.shape[0], case.out_channels, *out))
    for n, o, c, j in itertools.product(range(x.shape[0]), range(case.out_channels), range(case.in_channels), range(m)):
        for p in itertools.product(*(range(v) for v in out)):
            for t in itertools.product(*(range(k) for k in case.kernel_size)):
                at = tuple(pi * s + ti * d for pi, ti, s, d in zip(p, t, case.stride, case.dilation))
                y[(n, o, *p)] += pw[(o, c * m + j, *(0,) * case.rank)] * w[(c * m + j, 0, *t)] * xp[(n, c, *at)]
    return y if b is None else y + b.reshape((1, -1) + (1,) * case.rank)


def separable_case(data: st.DataObject, rank: int, seed: int, dtype: str = "float64"):
    """A drawn separable case, its operands and its reference; None for an invalid configuration."""
    axes = lambda lo, hi: st.lists(st.integers(lo, hi), min_size=rank, max_size=rank)  # noqa: E731
    padding = data.draw(st.one_of(st.sampled_from(["valid", "same", "same_lower", "full", "causal"]),
                                  st.lists(st.lists(st.integers(0, 2), min_size=2, max_size=2), min_size=rank,
                                           max_size=rank)))
    case = make_case(op="separable", dtype=dtype, batch=data.draw(st.integers(1, 2)), in_channels=data.draw(st.integers(1, 3)),
                     out_channels=data.draw(st.integers(1, 3)), depth_multiplier=data.draw(st.integers(1, 3)),
                     input_size=data.draw(axes(3, 6)), kernel_size=data.draw(axes(1, 3)), stride=data.draw(axes(1, 2)),
                     dilation=data.draw(axes(1, 2)), padding=padding, bias=data.draw(st.booleans()),
                     padding_mode=data.draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])))
    t = make_tensors(case, seed)
    ref = reference(case, t)
    return None if ref.invalid else (case, t, ref)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rank=st.integers(1, 2))
def test_reference_is_the_direct_sum(data: st.DataObject, rank: int) -> None:
    drawn = separable_case(data, rank, 3)
    if drawn is None:
        return
    case, t, ref = drawn
    np.testing.assert_allclose(ref.out, direct(case, t.input, t.weights, t.pointwise, t.bias), rtol=1e-12, atol=1e-12)
    no_abs = direct(case, np.abs(t.input), np.abs(t.weights), np.abs(t.pointwise), None if t.bias is None else np.abs(t.bias))
    np.testing.assert_allclose(ref.abs_conv, no_abs, rtol=1e-12, atol=1e-12)  # A through both stages


def loss(case, t: Tensors, g: np.ndarray) -> float:
    return float(np.sum(reference(case, t).out * g))


@settings(max_examples=30, deadline=None)
@given(data=st.data(), rank=st.integers(1, 2))
def test_gradients_match_finite_differences(data: st.DataObject, rank: int) -> None:
    """L is linear in each operand, so a central difference of step 1 is exact up to rounding."""
    drawn = separable_case(data, rank, 5)
    if drawn is None:
        return
    case, t, ref = drawn
    g = cotangent(case, ref.out.shape, 5)
    grads = reference_gradients(case, t.input, t.weights, g, t.pointwise)
    assert set(grads) == set(ops.gradient_names(case))
    for name, field in (("dx", "input"), ("dw", "weights"), ("dpw", "pointwise"), ("db", "bias")):
        if name not in grads:
            continue
        array = getattr(t, field)
        fd = np.zeros(array.shape)
        for index in np.ndindex(*array.shape):
            hi, lo = array.copy(), array.copy()
            hi[index] += 0.5
            lo[index] -= 0.5
            fd[index] = loss(case, Tensors(**{**vars(t), field: hi}), g) - loss(case, Tensors(**{**vars(t), field: lo}), g)
        np.testing.assert_allclose(grads[name].value, fd, rtol=1e-9, atol=1e-9, err_msg=name)
        assert np.all(grads[name].abs_value >= np.abs(grads[name].value) - 1e-12)
        assert grads[name].stages == (1 if name == "db" else 2)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rank=st.integers(1, 2))
def test_float32_in_two_roundings_stays_within_the_bound(data: st.DataObject, rank: int) -> None:
    """The frameworks' way: the depthwise sum in float32, rounded, then the pointwise sum in float32."""
    drawn = separable_case(data, rank, 7, "float32")
    if drawn is None:
        return
    case, t, ref = drawn
    depthwise, pointwise = ops.separable_stages(case)
    z = reference(depthwise, Tensors(t.input, t.weights, None)).out.astype(np.float32)
    y = reference(pointwise, Tensors(z, t.pointwise, t.bias)).out.astype(np.float32)
    assert np.all(np.abs(y - ref.out) <= error_bound(case, ref))


def test_the_rounding_between_the_stages_is_what_the_second_stage_term_covers() -> None:
    """float16 by hand: z1 = (1 + 2^-10)^2 = 1 + 2^-9 + 2^-20 rounds to 1 + 2^-9 = z2, so pw = [1, -1]
    gives 0 for 2^-20. A one-stage bound (float32 sums, cancellation in |c|) does not allow that error;
    the two-stage bound does (its (1 + u_out) factor between the sums)."""
    from harness.truth import bounds

    e = 2.0**-10
    case = make_case(op="separable", dtype="float16", in_channels=2, out_channels=1, input_size=[1], kernel_size=1,
                     bias=False, layout="channels_first")
    t = Tensors(np.array([[[1 + e], [1.0]]], np.float16), np.array([[[1 + e]], [[1 + 2 * e]]], np.float16), None,
                np.array([[[1.0], [-1.0]]], np.float16))
    ref = reference(case, t)
    assert ref.out.ravel().tolist() == [2.0**-20]
    depthwise, pointwise = ops.separable_stages(case)
    z = reference(depthwise, Tensors(t.input, t.weights, None)).out.astype(np.float16)  # rounded between the sums
    y = reference(pointwise, Tensors(z, t.pointwise, None)).out.astype(np.float16)
    error = np.abs(y - ref.out)
    assert y.ravel().tolist() == [0.0]
    one_stage = bounds.forward(ops.terms(case), case.dtype, ref.abs_conv, ref.no_bias, ref.out, stages=1)
    assert np.all(error > one_stage) and np.all(error <= error_bound(case, ref))


def test_shapes_parameters_and_terms_by_hand() -> None:
    """3 channels, multiplier 2, a 3x3 kernel, 4 outputs: 6*9 depthwise + 4*6 pointwise + 4 bias = 82."""
    case = make_case(op="separable", in_channels=3, out_channels=4, depth_multiplier=2, kernel_size=3, input_size=[7, 6])
    assert ops.weight_shape(case) == (6, 1, 3, 3) and ops.pointwise_shape(case) == (4, 6, 1, 1)
    assert ops.expected_param_count(case) == 82
    assert ops.terms(case) == 9 + 6 + 1 and ops.stages(case) == 2
    assert ops.output_spatial(case) == (5, 4)
    assert ops.gradient_names(case) == ("dx", "dw", "dpw", "db")
    assert ops.pointwise_shape(make_case()) is None


def test_a_two_stage_bound_by_hand() -> None:
    """((1 + g)(1 + u)^0 ... ): one stage is gamma_n A; two add the rounding between them, (1 + g)(1 + u) - 1."""
    from harness.truth import bounds

    u = 2.0**-24
    a, c, y = np.array([2.0]), np.array([0.0]), np.array([0.0])
    g = bounds.gamma(16, u)
    assert bounds.forward(16, "float32", a, c, y, stages=2)[0] == pytest.approx(((1 + g) * (1 + u) - 1) * 2, rel=1e-12)


def test_the_probe_passes_channel_0_through_both_kernels() -> None:
    case = make_case(op="separable", in_channels=2, out_channels=3, depth_multiplier=2, padding=1)
    probe = probe_tensors(case, (1, 1))
    out = reference(case, probe).out
    np.testing.assert_array_equal(out[0, 0], probe.input[0, 0])  # the centre tap with pads of 1: the input itself
    assert not out[0, 1:].any()
