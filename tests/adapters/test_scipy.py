"""scipy.signal through the harness: correlate and convolve, SciPy's own 'same', no transposed op."""

from __future__ import annotations

import pytest

pytest.importorskip("scipy")

from battery import VALID_CONFIGS, assert_matches, pads_of, run

NATIVE = {"valid", "valid-stride2-odd", "same-odd-kernel", "dilation", "dilation-same", "groups", "depthwise",
          "depthwise-multiplier", "one-by-one", "no-bias", "float64", "batch-0", "in-channels-0", "integers",
          "1d-full-dilated", "3d-valid-stride2", "convolve-1d-full", "convolve-1-tap"}
SAME_LOWER = {"same-even-kernel", "same-nonsquare", "1d-same-even", "3d-same-stride1"}  # SciPy's 'same'
REFUSED = {"float16", "bfloat16", "channels-first-bfloat16"}


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in SAME_LOWER | REFUSED
                                  and not n.startswith(("transpose", "separable"))])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("scipy", VALID_CONFIGS[name], "native" if name in NATIVE else "emulated")


@pytest.mark.parametrize("op", ["conv", "convolve"])
def test_same_with_an_even_kernel_pads_more_before(op: str) -> None:
    """SciPy centres 'same' on the full output: SAME_LOWER, one pixel off TensorFlow's SAME."""
    row = run("scipy", op=op, padding="same", kernel_size=4, input_size=[7])
    assert (row.status, row.mismatch_on, row.realization) == ("mismatch", "values", "native")
    assert pads_of(row) == (2, 1) and pads_of(row, "ref_pad_") == (1, 2)


def test_same_with_stride_goes_through_np_pad() -> None:
    row = run("scipy", padding="same", kernel_size=4, stride=2, input_size=[7, 7])
    assert (row.status, row.realization, pads_of(row)) == ("match", "emulated", (1, 2, 1, 2))


def test_float16_is_refused_and_transposed_and_separable_unsupported() -> None:
    assert run("scipy", dtype="float16").error_message == "Unsupported type"
    for op in ("conv_transpose", "separable"):
        row = run("scipy", op=op)
        assert row.status == "unsupported" and f"no {op}" in row.error_message



@pytest.mark.parametrize("field", ["out_channels", "stride", "dilation"])
def test_what_the_harness_emulates_is_refused_below_1(field: str) -> None:
    """Our channel loop, slice step and dilated kernel refuse 0 as frameworks do (fuzzer finding)."""
    row = run("scipy", **{field: 0})
    assert row.status == "error" and row.error_message.startswith(f"{field} below 1")


def test_the_fft_path_is_named_as_such() -> None:
    """A 28x28 'same' case makes scipy.signal choose its FFT method: the program says so, and the
    diagnosis names FFT rounding rather than TF32 (SciPy has no TF32)."""
    from helpers import make_case

    from harness.cases.loading import stable_seed
    from harness.judge.judge import judge
    from harness.run.pair import run_adapter
    from harness.truth.prepare import prepare

    case = make_case(seed=stable_seed("conv-1to3-28x28[padding=1,stride=1]"), in_channels=1, out_channels=3,
                     input_size=28, kernel_size=3, padding=1)  # the seeds library's case, with its seed
    tensors, ref, bound = prepare(case)
    row = judge(case, ref, run_adapter("scipy", case, tensors), bound, tensors)
    assert row.status == "mismatch" and row.diagnosis == "precision", row
    assert row.diagnosis_detail is not None and row.diagnosis_detail.startswith("FFT rounding"), row.diagnosis_detail
    small = run("scipy", padding=1)  # direct: nothing to name
    assert small.status == "match"


def test_the_program_reports_the_method_it_passed() -> None:
    from helpers import make_case

    from harness.adapters.registry import get_adapter
    from harness.model.data import make_tensors

    adapter = get_adapter("scipy")
    adapter.ensure_setup()
    for fields, method in (({"input_size": 28, "in_channels": 1, "padding": 1}, "fft"), ({}, None)):
        case = make_case(**fields)
        output = adapter.realise(case, adapter.plan(case))(make_tensors(case, case.seed))
        assert output.arithmetic == method, fields
