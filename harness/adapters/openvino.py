"""Route ONNX -> OpenVINO: the case's ONNX model (the one the `onnxruntime` adapter builds) read by
OpenVINO and compiled for its CPU plugin.

Stages (route.py): `build` (the ONNX model, the route's artifact), `convert` (`Core.read_model`, OpenVINO's
ONNX frontend, and `compile_model`) and `run` (the inference). `precision: highest` compiles with
INFERENCE_PRECISION_HINT f32; `precision: default` leaves the CPU plugin's own default, which is bf16 on
CPUs with native bfloat16 (AVX512_BF16, AMX), f32 elsewhere. The Core keeps compiled models in the folder
`HARNESS_OPENVINO_CACHE` names (OpenVINO's CACHE_DIR), which the worker sets under `HARNESS_CACHE_DIR`:
a second run loads each compiled model instead of compiling it again (a program run alone caches nothing).
"""

from __future__ import annotations

import os

from ..model.schema import Conv
from .cache import cache_dir
from .onnxruntime import COUNT, OPSET, OnnxRuntimeAdapter
from .program import Plan
from .route import Route

CACHE_VARIABLE = "HARNESS_OPENVINO_CACHE"  # where compile_model keeps compiled models (CACHE_DIR); the worker sets it

SERIALISE = '''

def convert(x, w, b):
    """The ONNX model OpenVINO is given (its ONNX frontend converts it as it reads it)."""
    STAGES.append("build")
    return model(x, w, b).SerializeToString()
'''


class OpenVinoAdapter(Route, OnnxRuntimeAdapter):
    requires = ("onnx", "openvino")
    converts_with = ("onnx",)
    artifact_suffix = ".onnx"

    def setup(self) -> None:
        import onnx
        import openvino

        folder = cache_dir()  # the programs' Core keeps compiled models there: a second run loads them
        os.environ[CACHE_VARIABLE] = "" if folder is None else str(folder / "openvino")

        self.onnx, self.openvino = onnx, openvino
        self.default_precision = str(openvino.Core().get_property("CPU", "INFERENCE_PRECISION_HINT"))

    def version(self) -> str:
        return f"openvino {self.openvino.__version__.split('-')[0]} (onnx {self.onnx.__version__}, opset {OPSET})"

    def precision_flags(self) -> dict[str, str]:
        return {"openvino CPU inference precision": f"f32 (precision: highest), the plugin's default "
                                                    f"{self.default_precision} (precision: default)"}

    def converter_text(self, conv: Conv, plan: Plan) -> str:
        return self.model_text(conv, plan) + "\n" + SERIALISE + COUNT

    def runtime_text(self, conv: Conv, plan: Plan) -> str:
        config = {"INFERENCE_PRECISION_HINT": "f32"} if conv.precision == "highest" else {}
        return "\n".join(["", "", "import os", "", "import numpy as np", "import openvino", "", "CORE = openvino.Core()",
                          f"CORE.set_property({{'CACHE_DIR': os.environ.get({CACHE_VARIABLE!r}, '')}})"
                          "  # compiled models kept on disk ('': none)",
                          f"CONFIG = {config!r}  # precision: {conv.precision}", "", "",
                          "def execute(artifact, x):",
                          '    """OpenVINO reads the ONNX model (read_model), compiles it for its CPU plugin, runs it."""',
                          '    STAGES.append("convert")',
                          '    compiled = CORE.compile_model(CORE.read_model(artifact, b""), "CPU", CONFIG)',
                          '    STAGES.append("run")', "    return compiled([x])[0]", "", "",
                          "def numpy(y):", "    return y", ""])
