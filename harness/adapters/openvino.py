"""Route ONNX -> OpenVINO: the case's ONNX model (the one the `onnxruntime` adapter builds) read by
OpenVINO and compiled for its CPU plugin.

A route fails in one of three stages, which its rows name (`stage`): `build` (the ONNX model),
`convert` (`Core.read_model`, OpenVINO's ONNX frontend, and `compile_model`) or `run` (the inference).
`precision: highest` compiles with INFERENCE_PRECISION_HINT f32; `precision: default` leaves the CPU
plugin's own default, which is bf16 on CPUs with native bfloat16 (AVX512_BF16, AMX), f32 elsewhere.
No gradients (an inference engine).
"""

from __future__ import annotations

from ..model.schema import Conv
from .onnxruntime import OPSET, OnnxRuntimeAdapter


class OpenVinoAdapter(OnnxRuntimeAdapter):
    requires = ("onnx", "openvino")
    runtime = "openvino"

    def setup(self) -> None:
        import onnx
        import openvino

        self.onnx, self.openvino = onnx, openvino
        self.default_precision = str(openvino.Core().get_property("CPU", "INFERENCE_PRECISION_HINT"))

    def version(self) -> str:
        return f"openvino {self.openvino.__version__.split('-')[0]} (onnx {self.onnx.__version__}, opset {OPSET})"

    def precision_flags(self) -> dict[str, str]:
        return {"openvino CPU inference precision": f"f32 (precision: highest), the plugin's default "
                                                    f"{self.default_precision} (precision: default)"}

    def runner(self, conv: Conv) -> list[str]:
        config = {"INFERENCE_PRECISION_HINT": "f32"} if conv.precision == "highest" else {}
        return ["CORE = openvino.Core()", f"CONFIG = {config!r}  # precision: {conv.precision}",
                "STAGES = []  # how far the last call got: build, convert, run", "", "",
                "def stage():", '    """The stage the last call reached (where it failed, if it did)."""',
                "    return STAGES[-1] if STAGES else None", "", "",
                "def run(x, w, b):", '    STAGES[:] = ["build"]', "    onnx_model = model(x, w, b).SerializeToString()",
                '    STAGES.append("convert")',
                '    compiled = CORE.compile_model(CORE.read_model(onnx_model, b""), "CPU", CONFIG)',
                '    STAGES.append("run")', "    return compiled([x])[0]"]
