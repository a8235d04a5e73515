"""Output sizes and pads: hand-computed values, and the probe read back through the reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import make_case
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model import geometry, ops
from harness.model.data import make_tensors, probe_tensors
from harness.truth.reference import reference


@pytest.mark.parametrize(("size", "kernel", "stride", "dilation", "upper"), [
    (7, 4, 2, 1, (1, 2)),   # Keras 'same', kernel 4, stride 2 on 7: out 4, total 3
    (9, 6, 2, 1, (2, 3)),   # the Conv1D demo: out 5, total 5
    (9, 5, 1, 1, (2, 2)),
    (8, 3, 2, 1, (0, 1)),   # even input, odd kernel, stride 2: out 4, total 1
    (8, 1, 2, 1, (0, 0)),
    (6, 3, 1, 2, (2, 2)),   # dilation 2: extent 5
    (6, 2, 1, 3, (1, 2)),   # dilation 3: extent 4, total 3
    (3, 7, 1, 1, (3, 3)),   # kernel larger than the input
    (5, 3, 5, 1, (0, 0)),   # stride larger than the kernel: out 1, total max(-2, 0)
])
def test_same_pads_by_hand(size: int, kernel: int, stride: int, dilation: int, upper: tuple[int, int]) -> None:
    assert geometry.same_pads(size, kernel, stride, dilation) == upper
    assert geometry.same_pads(size, kernel, stride, dilation, lower=True) == upper[::-1]


@pytest.mark.parametrize(("args", "out"), [
    ((50, 3, 2, 1, 0, 0), 24), ((100, 3, 2, 1, 0, 0), 49),   # nn.Conv2d(16, 33, 3, stride=2) on 50x100
    ((50, 3, 2, 1, 4, 4), 28), ((100, 5, 1, 1, 2, 2), 100),  # (3, 5), stride (2, 1), padding (4, 2)
    ((50, 3, 2, 3, 4, 4), 26),                               # ... with dilation (3, 1)
    ((28, 3, 1, 1, 0, 0), 26), ((28, 3, 1, 1, 1, 1), 28), ((28, 5, 2, 1, 2, 2), 14),
    ((4, 3, 1, 1, 0, 0), 2), ((9, 6, 2, 1, 0, 0), 2),
    ((5, 7, 1, 1, 0, 0), None), ((5, 7, 1, 1, 1, 1), 1), ((5, 3, 0, 1, 0, 0), None),
])
def test_out_size_by_hand(args: tuple[int, ...], out: int | None) -> None:
    assert geometry.out_size(*args) == out


def test_consumed_high_can_be_smaller_or_negative() -> None:
    assert geometry.consumed_high(9, 6, 2, 1, 0, 2) == -1   # valid k=6 s=2 on 9: row 9 never read
    assert geometry.consumed_high(28, 3, 2, 1, 1, 14) == 0  # padding 1 requested, stride skips it
    assert geometry.consumed_high(7, 4, 2, 1, 1, 4) == 2


def test_low_from_probe() -> None:
    assert geometry.low_from_probe(0, 1, 2) == 0      # output row 0 read input row 1
    assert geometry.low_from_probe(1, 1, 2) == 2      # row 0 read padding; row 1 (padded 2) read input row 1
    assert geometry.low_from_probe(0, 2, 1, tap=3, dilation=1) == 2


def test_probe_taps() -> None:
    assert geometry.probe_taps((3, 3))[:4] == [(0, 0), (1, 1), (2, 2), (0, 1)]
    assert geometry.probe_taps((2,)) == [(0,), (1,)]
    assert sorted(geometry.probe_taps((3, 3))) == [(a, b) for a in range(3) for b in range(3)]
    assert geometry.probe_taps((1, 1)) == [(0, 0)]
    assert len(geometry.probe_taps((11, 11))) == geometry.MAX_PROBE_TAPS


@settings(max_examples=400, deadline=None)
@given(data=st.data(), op=st.sampled_from(["conv", "convolve", "conv_transpose"]), rank=st.integers(1, 3))
def test_probe_reads_back_the_reference_pads(data: st.DataObject, op: str, rank: int) -> None:
    """The reference run on the probe operands yields exactly the pads (or crops) it applied, for every op and rank."""
    axes = st.lists(st.integers(1, 3), min_size=rank, max_size=rank)
    size = data.draw(st.lists(st.integers(1, 7 if rank < 3 else 4), min_size=rank, max_size=rank))
    kernel, stride, dilation = data.draw(axes), data.draw(axes), data.draw(axes)
    words = ["valid", "same", "same_lower"] + (["full", "causal"] if op != "conv_transpose" else [])
    padding = data.draw(st.one_of(st.sampled_from(words), st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2),
                                                                    min_size=rank, max_size=rank)))
    extra = {}
    if op == "conv_transpose":
        extra["output_padding"] = [data.draw(st.integers(0, s_ - 1)) for s_ in stride]
    case = make_case(op=op, input_size=size, kernel_size=kernel, stride=stride, dilation=dilation, padding=padding,
                     in_channels=1, out_channels=1, **extra)
    ref = reference(case, make_tensors(case, 0))
    if ref.invalid:
        return
    for tap in geometry.probe_taps(case.kernel_size):
        probe = probe_tensors(case, tap)
        assert probe is not None
        plane = reference(case, probe).out[0, 0]
        pads = geometry.measured_pads(plane, case, ops.effective_tap(case, tap))
        if pads is not None:
            assert pads == ref.pads
            return
    # None only when no output holds any input through any tap (dilation or crops skip it all)
    for tap in itertools.product(*(range(k) for k in kernel)):
        assert not reference(case, probe_tensors(case, tap)).out[0, 0].any(), f"tap {tap} reads the input"


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "dilation", "crops", "out"), [
    (5, 3, 2, "valid", 1, (0, 0), 11),     # full (5-1)*2 + 3
    (5, 3, 2, "same", 1, (0, 1), 10),      # t = 1: in*s = 10
    (5, 4, 2, "same", 1, (1, 1), 10),      # t = 2
    (5, 4, 2, "same_lower", 1, (1, 1), 10),
    (5, 3, 2, "same_lower", 1, (1, 0), 10),
    (4, 2, 3, "same", 1, (0, -1), 12),     # kernel below stride: t = 0, in*s = 12 > full 11: zeros after
    (6, 3, 1, "same", 2, (2, 2), 6),       # dilated extent 5, stride 1
    (5, 3, 2, [[1, 2]], 1, (1, 2), 8),
])
def test_transpose_crops_by_hand(size: int, kernel: int, stride: int, padding: object, dilation: int,
                                 crops: tuple[int, int], out: int) -> None:
    case = make_case(op="conv_transpose", input_size=[size], kernel_size=kernel, stride=stride, padding=padding,
                     dilation=dilation)
    assert geometry.transpose_crops(case) == (crops,)
    assert ops.output_spatial(case) == (out,)


def test_full_and_causal_pads_by_hand() -> None:
    assert geometry.conv_pads(make_case(input_size=[9], kernel_size=3, dilation=2, padding="full")) == ((4, 4),)
    assert geometry.conv_pads(make_case(input_size=[9], kernel_size=3, dilation=2, padding="causal")) == ((4, 0),)
    assert geometry.conv_pads(make_case(input_size=[4, 5, 6], kernel_size=[1, 2, 3], padding="full")) == (
        (0, 0), (1, 1), (2, 2))


def test_probe_decodes_three_axes() -> None:
    plane = geometry.probe_input((2, 3, 4))
    assert geometry.decode(int(plane[1, 2, 3]), (2, 3, 4)) == [2, 3, 4]
    assert geometry.probe_max((2, 3, 4)) == 3 * 4 * 5 - 1 == plane.max()
    assert len(np.unique(plane)) == plane.size


def test_probe_encoding_is_exact_in_the_probe_dtype() -> None:
    plane = geometry.probe_input((3, 4))  # (r+1)*(W+1) + (c+1)
    assert plane[0, 0] == 6 and plane[2, 3] == 19 and geometry.probe_max((3, 4)) == 19
    assert len(np.unique(plane)) == plane.size
