"""Diagnosis: each injected fault is named, nothing is named for noise, the first hypothesis wins."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import make_case

from harness.judge.diagnose import diagnose
from harness.judge.judge import judge
from harness.model.data import make_tensors
from harness.model.ops import expected_param_count
from harness.results.outcome import Outcome, Output
from harness.truth.bounds import error_bound
from harness.truth.reference import reference

BASE = {"in_channels": 3, "out_channels": 3, "input_size": [7, 8], "kernel_size": [2, 3], "padding": 1}


def output_of(case, tensors, fields=None, **arrays) -> np.ndarray:
    """The reference of a slightly different case: what a faulty framework computes."""
    return reference(case.model_copy(update=fields or {}), replace(tensors, **arrays)).out


@pytest.mark.parametrize(("fault", "kind"), [
    ("flip", "flipped_kernel"), ("no-bias", "bias"), ("double-bias", "bias"), ("shift", "shift"),
    ("transpose", "transposed_kernel"), ("swap", "swapped_channels"), ("nhwc", "layout"),
    ("reflect", "border"), ("tf32", "precision"), ("noise", "unexplained"),
])
def test_each_fault_is_named(fault: str, kind: str) -> None:
    fields = {**BASE, "kernel_size": 3} if fault == "transpose" else BASE
    case = make_case(**fields)
    t = make_tensors(case, 0)
    ref = reference(case, t)
    w = t.weights.astype(np.float64)
    y = {
        "flip": lambda: output_of(case, t, weights=np.flip(w, axis=(2, 3))),
        "no-bias": lambda: ref.no_bias,
        "double-bias": lambda: ref.out + t.bias[None, :, None, None],
        "shift": lambda: output_of(case, t, {"padding": ((2, 0), (1, 1))}),
        "transpose": lambda: output_of(case, t, weights=np.swapaxes(w, 2, 3)),
        "swap": lambda: output_of(case, t, weights=np.swapaxes(w, 0, 1)),
        "nhwc": lambda: np.moveaxis(ref.out, 1, -1),
        "reflect": lambda: output_of(case, t, {"padding_mode": "reflect"}),
        "tf32": lambda: ref.out + 0.5 * (error_bound(case, ref, "tf32") - error_bound(case, ref)),
        "noise": lambda: ref.out + np.random.default_rng(1).normal(0, 1, ref.out.shape),
    }[fault]()
    found = diagnose(case, ref, t, np.asarray(y))
    assert found.kind == kind, found
    if kind == "shift":
        assert "(1, 0)" in found.detail


def test_a_bias_on_the_last_axis_in_float16_is_named_by_its_own_bound() -> None:
    """Keras on TensorFlow adds a channels_first layer's bias along the last axis when that axis is as long as the
    channels (a fuzzer find: Conv1D, 1 channel in, 2 out, 6 wide, stride 3). In float16 the rounding of that output
    exceeds the right output's bound, so the hypothesis is judged by the bound of the output it proposes."""
    case = make_case(in_channels=1, out_channels=2, input_size=[6], kernel_size=1, stride=3, dtype="float16")
    t = make_tensors(case, 1467793922)
    ref = reference(case, t)
    wrong = ref.no_bias + t.bias.astype(np.float64)  # the bias along W, which is 2 wide
    y = wrong.astype(np.float16).astype(np.float64)  # computed and rounded in float16
    assert not np.all(np.abs(y - wrong) <= error_bound(case, ref))  # the right output's bound is too tight for it
    found = diagnose(case, ref, t, y)
    assert (found.kind, found.detail) == ("bias", "the bias is added along the last spatial axis instead of the channels")


def test_a_bias_placement_no_different_from_the_right_one_is_not_a_diagnosis() -> None:
    """One channel, one column: a bias on the last axis is the right output, so a float64 case computed in float32
    (Keras on JAX) is a precision finding, not 'bias+precision' (a fuzzer find said so)."""
    case = make_case(in_channels=2, out_channels=1, input_size=[5, 3], kernel_size=[2, 3], dtype="float64")
    t = make_tensors(case, 3)
    ref = reference(case, t)
    assert ref.out.shape[-1] == 1
    y = ref.out.astype(np.float32).astype(np.float64)
    assert diagnose(case, ref, t, y).kind == "precision"


def test_matching_pairs_are_not_diagnosed_and_mismatches_are() -> None:
    case = make_case(**BASE)
    t = make_tensors(case, 0)
    ref = reference(case, t)
    params = expected_param_count(case)
    ok = judge(case, ref, Outcome("jax", "ran", Output(ref.out.copy(), "float32"), "native", params), tensors=t)
    assert ok.status == "match" and ok.diagnosis is None
    bad = judge(case, ref, Outcome("jax", "ran", Output(ref.no_bias.copy(), "float32"), "native", params), tensors=t)
    assert (bad.status, bad.mismatch_on, bad.diagnosis) == ("mismatch", "values", "bias")
    assert bad.diagnosis_detail == "the bias is missing"


