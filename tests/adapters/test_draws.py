"""The init pass through every framework with layers, each in its worker: the draws follow the framework's
own documented rule (no `undocumented`), and differ from torch's exactly where the rules do."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_case

from harness.results.rows import Row
from harness.run.loop import pair_rows
from harness.run.prepared import Prepared
from harness.run.workers import Executor

CONFIGS = {
    "conv": {"in_channels": 16, "out_channels": 33, "stride": 2, "input_size": [16, 16]},
    "transposed": {"op": "conv_transpose", "in_channels": 4, "out_channels": 8, "stride": 2},
    "depthwise": {"in_channels": 6, "out_channels": 12, "groups": 6},
    "1d-no-bias": {"in_channels": 5, "out_channels": 7, "input_size": [12], "bias": False},
    "3d-grouped": {"in_channels": 4, "out_channels": 6, "groups": 2, "input_size": [5, 6, 6]},
}
# (adapter) -> the configurations whose defaults are torch's
SAME_AS_TORCH = {"torch": set(CONFIGS), "equinox": set(CONFIGS) - {"transposed"}, "keras": set(), "keras-jax": set(),
                 "keras-torch": set(), "flax": set()}


@pytest.fixture(scope="module")
def executor() -> Any:
    with Executor(timeout=300) as running:
        yield running


def init_row(executor: Executor, adapter: str, fields: dict[str, Any]) -> Row:
    case = make_case(kernel_size=3, init=True, **{"input_size": [9, 9], **fields})
    return next(r for r in pair_rows(case, adapter, executor, Prepared()) if r.pass_ == "init")


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("adapter", list(SAME_AS_TORCH))
def test_draws_follow_the_documented_rule(executor: Executor, adapter: str, name: str) -> None:
    pytest.importorskip({"flax": "flax", "equinox": "equinox"}.get(adapter, adapter.split("-")[-1]))
    row = init_row(executor, adapter, CONFIGS[name])
    assert row.status in ("match", "mismatch"), row
    assert row.diagnosis != "undocumented", row.diagnosis_detail
    assert (row.status == "match") == (name in SAME_AS_TORCH[adapter]), row.diagnosis_detail
    assert ("bias" in row.init_samples) == CONFIGS[name].get("bias", True)


@pytest.mark.parametrize("adapter", ["jax", "torch-functional", "scipy", "onnxruntime", "torch-unfold"])
def test_adapters_without_layers_are_not_applicable(executor: Executor, adapter: str) -> None:
    pytest.importorskip({"torch-functional": "torch", "torch-unfold": "torch"}.get(adapter, adapter))
    row = init_row(executor, adapter, CONFIGS["conv"])
    assert (row.status, row.passed) == ("unsupported", True) and "no layer of its own" in row.error_message
