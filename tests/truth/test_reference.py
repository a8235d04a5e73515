"""The float64 reference against scipy.signal.correlate2d, hand-computed outputs, and its own edge rules."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_case
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import correlate2d

import harness.truth.reference as reference_module
from harness.model import geometry
from harness.model.data import Tensors, make_tensors
from harness.truth.reference import invalid_reason, reference

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


# --- every op and rank ------------------------------------------------------------------

def nd_scipy(case, t: Tensors, fn) -> np.ndarray:
    """scipy.signal correlate/convolve in N-D, valid mode on the padded input, stride by slicing."""

    x = np.pad(t.input.astype(np.float64), ((0, 0), (0, 0), *geometry.conv_pads(case)), mode=MODES[case.padding_mode])
    w = t.weights.astype(np.float64)
    kernel = np.zeros((*w.shape[:2], *((k - 1) * d + 1 for k, d in zip(case.kernel_size, case.dilation))))
    kernel[(slice(None), slice(None), *(slice(None, None, d) for d in case.dilation))] = w
    per_out, per_in = case.out_channels // case.groups, w.shape[1]
    out = np.array([[sum(fn(x[n, (o // per_out) * per_in + c], kernel[o, c], mode="valid") for c in range(per_in))
                     for o in range(case.out_channels)] for n in range(x.shape[0])])
    out = out[(slice(None), slice(None), *(slice(None, None, s) for s in case.stride))]
    return out + (0 if t.bias is None else t.bias.reshape((1, -1) + (1,) * case.rank))


@settings(max_examples=80, deadline=None)
@given(data=st.data(), rank=st.sampled_from([1, 3]), op=st.sampled_from(["conv", "convolve"]))
def test_other_ranks_and_true_convolution_match_scipy(data: st.DataObject, rank: int, op: str) -> None:
    from scipy import signal

    def axes(lo: int, hi: int) -> st.SearchStrategy[list[int]]:
        return st.lists(st.integers(lo, hi), min_size=rank, max_size=rank)

    groups = data.draw(st.integers(1, 2))
    case = make_case(op=op, dtype="float64", groups=groups, in_channels=groups * data.draw(st.integers(1, 2)),
                     out_channels=groups * data.draw(st.integers(1, 2)), input_size=data.draw(axes(3, 6)),
                     kernel_size=data.draw(axes(1, 3)), stride=data.draw(axes(1, 2)), dilation=data.draw(axes(1, 2)),
                     padding=data.draw(st.sampled_from(["valid", "same", "full", "causal", "same_lower"])),
                     padding_mode=data.draw(st.sampled_from(list(MODES))))
    t = make_tensors(case, 3)
    ref = reference(case, t)
    if ref.invalid:
        return
    expected = nd_scipy(case, t, signal.convolve if op == "convolve" else signal.correlate)
    np.testing.assert_allclose(ref.out, expected, rtol=1e-12, atol=1e-12)


def test_scipy_convolve_full_from_the_seed_documents() -> None:
    """scipy.signal.convolve([1, 2, 3, 4], [1, 2, 3]) == [1, 4, 10, 16, 17, 12]."""
    case = make_case(op="convolve", in_channels=1, out_channels=1, input_size=[4], kernel_size=3, padding="full",
                     bias=False, data={"input": "arange", "weights": "arange"})
    assert reference(case, make_tensors(case, 0)).out.ravel().tolist() == [1, 4, 10, 16, 17, 12]


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, [1, 10, 2, 20, 3, 30]),                                   # full: (3-1)*2 + 2
    ({"padding": [[1, 2]]}, [10, 2, 20]),                          # crop 1 at the start, 2 at the end
    ({"output_padding": 1}, [1, 10, 2, 20, 3, 30, 0]),             # one zero appended
    ({"output_padding": 1, "padding": [[0, 1]]}, [1, 10, 2, 20, 3, 30]),  # the crop applies after it
    ({"dilation": 3, "stride": 1}, [1, 2, 3, 10, 20, 30]),         # taps 3 apart
    ({"padding": "same"}, [1, 10, 2, 20, 3, 30]),                  # t = max(2 - 2, 0): in*s = 6
])
def test_transposed_by_hand(fields: dict, expected: list[int]) -> None:
    """Input [1, 2, 3], kernel [1, 10], stride 2: input i lands at i*s + tap*d."""
    case = make_case(op="conv_transpose", in_channels=1, out_channels=1, input_size=[3], kernel_size=2, bias=False,
                     data={"input": "arange", "weights": "ones"}, **{"stride": 2, **fields})
    t = make_tensors(case, 0)
    t = Tensors(t.input, np.array([[[1.0, 10.0]]], dtype=np.float32), None)
    assert reference(case, t).out.ravel().tolist() == expected


@settings(max_examples=60, deadline=None)
@given(data=st.data(), rank=st.integers(1, 3))
def test_transposed_is_the_adjoint_of_conv(data: st.DataObject, rank: int) -> None:
    """<conv(x, w), g> == <x, conv_transpose(g, w)> with the same weights (valid, no crops)."""
    def axes(lo: int, hi: int) -> st.SearchStrategy[list[int]]:
        return st.lists(st.integers(lo, hi), min_size=rank, max_size=rank)

    groups = data.draw(st.integers(1, 2))
    common = dict(dtype="float64", bias=False, groups=groups, kernel_size=data.draw(axes(1, 3)),
                  stride=data.draw(axes(1, 3)), dilation=data.draw(axes(1, 2)))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    forward = make_case(in_channels=cin, out_channels=cout, input_size=data.draw(axes(4, 7)), **common)
    f = reference(forward, make_tensors(forward, 1))
    if f.invalid:
        return
    back = make_case(op="conv_transpose", in_channels=cout, out_channels=cin, input_size=list(f.out.shape[2:]), **common)
    x, w = make_tensors(forward, 1).input.astype(np.float64), make_tensors(forward, 1).weights.astype(np.float64)
    g = np.random.default_rng(2).standard_normal(f.out.shape)
    y = reference(forward, Tensors(x, w, None)).out
    xt = reference(back, Tensors(g, w, None)).out
    shared = (slice(None), slice(None), *(slice(0, min(a, b)) for a, b in zip(x.shape[2:], xt.shape[2:])))
    np.testing.assert_allclose(np.sum(y * g), np.sum(x[shared] * xt[shared]), rtol=1e-10)  # unread rows: no term


def test_transposed_with_zero_input_channels_is_the_bias() -> None:
    """Found by the fuzzer: 0 input channels made the transposed reference's reshape ambiguous."""
    case = make_case(op="conv_transpose", in_channels=0, out_channels=2, input_size=[3], kernel_size=2, stride=2)
    t = make_tensors(case, 0)
    ref = reference(case, t)
    assert ref.shape == (1, 2, 6)
    np.testing.assert_array_equal(ref.out, np.broadcast_to(t.bias.astype(np.float64)[None, :, None], ref.shape))
