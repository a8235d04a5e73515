"""PyTorch's own OpInfo samples for conv1d/2d/3d and conv_transpose1d/2d/3d, translated into cases with
their exact arrays, and run through the harness.

The samples come from the installed torch (`torch.testing._internal.common_methods_invocations.op_db`,
which needs the `expecttest` package): each is an input (batched or not), a weight, an optional bias
and keyword arguments. For every sample the float64 reference must equal torch's own call on it, and
the `torch` and `torch-functional` rows of the same case must be `match` (unbatched samples as
`batch: none`, so torch is called without a batch axis as the sample is).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")  # torch's own note

from helpers import make_case  # noqa: E402

from harness.judge.judge import judge  # noqa: E402
from harness.model.data import Tensors  # noqa: E402
from harness.run.pair import run_adapter  # noqa: E402
from harness.truth.bounds import error_bound  # noqa: E402
from harness.truth.reference import reference  # noqa: E402

NAMES = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
# Importing torch's test internals switches torch.backends' flags to read-only for the whole process
# (common_utils calls disable_global_flags), so the samples are read in a process of their own.
READ = f"""
import sys, torch
from torch.testing._internal.common_methods_invocations import op_db
found = []
for info in op_db:
    name = info.name.removeprefix("nn.functional.")
    if info.name.startswith("nn.functional.") and name in {NAMES!r}:
        for s in info.sample_inputs("cpu", torch.float64, requires_grad=False):
            found.append((name, s.input, list(s.args), dict(s.kwargs)))
torch.save(found, sys.argv[1])
"""


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Any, list[Any], dict[str, Any]]]:
    path = tmp_path_factory.mktemp("opinfo") / "samples.pt"
    subprocess.run([sys.executable, "-c", READ, str(path)], check=True, capture_output=True, timeout=300)
    return list(torch.load(path, weights_only=False))


def per_axis(value: Any, rank: int) -> list[int]:
    return list(value) if isinstance(value, (tuple, list)) else [int(value)] * rank


def case_and_tensors(name: str, sample: Any, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, Tensors]:
    weight, bias = args[0], args[1] if len(args) > 1 else kwargs.get("bias")
    kwargs = {k: v for k, v in kwargs.items() if k != "bias"}
    rank, transpose = weight.ndim - 2, name.startswith("conv_transpose")
    unbatched = sample.ndim == rank + 1
    x = (sample[None] if unbatched else sample).numpy()
    groups = int(kwargs.get("groups", 1))
    padding = kwargs.get("padding", 0)
    fields: dict[str, Any] = {
        "id": "opinfo", "op": "conv_transpose" if transpose else "conv", "layout": "channels_first",
        "dtype": "float64", "batch": "none" if unbatched else x.shape[0], "in_channels": x.shape[1],
        "input_size": list(x.shape[2:]), "groups": groups, "kernel_size": list(weight.shape[2:]),
        "out_channels": weight.shape[1] * groups if transpose else weight.shape[0],
        "stride": per_axis(kwargs.get("stride", 1), rank), "dilation": per_axis(kwargs.get("dilation", 1), rank),
        "padding": padding if isinstance(padding, str) else per_axis(padding, rank), "bias": bias is not None}
    if transpose:
        fields["output_padding"] = per_axis(kwargs.get("output_padding", 0), rank)
    tensors = Tensors(x, weight.numpy(), None if bias is None else bias.numpy())
    return make_case(**fields), tensors


def direct(name: str, sample: Any, args: list[Any], kwargs: dict[str, Any]) -> np.ndarray:
    """torch's own call on the sample, batched like the case's arrays."""
    y = getattr(torch.nn.functional, name)(sample, *args, **kwargs)
    return (y[None] if sample.ndim == args[0].ndim - 1 else y).numpy()


def test_the_reference_is_torch_on_every_sample_and_both_torch_rows_match(samples: list[Any]) -> None:
    assert len(samples) >= 90 and {name for name, *_ in samples} == set(NAMES)
    wrong = []
    for index, (name, sample, args, kwargs) in enumerate(samples):
        case, tensors = case_and_tensors(name, sample, args, kwargs)
        ref = reference(case, tensors)
        if ref.out is None or not np.allclose(ref.out, direct(name, sample, args, kwargs), rtol=1e-10, atol=1e-10):
            wrong.append(f"{index} {name} {kwargs}: reference {ref.invalid or ref.shape} is not torch's")
            continue
        for adapter in ("torch", "torch-functional"):
            row = judge(case, ref, run_adapter(adapter, case, tensors), error_bound(case, ref))
            if row.status != "match":
                wrong.append(f"{index} {name} {kwargs} {adapter}: {row.status} {row.error_message or ''}")
    assert not wrong, "\n".join(wrong)
