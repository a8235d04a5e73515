"""The float64 reference against scipy.signal.correlate2d, hand-computed outputs, and its own edge rules."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_case
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import correlate2d

import harness.reference as reference_module
from harness.data import Tensors, make_tensors
from harness.reference import invalid_reason, reference

MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def scipy_conv(case, t: Tensors) -> np.ndarray:
    """Direct loops over scipy's 2-D correlation: one (batch, out channel, in channel) at a time."""
    x, w = t.input.astype(np.float64), t.weights.astype(np.float64)
    (top, bottom), (left, right) = case.padding if isinstance(case.padding, tuple) else ((0, 0), (0, 0))
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=MODES[case.padding_mode])
    groups, per_group = case.groups, w.shape[1]
    per_out = case.out_channels // groups
    (dh, dw), (sh, sw) = case.dilation, case.stride
    kernel = np.zeros((w.shape[0], per_group, (w.shape[2] - 1) * dh + 1, (w.shape[3] - 1) * dw + 1))
    kernel[:, :, ::dh, ::dw] = w  # dilation = a kernel with holes
    rows = []
    for n in range(x.shape[0]):
        chans = []
        for o in range(case.out_channels):
            g = o // per_out
            acc = sum(correlate2d(x[n, g * per_group + c], kernel[o, c], mode="valid") for c in range(per_group))
            chans.append(acc[::sh, ::sw] + (t.bias[o] if t.bias is not None else 0))
        rows.append(chans)
    return np.array(rows, dtype=np.float64)


@settings(max_examples=120, deadline=None)
@given(n=st.integers(1, 2), groups=st.integers(1, 3), cpg=st.integers(1, 2), opg=st.integers(1, 2),
       h=st.integers(3, 8), w=st.integers(3, 8), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 2), dh=st.integers(1, 2), dw=st.integers(1, 2),
       pads=st.lists(st.integers(0, 2), min_size=4, max_size=4),
       mode=st.sampled_from(list(MODES)), bias=st.booleans(), seed=st.integers(0, 1000))
def test_matches_scipy(n, groups, cpg, opg, h, w, kh, kw, sh, sw, dh, dw, pads, mode, bias, seed) -> None:
    case = make_case(batch=n, in_channels=groups * cpg, out_channels=groups * opg, groups=groups,
                     input_size=[h, w], kernel_size=[kh, kw], stride=[sh, sw], dilation=[dh, dw],
                     padding=[pads[:2], pads[2:]], padding_mode=mode, bias=bias, dtype="float64")
    t = make_tensors(case, seed)
    ref = reference(case, t)
    if ref.invalid:
        assert min(h + pads[0] + pads[1] - (kh - 1) * dh, w + pads[2] + pads[3] - (kw - 1) * dw) < 1
        return
    np.testing.assert_allclose(ref.out, scipy_conv(case, t), rtol=1e-12, atol=1e-12)
    abs_t = Tensors(np.abs(t.input), np.abs(t.weights), None if t.bias is None else np.abs(t.bias))
    np.testing.assert_allclose(ref.abs_conv, scipy_conv(case, abs_t), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ref.out - ref.no_bias, 0 if t.bias is None else t.bias[None, :, None, None] + 0 * ref.out)


@pytest.mark.parametrize(("kernel", "stride", "padding", "expected"), [
    (5, 1, "valid", [15, 20, 25, 30, 35]),
    (5, 1, "same", [6, 10, 15, 20, 25, 30, 35, 30, 24]),
    (6, 1, "valid", [21, 27, 33, 39]),
    (6, 1, "same", [10, 15, 21, 27, 33, 39, 35, 30, 24]),
    (5, 2, "valid", [15, 25, 35]),
    (5, 2, "same", [6, 15, 25, 35, 24]),
    (6, 2, "valid", [21, 33]),
    (6, 2, "same", [10, 21, 33, 35, 24]),
])
def test_conv1d_demo_on_1_to_9(kernel: int, stride: int, padding: str, expected: list[int]) -> None:
    """The seed document's Conv1D demonstration: input 1..9, a ones kernel, no bias."""
    case = make_case(in_channels=1, out_channels=1, input_size=[1, 9], kernel_size=[1, kernel],
                     stride=[1, stride], padding=padding, bias=False, data={"input": "arange", "weights": "ones"})
    assert reference(case, make_tensors(case, 0)).out.ravel().tolist() == expected


def test_unfold_4x4_by_hand() -> None:
    case = make_case(in_channels=1, out_channels=1, input_size=4, kernel_size=3, bias=False,
                     data={"input": "arange", "weights": "ones"})
    assert reference(case, make_tensors(case, 0)).out[0, 0].tolist() == [[54, 63], [90, 99]]


def test_zero_batch_and_zero_input_channels() -> None:
    empty = make_case(batch=0)
    assert reference(empty, make_tensors(empty, 0)).shape == (0, 3, 4, 4)
    no_channels = make_case(in_channels=0)
    t = make_tensors(no_channels, 0)
    ref = reference(no_channels, t)
    assert ref.shape == (1, 3, 4, 4)
    np.testing.assert_array_equal(ref.out, np.broadcast_to(t.bias.astype(np.float64)[None, :, None, None], ref.shape))


@pytest.mark.parametrize(("fields", "reason"), [
    ({"kernel_size": 7}, "the padded input is smaller than the dilated kernel"),
    ({"kernel_size": 3, "dilation": 3}, "the padded input is smaller than the dilated kernel"),
    ({"kernel_size": 7, "padding": 1}, None),
    ({"kernel_size": 9, "padding": "same"}, None),
    ({"groups": 4}, "groups=4 does not divide in_channels=2 and out_channels=3"),
    ({"groups": 0}, "groups below 1"),
    ({"stride": 0}, "stride below 1"),
    ({"out_channels": 0}, "out_channels below 1"),
    ({"input_size": [0, 5]}, "input_size below 1"),
    ({"batch": 0}, None),
    ({"in_channels": 0}, None),
])
def test_invalid_configurations(fields: dict, reason: str | None) -> None:
    assert invalid_reason(make_case(**fields)) == reason


def test_chunking_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    case = make_case(batch=5, in_channels=4, out_channels=6, groups=2, input_size=9, stride=2, padding="same")
    t = make_tensors(case, 1)
    whole = reference(case, t)
    monkeypatch.setattr(reference_module, "CHUNK_BYTES", 1)  # one batch item per chunk
    chunked = reference(case, t)
    np.testing.assert_array_equal(whole.out, chunked.out)
    np.testing.assert_array_equal(whole.abs_conv, chunked.abs_conv)


def test_consumes_the_rounded_values() -> None:
    case = make_case(dtype="bfloat16")
    t = make_tensors(case, 3)
    assert t.input.dtype.name == "bfloat16"
    direct = reference(make_case(dtype="float64"), Tensors(*(a.astype(np.float64) for a in (t.input, t.weights, t.bias))))
    np.testing.assert_array_equal(reference(case, t).out, direct.out)
