"""The torch-onnx route's own code: the exporter's registry built once per worker, with nothing exported changed."""

from __future__ import annotations

from typing import Any

import pytest

from harness.adapters.torch_onnx import reuse_torchlib_registry


def test_the_registry_built_once_exports_the_same_bytes() -> None:
    """Two exports after `reuse_torchlib_registry` build the registry once between them, and write byte for byte
    what an export with torch's own registry wrote; each export gets its own copy of the function lists."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    from torch.onnx._internal.exporter import _registration

    registry_class: Any = _registration.ONNXRegistry
    saved = registry_class.__dict__["from_torchlib"]
    builds = []

    def counted(cls: Any, opset_version: int = _registration._constants.TORCHLIB_OPSET) -> Any:
        builds.append(opset_version)
        return saved.__func__(cls, opset_version)

    layer = torch.nn.Conv2d(2, 3, 3, padding=1).eval()
    x = torch.ones(1, 2, 5, 5)

    def export() -> bytes:
        data: bytes = torch.onnx.export(layer, (x,), dynamo=True).model_proto.SerializeToString()
        return data

    try:
        plain = export()
        registry_class.from_torchlib = classmethod(counted)
        reuse_torchlib_registry()
        reuse_torchlib_registry()  # idempotent: still one build
        first, second = export(), export()
        exported_builds = len(builds)
        one, other = registry_class.from_torchlib(), registry_class.from_torchlib()
    finally:
        registry_class.from_torchlib = saved
    assert first == plain and second == plain
    assert exported_builds == 1
    assert one is not other and one.functions == other.functions
    assert all(one.functions[key] is not other.functions[key] for key in one.functions)
