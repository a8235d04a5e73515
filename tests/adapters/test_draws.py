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


class Counted:
    """An initialiser as Keras' draw() sees one: get_config, from_config, called with (shape, dtype)."""

    calls = 0

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def get_config(self) -> dict[str, Any]:
        return {} if self.seed is None else {"seed": self.seed}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Counted:
        return cls(config.get("seed"))

    def __call__(self, shape: tuple[int, ...], dtype: str) -> Any:
        import numpy as np

        Counted.calls += 1
        return np.full(shape, 0.0 if self.seed is None else float(self.seed))


def test_keras_draws_a_seedless_initialiser_once_and_a_seeded_one_per_copy() -> None:
    """Zeros (no seed in its config) gives the same values every call: drawn once and repeated; a seeded
    initialiser is copied with seed, seed + 1, ... and called once per copy."""
    import numpy as np

    from harness.adapters.draws import keras_lines

    namespace: dict[str, Any] = {"np": np, "array": lambda y: y}
    exec(keras_lines("None", (1,), "kernel_initializer"), namespace)  # defines initial_parameters and draw
    variable = type("Variable", (), {"shape": (2, 3), "dtype": "float32"})()
    Counted.calls = 0
    zeros = namespace["draw"](variable, Counted(), 1000, 7)
    assert Counted.calls == 1 and zeros.shape == (6000,) and not zeros.any()
    Counted.calls = 0
    seeded = namespace["draw"](variable, Counted(0), 3, 7)
    assert Counted.calls == 3 and list(seeded[::6]) == [7.0, 8.0, 9.0]
