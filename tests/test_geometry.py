"""Output sizes and pads: hand-computed values, and the probe read back through the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import make_case

from harness import geometry
from harness.data import make_tensors, probe_tensors
from harness.reference import reference


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
    assert sorted(geometry.probe_taps((3, 3))) == [(a, b) for a in range(3) for b in range(3)]
    assert geometry.probe_taps((1, 1)) == [(0, 0)]
    assert len(geometry.probe_taps((11, 11))) == geometry.MAX_PROBE_TAPS


@settings(max_examples=400, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 5), kw=st.integers(1, 5),
       sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 3), dw=st.integers(1, 2),
       padding=st.one_of(st.sampled_from(["valid", "same", "same_lower"]),
                         st.lists(st.lists(st.integers(0, 4), min_size=2, max_size=2), min_size=2, max_size=2)))
def test_probe_reads_back_the_reference_pads(h: int, w: int, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int,
                                             padding: object) -> None:
    """The reference run on the probe operands yields exactly the pads the reference applied."""
    case = make_case(input_size=[h, w], kernel_size=[kh, kw], stride=[sh, sw], dilation=[dh, dw],
                     padding=padding, in_channels=1, out_channels=1)
    ref = reference(case, make_tensors(case, 0))
    if ref.invalid:
        return
    for tap in geometry.probe_taps(case.kernel_size):
        probe = probe_tensors(case, tap)
        assert probe is not None
        plane = reference(case, probe).out[0, 0]
        pads = geometry.measured_pads(plane, case.input_size, case.kernel_size, case.stride, case.dilation, tap)
        if pads is not None:
            assert pads == ref.pads
            return
    # None only when the output never reads the input through any tap (dilation skips it all)
    assert kh * kw <= geometry.MAX_PROBE_TAPS
    for a in range(kh):
        for b in range(kw):
            plane = reference(case, probe_tensors(case, (a, b))).out[0, 0]
            assert not plane.any(), f"tap {(a, b)} reads the input but the probe taps missed it"


def test_probe_encoding_is_exact_in_the_probe_dtype() -> None:
    plane = geometry.probe_input((3, 4))
    assert plane[0, 0] == 6 and plane[2, 3] == 19 and geometry.probe_max((3, 4)) == 19
    assert len(np.unique(plane)) == plane.size
