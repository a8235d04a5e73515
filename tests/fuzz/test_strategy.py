"""The fuzzer's strategy: valid cases within the limits, and the shape coincidences it promises."""

from __future__ import annotations

from hypothesis import given, settings

from harness.fuzz.strategy import base_fields, case_fields, make_case, mutations
from harness.model import ops


@settings(max_examples=200, deadline=None)
@given(case_fields())
def test_every_drawn_case_is_a_valid_case_within_the_size_limits(fields: dict) -> None:
    case = make_case(fields)
    assert 1 <= case.batch <= 2 and 1 <= case.in_channels <= 6 and 1 <= case.out_channels <= 6
    assert min(case.input_size) >= 1 and max(case.input_size) <= 10  # sizes from 1 unless --allow-empty
    assert min(case.kernel_size) >= 1 and min(case.dilation) >= 1
    assert case == make_case(fields)  # the same fields, the same case and seed


def test_the_coincidences_are_drawn_often() -> None:
    """Over 400 drawn cases, each coincidence the docstring promises holds in a good share of them (a
    uniform draw of sizes 1..10 and channels 1..4 would make the output/channel one rare)."""
    cases = []

    @settings(max_examples=400, deadline=None, database=None, derandomize=True)
    @given(case_fields())
    def collect(fields: dict) -> None:
        cases.append(make_case(fields))

    collect()
    outputs = [ops.output_spatial(c) for c in cases]
    share = {
        "channels": sum(c.in_channels == c.out_channels for c in cases),
        "output-channels": sum(o is not None and o[-1] == c.out_channels for c, o in zip(cases, outputs)),
        "square": sum(c.rank > 1 and len(set(c.input_size)) == 1 for c in cases) * len(cases) // sum(
            c.rank > 1 for c in cases),  # among the cases with two axes or more
        "input-channels": sum(c.input_size[-1] == c.in_channels for c in cases),
    }
    assert all(n >= 0.12 * len(cases) for n in share.values()), share
    assert {c.op for c in cases} == {"conv", "conv_transpose", "convolve", "separable"}
    assert any(c.groups == c.in_channels > 1 for c in cases) and any(c.layout == "channels_first" for c in cases)


@settings(max_examples=100, deadline=None)
@given(case_fields(allow_empty=True))
def test_allow_empty_draws_valid_cases_too(fields: dict) -> None:
    assert make_case(fields).batch >= 0


BASE = make_case({"op": "separable", "in_channels": 3, "out_channels": 4, "input_size": [7, 6], "kernel_size": [3, 3],
                  "padding": "same", "layout": "channels_first"})


@settings(max_examples=100, deadline=None)
@given(mutations((base_fields(BASE),)))
def test_fuzz_from_draws_valid_neighbours_of_a_case(fields: dict) -> None:
    """`fuzz --from`: a few fields changed, the op kept, a valid case (a coincidence may change one more)."""
    case = make_case(fields)
    changed = [name for name in base_fields(BASE) if getattr(case, name) != getattr(BASE, name)]
    assert case.op == "separable" and len(changed) <= 5, changed
