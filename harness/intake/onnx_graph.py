"""ONNX: every Conv and ConvTranspose node of a graph, with its attributes, constant weights and input shape.

Read with onnx's own API: the graph's nodes in order, `onnx.shape_inference` for each node's
input shape (after `--input-shape` fixes the graph inputs' sizes), initializers and Constant
nodes for the weights. ONNX stores kernels as the case model does (torch's layout), pads as
(begins..., ends...), `auto_pad` as SAME_UPPER (the case's `same`) or SAME_LOWER (`same_lower`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .layer import Extraction, Layer, Unexpressed

_AUTO_PAD = {"SAME_UPPER": "same", "SAME_LOWER": "same_lower", "VALID": "valid"}


class _Cannot(Exception):
    """This node is a convolution no case can describe (the message says why)."""


def _constants(graph: Any) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    found = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            found[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return found


def _values(graph: Any) -> dict[str, tuple[tuple[Any, ...], int]]:
    """Each typed value's dims (an int where known, the dim's name or None where not) and element type."""
    values: dict[str, tuple[tuple[Any, ...], int]] = {}
    for info in (*graph.input, *graph.value_info, *graph.output):
        tensor = info.type.tensor_type
        if tensor.HasField("shape"):
            values[info.name] = (tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                                       for d in tensor.shape.dim), tensor.elem_type)
    return values


def _fix_inputs(model: Any, input_shapes: Sequence[tuple[int, ...]]) -> None:
    """--input-shape: the graph's data inputs (those no initializer feeds), in order, get these sizes."""
    initialised = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initialised]
    if len(input_shapes) != len(inputs):
        raise ValueError(f"--input-shape given {len(input_shapes)} time(s); the model has {len(inputs)} data "
                         f"input(s) ({', '.join(i.name for i in inputs)})")
    for info, shape in zip(inputs, input_shapes, strict=True):
        dims = info.type.tensor_type.shape.dim
        del dims[:]
        for size in shape:
            dims.add().dim_value = size


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _padding(attrs: dict[str, Any], rank: int, op: str) -> str | list[list[int]]:
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in _AUTO_PAD:
        if op == "conv_transpose" and auto != "VALID" and any(attrs.get("output_padding", [0] * rank)):
            raise _Cannot(f"ConvTranspose with auto_pad {auto} and output_padding: ONNX then crops for an output of "
                          "in*stride exactly, which no case field says")
        return _AUTO_PAD[auto]
    pads = list(attrs.get("pads", [0] * (2 * rank)))
    return [[pads[i], pads[i + rank]] for i in range(rank)]


def _transpose_crops(attrs: dict[str, Any], size: Sequence[int], kernel: Sequence[int], rank: int) -> list[list[int]]:
    """output_shape as the crops the ONNX spec derives from it: total = s*(in-1) + output_padding +
    (k-1)*d + 1 - out, the larger half at the end under SAME_UPPER, at the start otherwise."""
    strides = attrs.get("strides", [1] * rank)
    dilations = attrs.get("dilations", [1] * rank)
    extra = attrs.get("output_padding", [0] * rank)
    out = list(attrs["output_shape"])[-rank:]
    auto = attrs.get("auto_pad", b"NOTSET")
    upper = (auto.decode() if isinstance(auto, bytes) else str(auto)) == "SAME_UPPER"
    crops = []
    for i in range(rank):
        total = strides[i] * (size[i] - 1) + extra[i] + (kernel[i] - 1) * dilations[i] + 1 - out[i]
        if total < 0:
            raise _Cannot(f"output_shape {out} is longer than the full transposed output on axis {i}")
        half = total // 2
        crops.append([half, total - half] if upper else [total - half, half])
    return crops


def _layer(node: Any, name: str, constants: dict[str, np.ndarray],
           values: dict[str, tuple[tuple[Any, ...], int]]) -> Layer:
    op = "conv" if node.op_type == "Conv" else "conv_transpose"
    if len(node.input) < 2 or node.input[1] not in constants:
        raise _Cannot(f"its weights {node.input[1] if len(node.input) > 1 else ''!r} are computed in the graph, "
                      "not stored (an initializer or a Constant)")
    weights = constants[node.input[1]]
    has_bias = len(node.input) > 2 and node.input[2] != ""
    if has_bias and node.input[2] not in constants:
        raise _Cannot(f"its bias {node.input[2]!r} is computed in the graph, not stored")
    if node.input[0] not in values:
        raise _Cannot("shape inference gave no shape for its input: give --input-shape")
    shape, elem_type = values[node.input[0]]
    if any(not isinstance(d, int) or d == 0 for d in shape[1:]):
        raise _Cannot(f"its input size is not fixed ({'x'.join(str(d) for d in shape)}): give --input-shape")
    batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else 1
    rank = len(shape) - 2
    attrs = _attributes(node)
    groups = int(attrs.get("group", 1))
    kernel = list(attrs.get("kernel_shape", weights.shape[2:]))
    out = weights.shape[0] if op == "conv" else weights.shape[1] * groups
    fields: dict[str, Any] = {
        "op": op, "batch": batch, "in_channels": int(shape[1]), "input_size": [int(d) for d in shape[2:]],
        "out_channels": int(out), "kernel_size": kernel, "stride": list(attrs.get("strides", [1] * rank)),
        "dilation": list(attrs.get("dilations", [1] * rank)), "groups": groups, "bias": has_bias,
        "dtype": _dtype(elem_type)}
    if op == "conv_transpose" and "output_shape" in attrs:
        fields["padding"] = _transpose_crops(attrs, fields["input_size"], kernel, rank)
    else:
        fields["padding"] = _padding(attrs, rank, op)
    if op == "conv_transpose" and "output_padding" in attrs:
        fields["output_padding"] = list(attrs["output_padding"])
    arrays = {"weights": weights}
    if has_bias:
        arrays["bias"] = constants[node.input[2]]
    return Layer(name=name, kind=f"ONNX {node.op_type}", fields=fields, arrays=arrays)


def _dtype(elem_type: int) -> str:
    """An ONNX element type as the case model's dtype word (float32, bfloat16, ...), by onnx's own table."""
    from onnx import helper

    return str(helper.tensor_dtype_to_np_dtype(elem_type))


def extract(path: Path, input_shapes: Sequence[tuple[int, ...]] = ()) -> Extraction:
    """Every Conv and ConvTranspose of an ONNX file's main graph, in node order."""
    import onnx

    model = onnx.load(str(path))
    if input_shapes:
        _fix_inputs(model, input_shapes)
    model = onnx.shape_inference.infer_shapes(model)
    graph = model.graph
    constants, values = _constants(graph), _values(graph)
    extraction = Extraction(model=path.stem, source=str(path))  # graph names are generic: torch's main_graph
    for index, node in enumerate(graph.node):
        name = node.name or f"{node.op_type}_{index}"
        if node.op_type in ("Conv", "ConvTranspose") and node.domain in ("", "ai.onnx"):
            try:
                extraction.layers.append(_layer(node, name, constants, values))
            except _Cannot as exc:
                extraction.unexpressed.append(Unexpressed(name, f"ONNX {node.op_type}", str(exc)))
        elif "conv" in node.op_type.lower():  # QLinearConv, ConvInteger, DeformConv, contrib FusedConv
            extraction.unexpressed.append(Unexpressed(name, f"ONNX {node.op_type}", f"{node.op_type} is not a float "
                                                      "Conv or ConvTranspose (quantised, deformable or fused)"))
    return extraction
