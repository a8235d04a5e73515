"""Results rows made without any framework: one of each status, for report tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from helpers import make_case

from harness.judge.judge import judge
from harness.model.data import make_tensors
from harness.model.ops import expected_param_count
from harness.results.outcome import Outcome, Output
from harness.truth.bounds import error_bound
from harness.truth.reference import reference


def sample_rows() -> list[dict[str, Any]]:
    case = make_case(id="sample-same", padding="same", kernel_size=4, stride=2, input_size=7)
    ref = reference(case, make_tensors(case, 0))
    wrong = ref.out.copy()
    wrong[0, 1, 2, 2] += 10 * error_bound(case, ref)[0, 1, 2, 2]
    params = expected_param_count(case)
    rows = [
        judge(case, ref, Outcome("torch", "error", realization="native", error_type="ValueError",
                                 error_message="padding='same' is not supported for strided convolutions",
                                 version="torch 0")),
        judge(case, ref, Outcome("keras", "ran", Output(ref.out.copy(), "float32"), "native", params,
                                 ((1, 2), (1, 2)), seconds=0.01, version="keras 0")),
        judge(case, ref, Outcome("jax", "ran", Output(wrong, "float32"), "native", params, ((2, 1), (1, 2)),
                                 seconds=0.02, version="jax 0")),
    ]
    other = make_case(id="sample-circular", padding=1, padding_mode="circular")
    ref2 = reference(other, make_tensors(other, 0))
    rows.append(judge(other, ref2, Outcome("keras", "unsupported", error_message="keras has no pad mode")))
    rows.append(judge(other, ref2, Outcome("jax", "ran", Output(ref2.out.copy(), "float32"), "emulated",
                                           expected_param_count(other), ((1, 1), (1, 1)), seconds=0.01,
                                           version="jax 0")))
    assert np.isfinite(rows[2].err_bound_ratio)
    return rows
