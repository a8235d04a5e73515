"""Layer names as case ids, and per-axis values as frameworks store them."""

from __future__ import annotations

import numpy as np

from harness.intake.layer import case_ids, per_axis


def test_names_become_unique_valid_ids_in_order() -> None:
    assert case_ids(["/features/features.0/Conv", "block_2_depthwise", "Conv1", "conv1", "", "_x"]) == [
        "features-features.0-conv", "block_2_depthwise", "conv1", "conv1-2", "layer", "x"]


def test_per_axis_broadcasts_an_int_or_a_single_value() -> None:
    assert per_axis(2, 3) == [2, 2, 2] and per_axis((3,), 2) == [3, 3] and per_axis([1, 2], 2) == [1, 2]
    assert per_axis(np.int64(4), 1) == [4]
