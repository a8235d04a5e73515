"""ONNX Runtime: one ONNX `Conv` or `ConvTranspose` node, CPU execution provider.

The graph is built with `onnx.helper`: the input is a graph input, weights and bias are
initializers (the parameter count reads them back). Attributes as a converter writes them:
`auto_pad` VALID / SAME_UPPER / SAME_LOWER for the padding words, explicit `pads`
(all begins, then all ends) otherwise, `strides`, `dilations`, `group`, `output_padding`.
Padding modes other than zeros go through an ONNX `Pad` node (emulated). `separable` is two
`Conv` nodes, as converters write Keras' SeparableConv (depthwise `group` = in_channels, then
1x1). ONNX is
channels-first only and has no bfloat16 convolution.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..model import geometry
from ..model.schema import OPS, Conv
from .base import Adapter
from .program import Plan

OPSET = 21
IR_VERSION = 10  # what ONNX Runtime 1.31 reads; onnx 1.23 would write a newer one by default
RUN = '''


def run(x, w, b):
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # errors come back as exceptions
    session = onnxruntime.InferenceSession(model(x, w, b).SerializeToString(), options,
                                           providers=['CPUExecutionProvider'])
    return session.run(None, {'X': x})[0]


def numpy(y):
    return y
'''
COUNT = '''

def parameter_count(x, w, b):
    """Read back from the graph's initializers."""
    return sum(int(np.prod(t.dims)) for t in model(x, w, b).graph.initializer if t.name in ('W', 'P', 'B'))
'''
AUTO_PAD = {"valid": "VALID", "same": "SAME_UPPER", "same_lower": "SAME_LOWER"}


class OnnxRuntimeAdapter(Adapter):
    requires: ClassVar[tuple[str, ...]] = ("onnx", "onnxruntime")
    ops = frozenset(OPS)
    dtypes = frozenset({"float16", "float32", "float64"})
    valid_padding = "VALID"
    pad_modes = frozenset({"zeros", "reflect", "replicate", "circular"})
    differentiates = False

    def setup(self) -> None:
        import onnx
        import onnxruntime

        onnxruntime.set_default_logger_severity(4)  # errors come back as exceptions
        self.onnx, self.ort = onnx, onnxruntime

    def version(self) -> str:
        return f"onnxruntime {self.ort.__version__} (onnx {self.onnx.__version__}, opset {OPSET})"

    def precision_flags(self) -> dict[str, str]:
        return {"onnxruntime providers": "CPUExecutionProvider"}

    def padding_argument(self, conv: Conv) -> Any | None:
        return AUTO_PAD.get(str(conv.padding)) or geometry.conv_pads(conv)

    def native_crop(self, conv: Conv) -> Any | None:
        return AUTO_PAD.get(str(conv.padding)) or conv.padding

    def source(self, conv: Conv, plan: Plan) -> str:
        return self.model_text(conv, plan, "import onnxruntime") + RUN + COUNT

    def model_text(self, conv: Conv, plan: Plan, runtime_import: str = "") -> str:
        """`model(x, w, b)`: the case's ONNX model, built with onnx.helper (no runtime needed)."""
        attrs = node_attributes(conv, plan)
        kind = "ConvTranspose" if conv.op == "conv_transpose" else "Conv"
        separable = conv.op == "separable"
        what = ("Two Conv nodes (depthwise, group = in_channels; then the 1x1 pointwise with the bias)" if separable
                else f"One {kind} node")
        kernels = "[numpy_helper.from_array(w[0], 'W'), numpy_helper.from_array(w[1], 'P')]" if separable else \
            "[numpy_helper.from_array(w, 'W')]"
        lines = ["import numpy as np", *([runtime_import] if runtime_import else []), "from onnx import helper, numpy_helper", "", "",
                 "def model(x, w, b):", f'    """{what}; the weights and bias are initializers, as a converter writes them."""',
                 f"    inits = {kernels} + ([] if b is None else [numpy_helper.from_array(b, 'B')])",
                 "    nodes, source = [], 'X'"]
        if plan.pre_pad is not None:
            pads = [0, 0, *(low for low, _ in plan.pre_pad), 0, 0, *(high for _, high in plan.pre_pad)]
            lines += [f"    inits.append(numpy_helper.from_array(np.array({pads}, dtype=np.int64), 'pads'))",
                      f"    nodes.append(helper.make_node('Pad', ['X', 'pads'], ['Xp'], mode={self.pad_mode(conv)!r}))",
                      "    source = 'Xp'"]
        if separable:
            pointwise = {"kernel_shape": [1] * conv.rank}
            lines += [f"    nodes.append(helper.make_node('Conv', [source, 'W'], ['Z'], **{attrs!r}))  # depthwise",
                      "    inputs = ['Z', 'P'] + ([] if b is None else ['B'])",
                      f"    nodes.append(helper.make_node('Conv', inputs, ['Y'], **{pointwise!r}))  # pointwise"]
        else:
            lines += ["    inputs = [source, 'W'] + ([] if b is None else ['B'])",
                      f"    nodes.append(helper.make_node({kind!r}, inputs, ['Y'], **{attrs!r}))"]
        lines += [
                  "    elem = helper.np_dtype_to_tensor_dtype(x.dtype)",
                  "    graph = helper.make_graph(nodes, 'conv', [helper.make_tensor_value_info('X', elem, list(x.shape))],",
                  "                              [helper.make_tensor_value_info('Y', elem, None)], initializer=inits)",
                  f"    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', {OPSET})], "
                  f"ir_version={IR_VERSION})"]
        return "\n".join(lines)


def node_attributes(conv: Conv, plan: Plan) -> dict[str, Any]:
    """The Conv/ConvTranspose node's attributes, as a converter writes them."""
    attrs: dict[str, Any] = {"kernel_shape": list(conv.kernel_size), "strides": list(conv.stride),
                             "dilations": list(conv.dilation),
                             "group": conv.in_channels if conv.op == "separable" else conv.groups}
    if isinstance(plan.padding, str):
        attrs["auto_pad"] = plan.padding
    else:
        attrs["pads"] = [low for low, _ in plan.padding] + [high for _, high in plan.padding]
    if conv.op == "conv_transpose" and conv.output_size is not None and attrs.get("auto_pad", "").startswith("SAME"):
        attrs["output_shape"] = list(conv.output_size)  # ONNX's way to pick the length under auto_pad
    elif conv.op == "conv_transpose":
        attrs["output_padding"] = list(plan.output_padding or ())
    return attrs
