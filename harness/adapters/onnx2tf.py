"""Route ONNX -> onnx2tf -> LiteRT: the case's ONNX model (the one the `onnxruntime` adapter builds)
converted by `onnx2tf.convert` to a float32 .tflite, run by the LiteRT interpreter (`ai-edge-litert`).

onnx2tf turns channels-first graphs channels-last: the .tflite takes N spatial... C and returns the same,
as its users feed it. Offline, onnx2tf cannot fetch the sample images it checks 3-channel 4-D inputs with
(from GitHub, `download_test_image_data`): it reads them from the working folder first, so the program
writes a seeded uniform sample of the same shape there. Stages: `build` (the ONNX model), `convert`,
`run`. Its printed output goes to the report's log.
"""

from __future__ import annotations

from ..model.schema import Conv
from .onnxruntime import COUNT, OPSET, OnnxRuntimeAdapter
from .program import Plan
from .route import Route, litert

CONVERT = '''

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

import onnx2tf

SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"  # what onnx2tf would download


def convert(x, w, b):
    """onnx2tf.convert of the case's ONNX model, in a scratch folder; the float32 .tflite it writes."""
    STAGES.append("build")
    onnx_model = model(x, w, b)
    STAGES.append("convert")
    printed, here = io.StringIO(), os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder, SAMPLE), np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
        os.chdir(folder)  # onnx2tf looks for SAMPLE in the working folder before it downloads it
        try:
            with contextlib.redirect_stdout(printed):
                onnx2tf.convert(onnx_graph=onnx_model, output_folder_path=folder, non_verbose=True)
        except SystemExit as exit:  # onnx2tf prints its error and calls sys.exit(1)
            said = re.sub(r"\\x1b\\[[0-9;]*m", "", printed.getvalue()).split("\\n")
            errors = [line.strip() for line in said if "ERROR" in line or "Error" in line] or said[-3:]
            raise RuntimeError(f"onnx2tf.convert exited ({exit.code}): {' '.join(errors)}") from None
        finally:
            os.chdir(here)
            print(printed.getvalue(), end="")  # onnx2tf's own output, for the log
        return Path(folder, "model_float32.tflite").read_bytes()
'''


class Onnx2TfAdapter(Route, OnnxRuntimeAdapter):
    requires = ("onnx", "onnx2tf", "tensorflow", "ai_edge_litert")
    converts_with = ("onnx", "onnx2tf", "tensorflow", "tf_keras")
    artifact_suffix = ".tflite"

    def setup(self) -> None:
        import importlib.metadata

        import onnx
        import onnx2tf

        self.onnx, self.onnx2tf = onnx, onnx2tf
        self.versions = {name: importlib.metadata.version(name) for name in ("tensorflow-cpu", "ai-edge-litert")}

    def version(self) -> str:
        return (f"onnx2tf {self.onnx2tf.__version__} (tensorflow {self.versions['tensorflow-cpu']}, onnx "
                f"{self.onnx.__version__}, opset {OPSET}) -> ai-edge-litert {self.versions['ai-edge-litert']}")

    def precision_flags(self) -> dict[str, str]:
        return {"onnx2tf": "the defaults (the float32 .tflite)"}

    def converter_text(self, conv: Conv, plan: Plan) -> str:
        return self.model_text(conv, plan) + "\n" + COUNT + CONVERT

    def runtime_text(self, conv: Conv, plan: Plan) -> str:
        return litert(channels_last=True)