def test_a_faulty_framework_is_diagnosed_end_to_end(tmp_path) -> None:
    """A third-party engine computes wrong values on marked cases; jax, computing right, still matches."""
    import csv
    import subprocess
    import sys

    from helpers import install_fake

    env = install_fake(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(
        "defaults:\n  in_channels: 3\n  out_channels: 3\n  input_size: [7, 8]\n  kernel_size: 3\n"
        "  adapters: [numpy-engine, jax]\n"
        "cases:\n  - id: ok\n  - id: flip\n  - id: transposekernel\n    kernel_size: [3, 3]\n"
        "  - id: nobias\n  - id: shift\n")
    out = subprocess.run([sys.executable, "-m", "harness", "run"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    with open(tmp_path / "reports" / "results.csv", newline="") as handle:
        rows = {(r["case_id"], r["adapter"]): r for r in csv.DictReader(handle)}
    assert rows[("ok", "numpy-engine")]["status"] == "match" and rows[("ok", "numpy-engine")]["diagnosis"] == ""
    for case_id, kind in (("flip", "flipped_kernel"), ("transposekernel", "transposed_kernel"), ("nobias", "bias"),
                          ("shift", "shift")):
        assert rows[(case_id, "numpy-engine")]["diagnosis"] == kind, rows[(case_id, "numpy-engine")]
        assert rows[(case_id, "jax")]["status"] == "match"


def test_a_transposed_shape_mismatch_on_a_short_axis_is_diagnosed_not_crashed() -> None:
    """The crop search once allocated a negative size here (ValueError in the reference's crop)."""
    case = make_case(op="conv_transpose", in_channels=1, out_channels=1, input_size=[2, 1], kernel_size=4, stride=2,
                     dilation=[1, 2], padding="same", output_padding=[1, 0], bias=False)
    t = make_tensors(case, 0)
    ref = reference(case, t)
    wrong = np.zeros((1, 1, ref.out.shape[2] + 1, ref.out.shape[3]))
    assert diagnose(case, ref, t, wrong).kind in ("shift", "unexplained")


def test_the_hypotheses_are_one_ordered_table_of_named_functions() -> None:
    from harness.judge import diagnose as module

    names = [h.__name__ for h in module.HYPOTHESES]
    assert names == ["measured_pads", "layout", "bias", "precision", "border", "flipped_kernel", "transposed_kernel",
                     "swapped_channels", "shift", "offset", "other_pads"]


def test_measured_crops_explain_crops_beyond_the_search() -> None:
    """A transposed output cut with crops 3 away from the case's: the search (+-2) cannot reach them, the
    probe's measurement does."""
    from harness.judge.diagnose import measured_pads
    from harness.judge.evidence import Context

    case = make_case(op="conv_transpose", in_channels=2, out_channels=2, input_size=[6], kernel_size=7, stride=1,
                     padding=[[0, 6]])
    t = make_tensors(case, 0)
    ref = reference(case, t)
    other = ((3, 3),)
    y = output_of(case, t, {"padding": other})
    assert y.shape == ref.out.shape
    found = diagnose(case, ref, t, y, measured=other)
    assert found.kind == "shift" and "measured crops ((3, 3),)" in found.detail, found
    assert measured_pads(Context(case, ref, t, y, None, ref.pads)) is None  # nothing measured apart: no claim
    assert diagnose(case, ref, t, y).kind == "unexplained"  # without the measurement the search stays within +-2


def test_border_is_not_named_when_every_window_reads_the_padding() -> None:
    """An even dilated extent with 'same' on a short input: every window reads padding, so 'border' would say
    nothing; the pad shift is named instead."""
    from harness.judge.diagnose import border
    from harness.judge.evidence import Context

    case = make_case(in_channels=1, out_channels=1, input_size=[4], kernel_size=2, dilation=3, padding="same")
    t = make_tensors(case, 0)
    ref = reference(case, t)
    (low, high), = ref.pads
    y = output_of(case, t, {"padding": ((low + 1, high - 1),)})  # SciPy's centring: one more before
    assert border(Context(case, ref, t, y, error_bound(case, ref))) is None
    assert diagnose(case, ref, t, y).kind == "shift"


def test_a_shift_and_rounding_at_once_are_both_named() -> None:
    case = make_case(**BASE)
    t = make_tensors(case, 0)
    ref = reference(case, t)
    shifted = reference(case.model_copy(update={"padding": ((2, 0), (1, 1))}), t)
    y = shifted.out + 0.5 * (error_bound(case, shifted, "tf32") - error_bound(case, shifted))
    found = diagnose(case, ref, t, y)
    assert found.kind == "shift+precision" and "TF32" in found.detail, found
