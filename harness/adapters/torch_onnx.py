"""Route torch -> ONNX -> ONNX Runtime: the `torch` adapter's module exported with `torch.onnx.export(...,
dynamo=True)` (torch's default exporter, onnxscript underneath), then run by ONNX Runtime on its CPU.

The module is exactly the `torch` adapter's (`torch.nn.Conv*`/`ConvTranspose*` with its padding_mode,
`F.pad` in `forward` where torch takes the pads no other way, `output_size` in the call), held by a
small `nn.Module` so its weight and bias export as initializers, as a user's model does. Stages:
`build` (the module with the case's weights), `convert` (the export), `run` (ONNX Runtime). On the CPU
whatever HARNESS_DEVICE says (ONNX Runtime's CPU provider runs it). ONNX Runtime has no bfloat16
convolution.

The exporter rebuilds its ONNX registry from torchlib on every call (`ONNXRegistry.from_torchlib`, which
parses the source of some 5,000 onnxscript functions again: 0.7 s of a 1.05 s export here); each worker
builds it once per opset instead (`reuse_torchlib_registry`), which leaves every exported byte as it was.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from ..model.schema import Conv
from .program import Plan
from .route import ONNXRUNTIME, Route
from .torch import TorchAdapter

EXPORT = '''

class Exported(torch.nn.Module):
    """What a user exports: a model holding the layer (its weight and bias become initializers)."""

    def __init__(self):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return call(x, None, None)


def convert(x, w, b):
    """torch.onnx.export of the module holding w and b, with torch's default exporter (dynamo=True)."""
    STAGES.append("build")
    parameters(w, b)
    exported = Exported().eval()
    STAGES.append("convert")
    return torch.onnx.export(exported, (tensor(x),), dynamo=True).model_proto.SerializeToString()
'''


def reuse_torchlib_registry() -> None:
    """Make `ONNXRegistry.from_torchlib` build once per opset in this process and hand each export a copy.

    The registry is a function of the installed torch and onnxscript alone; the copy has its own
    `functions` lists, so what one export registers into it (a custom translation table) never reaches
    the next. Idempotent: a second call keeps the first one's registries.
    """
    from torch.onnx._internal.exporter import _registration

    registry_class: Any = _registration.ONNXRegistry
    build = registry_class.from_torchlib
    if getattr(build, "reused", False):
        return
    built: dict[int, Any] = {}

    def from_torchlib(cls: Any, opset_version: int = _registration._constants.TORCHLIB_OPSET) -> Any:
        if opset_version not in built:
            built[opset_version] = build.__func__(cls, opset_version)
        registry = copy.copy(built[opset_version])
        registry.functions = {target: list(metas) for target, metas in built[opset_version].functions.items()}
        return registry

    from_torchlib.reused = True  # type: ignore[attr-defined]
    registry_class.from_torchlib = classmethod(from_torchlib)


class TorchOnnxAdapter(Route, TorchAdapter):
    requires = ("torch", "onnxscript", "onnxruntime")
    converts_with = ("torch", "onnxscript", "onnx")
    dtypes = frozenset({"float16", "float32", "float64"})
    builds_as = "torch"  # its module is the torch adapter's: refusals building it are recorded there
    artifact_suffix = ".onnx"
    initialiser_rule: ClassVar[str | None] = None  # the torch module's defaults are the torch adapter's to measure

    def setup(self) -> None:
        super().setup()
        import onnxruntime
        import onnxscript

        onnxruntime.set_default_logger_severity(4)
        reuse_torchlib_registry()
        self.ort, self.onnxscript = onnxruntime, onnxscript

    def version(self) -> str:
        return (f"torch {self.torch.__version__} -> onnxruntime {self.ort.__version__} "
                f"(torch.onnx.export dynamo=True, onnxscript {self.onnxscript.__version__})")

    def precision_flags(self) -> dict[str, str]:
        return {"torch.onnx.export": "dynamo=True (torch's default exporter)",
                "onnxruntime providers": "CPUExecutionProvider"}

    def converter_text(self, conv: Conv, plan: Plan) -> str:
        return self.module_text(conv, plan) + EXPORT

    def runtime_text(self, conv: Conv, plan: Plan) -> str:
        return ONNXRUNTIME
