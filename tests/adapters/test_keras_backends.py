"""Keras on JAX and on torch, each in its own worker (KERAS_BACKEND is read once per process)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_case

from harness.results.rows import Row, pads_of
from harness.run.loop import one_row
from harness.run.prepared import Prepared
from harness.run.workers import Executor

pytest.importorskip("keras")


@pytest.fixture(scope="module")
def executor() -> Any:
    with Executor(timeout=300) as running:
        yield running


def run(executor: Executor, adapter: str, **fields: Any) -> Row:
    return one_row(make_case(**fields), adapter, executor, Prepared())


@pytest.mark.parametrize("adapter", ["keras-jax", "keras-torch"])
@pytest.mark.parametrize("fields", [
    {"padding": "same", "kernel_size": 4, "stride": 2, "input_size": 7},
    {"op": "conv_transpose", "stride": 2, "padding": "same", "kernel_size": 3, "input_size": [5, 6]},
    {"op": "conv_transpose", "stride": 2, "padding": 1, "output_padding": 1},
    {"in_channels": 3, "out_channels": 6, "groups": 3, "input_size": [9], "padding": "causal"},
    {"input_size": [4, 5, 6], "kernel_size": 3, "padding": "same", "layout": "channels_first"},
])
def test_layers_match_on_both_backends(executor: Executor, adapter: str, fields: dict[str, Any]) -> None:
    row = run(executor, adapter, **fields)
    assert row.status == "match", row
    assert row.framework_version.startswith("keras 3.") and adapter.split("-")[1] in row.framework_version
    assert pads_of(row) == pads_of(row, "ref_pad_")


def test_float64_on_jax_comes_back_float32(executor: Executor) -> None:
    row = run(executor, "keras-jax", dtype="float64")
    assert (row.status, row.mismatch_on) == ("mismatch", "dtype;values")


def test_torch_backend_has_no_edge_padding(executor: Executor) -> None:
    assert run(executor, "keras-torch", padding=1, padding_mode="replicate").status == "unsupported"
    assert run(executor, "keras-jax", padding=1, padding_mode="replicate").status == "match"


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN:UserWarning")  # mkldnn.flags' own chatter
def test_torch_computes_a_one_channel_convolution_with_a_channels_last_kernel_wrongly() -> None:
    """The direct call behind keras-torch's row in one-channel-strided-narrow-unpadded: Keras on torch makes
    the kernel torch.channels_last, and torch's CPU convolution (Mkldnn backend) then misreads a kernel with
    one input channel for a stride along the last axis only (pytorch/pytorch#82060's class)."""
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 6, 5, generator=generator)
    kernel = torch.randn(2, 4, 4, 1, generator=generator).permute(0, 3, 1, 2)  # strides (16, 1, 4, 1)
    assert kernel.is_contiguous(memory_format=torch.channels_last)
    want = torch.nn.functional.conv2d(x.double(), kernel.double(), stride=(1, 2))
    scale = float(want.abs().max())
    got = torch.nn.functional.conv2d(x, kernel, stride=(1, 2))
    assert float((got.double() - want).abs().max()) > 0.1 * scale
    with torch.backends.mkldnn.flags(enabled=False):
        fallback = torch.nn.functional.conv2d(x, kernel, stride=(1, 2))
    assert float((fallback.double() - want).abs().max()) < 1e-5 * scale
    plain = torch.empty(2, 1, 4, 4).copy_(kernel)  # the same values, strides (16, 16, 4, 1)
    assert float((torch.nn.functional.conv2d(x, plain, stride=(1, 2)).double() - want).abs().max()) < 1e-5 * scale
