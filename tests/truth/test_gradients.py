"""Reference gradients against finite differences of the reference forward pass, and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_case
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model.data import Tensors, make_tensors
from harness.truth.gradients import cotangent, reference_gradients
from harness.truth.reference import reference


def loss(case, x, w, b, g) -> float:
    return float(np.sum(reference(case, Tensors(x, w, b)).out * g))


def finite_differences(case, t: Tensors, g: np.ndarray) -> dict[str, np.ndarray]:
    """Central differences; L is linear in each operand, so they are exact up to rounding."""
    x, w, b = (a.astype(np.float64) for a in (t.input, t.weights, t.bias))
    out = {}
    for name, array in (("dx", x), ("dw", w), ("db", b)):
        grad = np.zeros_like(array)
        for index in np.ndindex(*array.shape):
            hi, lo = array.copy(), array.copy()
            hi[index] += 0.5
            lo[index] -= 0.5
            args = {"dx": (hi, w, b), "dw": (x, hi, b), "db": (x, w, hi)}[name]
            args_lo = {"dx": (lo, w, b), "dw": (x, lo, b), "db": (x, w, lo)}[name]
            grad[index] = loss(case, *args, g) - loss(case, *args_lo, g)
        out[name] = grad
    return out


@settings(max_examples=60, deadline=None)
@given(data=st.data(), op=st.sampled_from(["conv", "convolve", "conv_transpose"]), rank=st.integers(1, 2))
def test_gradients_match_finite_differences(data: st.DataObject, op: str, rank: int) -> None:
    def axes(lo: int, hi: int) -> st.SearchStrategy[list[int]]:
        return st.lists(st.integers(lo, hi), min_size=rank, max_size=rank)

    groups = data.draw(st.integers(1, 2))
    words = ["valid", "same", "same_lower"] + (["full", "causal"] if op != "conv_transpose" else [])
    padding = data.draw(st.one_of(st.sampled_from(words), st.lists(st.lists(st.integers(0, 2), min_size=2, max_size=2),
                                                                    min_size=rank, max_size=rank)))
    stride = data.draw(axes(1, 3))
    extra = {"output_padding": [data.draw(st.integers(0, s - 1)) for s in stride]} if op == "conv_transpose" else {
        "padding_mode": data.draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))}
    case = make_case(op=op, dtype="float64", batch=data.draw(st.integers(1, 2)), groups=groups,
                     in_channels=groups * data.draw(st.integers(1, 2)), out_channels=groups * data.draw(st.integers(1, 2)),
                     input_size=data.draw(axes(3, 6)), kernel_size=data.draw(axes(1, 3)), stride=stride,
                     dilation=data.draw(axes(1, 2)), padding=padding, **extra)
    t = make_tensors(case, 4)
    ref = reference(case, t)
    if ref.invalid:
        return
    g = cotangent(case, ref.out.shape, 4)
    grads = reference_gradients(case, t.input, t.weights, g)
    fd = finite_differences(case, t, g)
    for name in ("dx", "dw", "db"):
        np.testing.assert_allclose(grads[name].value, fd[name], rtol=1e-9, atol=1e-9, err_msg=name)
        assert np.all(grads[name].abs_value >= np.abs(grads[name].value) - 1e-12)


def test_gradients_by_hand() -> None:
    """1-D: x = [1, 2, 3], w = [1, 10], stride 1, valid: y = [21, 32]; g = [1, 1]."""
    case = make_case(in_channels=1, out_channels=1, input_size=[3], kernel_size=2, bias=True, dtype="float64")
    x, w, b = np.array([[[1.0, 2, 3]]]), np.array([[[1.0, 10]]]), np.array([0.5])
    assert reference(case, Tensors(x, w, b)).out.ravel().tolist() == [21.5, 32.5]
    grads = reference_gradients(case, x, w, np.ones((1, 1, 2)))
    assert grads["dx"].value.ravel().tolist() == [1, 11, 10]  # x0 meets w0; x1 meets w1 and w0; x2 meets w1
    assert grads["dw"].value.ravel().tolist() == [3, 5]  # x0 + x1, x1 + x2
    assert grads["db"].value.tolist() == [2]
    assert (grads["dx"].terms, grads["dw"].terms, grads["db"].terms) == (2, 2, 2)


def test_reflect_padding_folds_gradients_back() -> None:
    """x = [1, 2, 3] reflect-padded by 1 is [2, 1, 2, 3, 2]; a 1-tap kernel of ones, g = ones:
    x1 is read three times (both pads and itself)."""
    case = make_case(in_channels=1, out_channels=1, input_size=[3], kernel_size=1, padding=1, padding_mode="reflect",
                     bias=False, dtype="float64")
    grads = reference_gradients(case, np.array([[[1.0, 2, 3]]]), np.ones((1, 1, 1)), np.ones((1, 1, 5)))
    assert grads["dx"].value.ravel().tolist() == [1, 3, 1] and grads["dx"].folds == 3


@pytest.mark.parametrize("op", ["conv", "conv_transpose"])
def test_bounds_are_positive_and_cover_rounding(op: str) -> None:
    case = make_case(op=op, dtype="float32", stride=2, padding=1, **({"output_padding": 1} if op == "conv_transpose" else {}))
    t = make_tensors(case, 0)
    g = cotangent(case, reference(case, t).out.shape, 0)
    for grad in reference_gradients(case, t.input, t.weights, g).values():
        assert np.all(grad.bound(case) >= 0) and grad.terms >= 1
