"""Diagnosis: each injected fault is named, nothing is named for noise, the first hypothesis wins."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import make_case

from harness.adapters.base import Output
from harness.compare import Outcome, error_bound, expected_param_count, judge
from harness.data import make_tensors
from harness.diagnose import diagnose
from harness.reference import reference

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
