"""Keras: every Conv*, Conv*Transpose, DepthwiseConv* and SeparableConv* layer of a model, nested ones too.

Read with Keras' own API: the layer's config attributes, its variables, and the shape of the
tensor it was called on in this model (the first call, or the call on `--input-shape` inputs).
Kernels are stored (*k, in/groups, out) for Conv, (*k, out, in) for Conv*Transpose,
(*k, in, multiplier) for depthwise kernels and (1..., in*m, out) for pointwise ones; each becomes
the case model's layout here, with the depthwise output channel c*m + q as Keras orders it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .layer import Extraction, Layer, Unexpressed, per_axis


class _Cannot(Exception):
    """This layer is a convolution no case can describe (the message says why)."""


def _classes() -> dict[str, tuple[type, ...]]:
    import keras

    layers = keras.layers
    return {"separable": (layers.SeparableConv1D, layers.SeparableConv2D),
            "depthwise": (layers.DepthwiseConv1D, layers.DepthwiseConv2D),
            "conv_transpose": (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose),
            "conv": (layers.Conv1D, layers.Conv2D, layers.Conv3D),
            "recurrent": (layers.ConvLSTM1D, layers.ConvLSTM2D, layers.ConvLSTM3D)}


def _walk(layer: Any, families: dict[str, tuple[type, ...]]) -> Iterator[Any]:
    """Every layer inside, depth first in the order Keras tracks them (model order); not the insides of a
    convolution (ConvLSTM2D's cell is part of it)."""
    for inner in layer._flatten_layers(include_self=False, recursive=False):
        yield inner
        if not any(isinstance(inner, kinds) for kinds in families.values()):
            yield from _walk(inner, families)


def _numpy(variable: Any) -> np.ndarray:
    import keras

    array = np.asarray(keras.ops.convert_to_numpy(variable))
    return array.astype(np.float32) if array.dtype.name == "bfloat16" else array  # npz stores no bfloat16


def _called_shape(layer: Any, probed: dict[int, tuple[int, ...]]) -> tuple[int, ...]:
    """The input shape of the layer's call in this model (or of the probe's call); the batch None becomes 1."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if id(layer) in probed:
        shape = probed[id(layer)]
    elif nodes:
        shape = tuple(nodes[0].input_tensors[0].shape)
    else:
        built = getattr(layer, "_build_shapes_dict", None) or {}
        if not built:
            raise _Cannot("the layer was never called, so its input size is unknown: give --input-shape")
        shape = tuple(next(iter(built.values())))
    if any(d is None for d in shape[1:]):
        raise _Cannot(f"its input size is not fixed in this model ({_shown(shape)}): give --input-shape")
    return (1 if shape[0] is None else int(shape[0]), *(int(d) for d in shape[1:]))


def _shown(shape: Sequence[Any]) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)


def _to_neutral(kernel: np.ndarray, rank: int) -> np.ndarray:
    """(*k, a, b) -> (b, a, *k): Conv's (*k, in/g, out) and Conv*Transpose's (*k, out, in) alike."""
    return np.ascontiguousarray(np.transpose(kernel, (rank + 1, rank, *range(rank))))


def _depthwise(kernel: np.ndarray, rank: int) -> np.ndarray:
    """(*k, in, m) -> (in*m, 1, *k): output channel c*m + q, as Keras (and TF's depthwise conv) order them."""
    flat = kernel.reshape(*kernel.shape[:rank], -1)
    return np.ascontiguousarray(np.moveaxis(flat, -1, 0)[:, None])


def _layer(layer: Any, family: str, probed: dict[int, tuple[int, ...]]) -> Layer:
    rank = len(layer.kernel_size)
    shape = _called_shape(layer, probed)
    layout = layer.data_format
    channels, size = (shape[-1], shape[1:-1]) if layout == "channels_last" else (shape[1], shape[2:])
    fields: dict[str, Any] = {
        "batch": shape[0], "in_channels": channels, "input_size": list(size),
        "kernel_size": per_axis(layer.kernel_size, rank), "stride": per_axis(layer.strides, rank),
        "dilation": per_axis(layer.dilation_rate, rank), "padding": layer.padding,
        "bias": bool(layer.use_bias), "dtype": layer.dtype_policy.compute_dtype, "layout": layout}
    if family == "separable":
        m = int(layer.depth_multiplier)
        fields.update(op="separable", out_channels=int(layer.filters), depth_multiplier=m)
        arrays = {"weights": _depthwise(_numpy(layer.depthwise_kernel), rank),
                  "pointwise": _to_neutral(_numpy(layer.pointwise_kernel), rank)}
    elif family == "depthwise":
        m = int(layer.depth_multiplier)
        fields.update(op="conv", out_channels=channels * m, groups=channels)
        arrays = {"weights": _depthwise(_numpy(layer.kernel), rank)}
    else:
        fields.update(op=family, out_channels=int(layer.filters))
        if family == "conv":
            fields["groups"] = int(layer.groups)
        elif layer.output_padding is not None:
            fields["output_padding"] = per_axis(layer.output_padding, rank)
        arrays = {"weights": _to_neutral(_numpy(layer.kernel), rank)}
    if layer.use_bias:
        arrays["bias"] = _numpy(layer.bias)
    return Layer(name=layer.name, kind=type(layer).__name__, fields=fields, arrays=arrays)


def _probe(model: Any, convolutions: list[Any], input_shapes: Sequence[tuple[int, ...]]) -> dict[int, tuple[int, ...]]:
    """Each convolution's input shape when the model runs on zeros of these shapes: a functional model's
    graph gives sizes it leaves open (None) only when it runs."""
    import keras

    if len(input_shapes) != len(model.inputs):
        raise ValueError(f"{len(input_shapes)} --input-shape given, the model has {len(model.inputs)} inputs")
    called = [layer for layer in convolutions if getattr(layer, "_inbound_nodes", None)]
    probe = keras.Model(model.inputs, [layer._inbound_nodes[0].input_tensors[0] for layer in called])
    outputs = probe([np.zeros(shape, dtype="float32") for shape in input_shapes])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {id(layer): tuple(int(d) for d in out.shape) for layer, out in zip(called, outputs, strict=True)}


def extract(model: Any, name: str, source: str, input_shapes: Sequence[tuple[int, ...]] = ()) -> Extraction:
    """Every convolution layer of a Keras model; with input_shapes, at the sizes a call on them gives."""
    extraction = Extraction(model=name, source=source)
    families = _classes()
    found = list(_walk(model, families))
    convolutions = [layer for layer in found if any(isinstance(layer, k) for f, k in families.items() if f != "recurrent")]
    probed = _probe(model, convolutions, input_shapes) if input_shapes else {}
    for layer in found:
        family = next((f for f, kinds in families.items() if isinstance(layer, kinds)), None)
        kind = type(layer).__name__
        if family is None:
            continue
        if family == "recurrent":
            extraction.unexpressed.append(Unexpressed(layer.name, kind, f"{kind} convolves inside a recurrence (its "
                                                      "gates' convolutions are not one Conv* layer a case describes)"))
            continue
        try:
            extraction.layers.append(_layer(layer, family, probed))
        except _Cannot as exc:
            extraction.unexpressed.append(Unexpressed(layer.name, kind, str(exc)))
    return extraction
