"""ONNX's own backend node tests for Conv and ConvTranspose, translated into case files with their exact
arrays (explicit data): the float64 reference must give ONNX's expected outputs.

The tests are read from the installed onnx package (`onnx/backend/test/case/node/conv.py` and
`convtranspose.py`): each `export*` builds a node and calls `expect(node, inputs, outputs)`, which is
captured here instead of writing test data. Each node becomes a case (attributes as the ONNX adapter
writes them, read back: `pads`, `auto_pad`, `strides`, `dilations`, `group`, `output_padding`,
`output_shape` as `output_size`), loaded through a YAML file like a user's.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

onnx = pytest.importorskip("onnx")

from harness.cases.loading import load_cases  # noqa: E402
from harness.model.data import make_tensors  # noqa: E402
from harness.truth.reference import reference  # noqa: E402

AUTO_PAD = {"SAME_UPPER": "same", "SAME_LOWER": "same_lower", "VALID": "valid"}
# nodes whose attributes the case model does not take together, with why
SKIPPED = {"test_convtranspose_kernel_shape": "output_shape and output_padding together: a case gives one (output_size picks "
                                             "the output_padding)"}


def captured(module_name: str, cls_name: str) -> list[tuple[Any, list[np.ndarray], np.ndarray, str]]:
    module = importlib.import_module(f"onnx.backend.test.case.node.{module_name}")
    found: list[tuple[Any, list[np.ndarray], np.ndarray, str]] = []

    def expect(node: Any, inputs: list[np.ndarray], outputs: list[np.ndarray], name: str, **_: Any) -> None:
        found.append((node, inputs, outputs[0], name))

    original = module.expect
    module.expect = expect
    try:
        cls = getattr(module, cls_name)
        for attr in dir(cls):
            if attr.startswith("export"):
                getattr(cls, attr)()
    finally:
        module.expect = original
    return found


def case_fields(node: Any, inputs: list[np.ndarray]) -> dict[str, Any]:
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    x, w = inputs[0], inputs[1]
    rank, groups = x.ndim - 2, int(attrs.get("group", 1))
    transpose = node.op_type == "ConvTranspose"
    fields: dict[str, Any] = {
        "id": "node", "op": "conv_transpose" if transpose else "conv", "layout": "channels_first",
        "batch": int(x.shape[0]), "in_channels": int(x.shape[1]), "input_size": list(x.shape[2:]),
        "out_channels": int(w.shape[1]) * groups if transpose else int(w.shape[0]),
        "kernel_size": list(w.shape[2:]), "groups": groups, "bias": len(inputs) > 2, "dtype": "float64",
        "stride": [int(s) for s in attrs.get("strides", [1] * rank)],
        "dilation": [int(d) for d in attrs.get("dilations", [1] * rank)],
        "data": {"input": x.tolist(), "weights": w.tolist(), **({"bias": inputs[2].tolist()} if len(inputs) > 2 else {})},
    }
    auto_pad = attrs.get("auto_pad", b"NOTSET").decode()
    if auto_pad in AUTO_PAD:
        fields["padding"] = AUTO_PAD[auto_pad]
    elif "pads" in attrs:
        pads = [int(p) for p in attrs["pads"]]
        fields["padding"] = [[pads[a], pads[a + rank]] for a in range(rank)]
    if "output_padding" in attrs:
        fields["output_padding"] = [int(p) for p in attrs["output_padding"]]
    if "output_shape" in attrs:
        fields["output_size"] = [int(s) for s in attrs["output_shape"]][-rank:]
    return fields


NODES = [*captured("conv", "Conv"), *captured("convtranspose", "ConvTranspose")]


@pytest.mark.parametrize(("node", "inputs", "expected", "name"), NODES, ids=[n[3] for n in NODES])
def test_the_reference_gives_onnx_expected_outputs(node: Any, inputs: list[np.ndarray], expected: np.ndarray,
                                                   name: str, tmp_path: Path) -> None:
    if name in SKIPPED:
        pytest.skip(SKIPPED[name])
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"cases": [case_fields(node, inputs)]}))
    result = load_cases([tmp_path / "c.yaml"])
    assert not result.problems, result.problems
    (case,) = result.cases
    out = reference(case, make_tensors(case, case.seed)).out
    assert out is not None and out.shape == expected.shape, (name, None if out is None else out.shape, expected.shape)
    assert np.allclose(out, expected, rtol=1e-5, atol=1e-5), name


def test_every_onnx_conv_node_test_was_read() -> None:
    assert len(NODES) >= 17 and {n[3] for n in NODES} >= {"test_convtranspose", "test_convtranspose_autopad_same",
                                                             "test_conv_with_autopad_same"}
