"""conv_transpose is the adjoint of conv, by the reference's own definitions (no framework involved).

For a transposed case T with input length `in` and output length L, the forward conv F on length L
with the same kernel, stride, dilation, groups and padding has `in` outputs, and for every x, y:
<F(x), y> = <x, T(y)> with the one weight array read by both. This pins the lengths and crops of
`geometry.transpose_crops` (valid, explicit pads, 'same' and 'same_lower' with output_padding absent
or given) for every rank.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.model import geometry, ops
from harness.model.data import Tensors
from harness.truth.reference import reference


@st.composite
def transposed(draw: st.DrawFn) -> dict[str, object]:
    rank = draw(st.integers(1, 3))
    axes = st.lists(st.integers(1, 4 if rank < 3 else 3), min_size=rank, max_size=rank)
    stride = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    kernel, dilation = draw(axes), draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank))
    padding = draw(st.sampled_from(["valid", "same", "same_lower", "pads"]))
    if padding == "pads":
        crops = [[draw(st.integers(0, geometry.extent(k, d) - 1)), draw(st.integers(0, geometry.extent(k, d) - 1))]
                 for k, d in zip(kernel, dilation)]
        padding_field: object = crops
    else:
        padding_field = padding
    output_padding = draw(st.none() | st.just([draw(st.integers(0, s - 1)) for s in stride]))
    groups = draw(st.sampled_from([1, 2]))
    return {"op": "conv_transpose", "input_size": draw(axes), "kernel_size": kernel, "stride": stride,
            "dilation": dilation, "padding": padding_field, "output_padding": output_padding, "groups": groups,
            "in_channels": 2 * groups, "out_channels": groups, "bias": False, "dtype": "float64"}


@given(transposed(), st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_conv_transpose_is_the_adjoint_of_conv(fields: dict[str, object], seed: int) -> None:
    t_case = make_case(**fields)
    length = ops.output_spatial(t_case)
    if length is None:  # the crops leave nothing: no operator to compare
        return
    forward = make_case(**{**fields, "op": "conv", "input_size": list(length), "in_channels": fields["out_channels"],
                           "out_channels": fields["in_channels"], "output_padding": None})
    assert ops.output_spatial(forward) == tuple(t_case.input_size), (length, forward)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(ops.weight_shape(t_case))
    assert w.shape == ops.weight_shape(forward)
    x = rng.standard_normal(ops.input_shape(forward))
    y = rng.standard_normal(ops.input_shape(t_case))
    fx = reference(forward, Tensors(x, w, None)).out
    ty = reference(t_case, Tensors(y, w, None)).out
    assert fx is not None and ty is not None and fx.shape == y.shape and ty.shape == x.shape
    assert np.vdot(fx, y) == pytest.approx(np.vdot(x, ty), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("size", "kernel", "stride", "output_padding", "padding", "length", "crops"), [
    (3, 3, 2, None, "same", 6, (0, 1)),  # absent: in*s, TensorFlow's SAME (the forward same of 6 pads (0, 1))
    (3, 3, 2, 0, "same", 5, (1, 1)),  # given 0: (in-1)*s + 1, the forward same of 5 has 3 outputs
    (3, 3, 2, 1, "same", 6, (0, 2)),  # given 1: (in-1)*s + 2 = in*s; crops of the full 7 + 1 appended
    (4, 4, 2, None, "same", 8, (1, 1)),
    (4, 4, 2, 0, "same", 7, (1, 2)),
    (4, 4, 2, 0, "same_lower", 7, (2, 1)),
    (3, 1, 3, None, "same", 9, (0, -2)),  # a stride larger than the kernel: positions no tap reaches
    (3, 3, 2, 1, "valid", 8, (0, 0)),  # valid: the full (in-1)*s + k, then output_padding
])
def test_transposed_lengths_by_hand(size: int, kernel: int, stride: int, output_padding: int | None, padding: str,
                                    length: int, crops: tuple[int, int]) -> None:
    case = make_case(op="conv_transpose", input_size=[size], kernel_size=kernel, stride=stride, padding=padding,
                     output_padding=output_padding)
    assert ops.output_spatial(case) == (length,) and geometry.transpose_crops(case) == (crops,)


def test_same_output_padding_at_or_over_the_stride_is_no_adjoint() -> None:
    case = make_case(op="conv_transpose", input_size=[3], kernel_size=3, stride=2, padding="same", output_padding=2)
    assert ops.invalid_reason(case) is not None and "below the stride" in str(ops.invalid_reason(case))


@pytest.mark.parametrize(("padding", "lengths", "output_padding"), [
    ("same", [7, 6], (0, 1)), ("same", [8, 5], (1, 0)), ([[1, 1], [1, 1]], [8, 6], (1, 1)), ("valid", [9, 7], (0, 0)),
])
def test_output_size_picks_the_output_padding(padding: object, lengths: list[int], output_padding: tuple[int, ...]) -> None:
    case = make_case(op="conv_transpose", input_size=[4, 3], kernel_size=3, stride=2, padding=padding)
    assert geometry.output_padding_for(case, lengths) == output_padding
    picked = case.model_copy(update={"output_padding": output_padding})
    assert ops.output_spatial(picked) == tuple(lengths)


def test_an_output_size_no_forward_convolution_has_is_refused_at_its_line(tmp_path) -> None:
    from harness.cases.loading import load_cases

    (tmp_path / "c.yaml").write_text("cases:\n  - id: t\n    op: conv_transpose\n    in_channels: 1\n    out_channels: 1\n"
                                     "    input_size: [4]\n    kernel_size: 3\n    stride: 2\n    padding: same\n"
                                     "    output_size: 9\n")
    problems = [str(p) for p in load_cases([tmp_path / "c.yaml"]).problems]
    assert problems == [f"{tmp_path / 'c.yaml'}:10: case 't': output_size: 9 is not a length this transposed "
                        "convolution gives on axis 0: 7 to 8 (the lengths whose forward convolution has 4 outputs)"], problems
    (tmp_path / "c.yaml").write_text((tmp_path / "c.yaml").read_text() + "    output_padding: 1\n")
    problems = [str(p) for p in load_cases([tmp_path / "c.yaml"]).problems]
    assert any("give output_padding or output_size, not both" in p for p in problems), problems
