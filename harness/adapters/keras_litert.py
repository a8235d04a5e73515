"""Route Keras -> LiteRT: the `keras` adapter's layer (Keras 3 on TensorFlow) in a Keras model, converted by
`tf.lite.TFLiteConverter.from_keras_model` and run by the LiteRT interpreter (`ai-edge-litert`).

The model is `keras.Model(inputs, forward(inputs))`: the layer, after `keras.ops.pad` where the case's
pads are emulated (a `keras.Sequential` cannot hold that op; without it the two are the same graph). The
converter's defaults: no optimisations, builtin ops only. The interpreter is fed the case's layout. Stages:
`build`, `convert`, `run`. On the CPU whatever HARNESS_DEVICE says.
"""

from __future__ import annotations

from ..model.schema import Conv
from .keras import KerasAdapter
from .program import Plan
from .route import Route, litert

CONVERT = '''

def convert(x, w, b):
    """tf.lite.TFLiteConverter.from_keras_model of a model around the layer holding w and b; the .tflite."""
    STAGES.append("build")
    with keras.device(DEVICE):
        assign(w, b)
        inputs = keras.Input(batch_shape=INPUT_SHAPE, dtype=DTYPE)
        converted = keras.Model(inputs, forward(inputs))
    STAGES.append("convert")
    return tf.lite.TFLiteConverter.from_keras_model(converted).convert()
'''


class KerasLiteRtAdapter(Route, KerasAdapter):
    requires = ("keras", "tensorflow", "ai_edge_litert")
    converts_with = ("keras", "tensorflow")
    builds_as = "keras"  # its module is the keras adapter's: refusals building it are recorded there
    artifact_suffix = ".tflite"
    initialiser_rule = None  # the layer's defaults are the keras adapter's to measure

    def setup(self) -> None:
        super().setup()
        import importlib.metadata

        self.litert = importlib.metadata.version("ai-edge-litert")

    def version(self) -> str:
        return f"keras {self.keras.__version__} (tensorflow {self.engine.__version__}) -> ai-edge-litert {self.litert}"

    def precision_flags(self) -> dict[str, str]:
        return {"TFLiteConverter": "the defaults (no optimizations, TFLITE_BUILTINS)",
                "TF_ENABLE_ONEDNN_OPTS": "1 (as the keras adapter)"}

    def converter_text(self, conv: Conv, plan: Plan) -> str:
        last = conv.layout == "channels_last"
        shape = (conv.batch_size, *conv.input_size, conv.in_channels) if last else \
            (conv.batch_size, conv.in_channels, *conv.input_size)
        return self.layer_text(conv, plan) + f"\n\nINPUT_SHAPE = {shape}  # the case's input, in its layout\n" + CONVERT

    def runtime_text(self, conv: Conv, plan: Plan) -> str:
        return litert(conv.layout == "channels_last")
