"""Small builders shared by the tests: a Case from keyword arguments."""

from __future__ import annotations

from typing import Any

from harness.cases import Case, stable_seed
from harness.schema import Conv


def make_case(**fields: Any) -> Case:
    """A validated case; in/out channels, size and kernel default to a small valid conv."""
    expect = fields.pop("expect", {})
    data = {"id": "t", "in_channels": 2, "input_size": 6, "out_channels": 3, "kernel_size": 3, **fields}
    conv = Conv.model_validate(data)
    return Case.model_construct(**{**dict(conv), "seed": conv.seed if conv.seed is not None else stable_seed(conv.id)},
                                file="t.yaml", line=1, values={}, expect=expect)
