"""Keras: every Conv*, Conv*Transpose, DepthwiseConv* and SeparableConv* layer of a model, nested ones too.

Read with Keras' own API: the layer's config attributes, its variables, and the shapes it is called
on in this model (each call of a shared layer is one case). With `--input-shape` the model runs once
on zeros and each convolution's `call` records what it is given: that sizes open (None) axes, an
unbuilt Sequential and a subclassed model alike. Kernels are stored (*k, in/groups, out) for Conv,
(*k, out, in) for Conv*Transpose, (*k, in, multiplier) for depthwise kernels and (1..., in*m, out)
for pointwise ones; each becomes the case model's layout here, with the depthwise output channel
c*m + q as Keras orders it. A transposed layer is written as the output Keras computes: its
`valid` with output_padding None is `in*s + max(k - s, 0)` long, and its `same` with an
output_padding and an even kernel one row short of the adjoint's (both recorded divergences of
Keras), so the case carries that output_padding or those crops explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..model.geometry import extent, same_pads
from .layer import Extraction, Layer, Unexpressed, per_axis

Shape = tuple[int, ...]


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


def _shown(shape: Sequence[Any]) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)


def _called_shapes(layer: Any, probed: dict[int, list[Shape]]) -> list[Shape]:
    """The distinct input shapes of the layer's calls in this model (or in the probe's run), in call order;
    a batch of None becomes 1."""
    if id(layer) in probed:
        shapes: list[tuple[Any, ...]] = list(probed[id(layer)])
    elif getattr(layer, "_inbound_nodes", None):
        shapes = [tuple(node.input_tensors[0].shape) for node in layer._inbound_nodes]
    elif getattr(layer, "_build_shapes_dict", None):
        shapes = [tuple(next(iter(layer._build_shapes_dict.values())))]
    else:
        raise _Cannot("the layer was never called, so its input size is unknown: give --input-shape")
    for shape in shapes:
        if any(d is None for d in shape[1:]):
            raise _Cannot(f"its input size is not fixed in this model ({_shown(shape)}): give --input-shape")
    return list(dict.fromkeys((1 if s[0] is None else int(s[0]), *(int(d) for d in s[1:])) for s in shapes))


def _to_neutral(kernel: np.ndarray, rank: int) -> np.ndarray:
    """(*k, a, b) -> (b, a, *k): Conv's (*k, in/g, out) and Conv*Transpose's (*k, out, in) alike."""
    return np.ascontiguousarray(np.transpose(kernel, (rank + 1, rank, *range(rank))))


def _depthwise(kernel: np.ndarray, rank: int) -> np.ndarray:
    """(*k, in, m) -> (in*m, 1, *k): output channel c*m + q, as Keras (and TF's depthwise conv) order them."""
    flat = kernel.reshape(*kernel.shape[:rank], -1)
    return np.ascontiguousarray(np.moveaxis(flat, -1, 0)[:, None])


def transposed_as_keras(padding: str, output_padding: Sequence[int] | None, size: Sequence[int],
                        kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> dict[str, Any]:
    """The case fields (padding, output_padding) of the output Keras' ConvTranspose computes
    (_get_output_shape_given_tf_padding in keras/src/backend/common/backend_utils.py, then TF's SAME crops)."""
    extents = [extent(k, d) for k, d in zip(kernel, dilation, strict=True)]
    if padding == "valid":
        extra = [max(e, s) - e for e, s in zip(extents, stride, strict=True)] if output_padding is None \
            else list(output_padding)
        return {"padding": "valid", **({"output_padding": extra} if any(extra) or output_padding is not None else {})}
    if output_padding is None or all(e % 2 for e in extents):
        return {"padding": "same", **({"output_padding": list(output_padding)} if output_padding is not None else {})}
    crops, extra = [], []
    for n, k, e, s, d, p in zip(size, kernel, extents, stride, dilation, output_padding, strict=True):
        out, full = (n - 1) * s + e % 2 + p, (n - 1) * s + e
        before = same_pads(out, k, s, d)[0]  # TF's SAME: the forward pads of an output this long
        after = full - out - before
        crops.append([before, max(after, 0)])
        extra.append(max(-after, 0))
    return {"padding": crops, "output_padding": extra}


def _overrides_call(layer: Any, bases: tuple[type, ...]) -> bool:
    """A subclass that changes what it convolves with (weight standardisation and the like): its kernel
    variable is not what the layer computes with."""
    base = next(b for b in bases if isinstance(layer, b))
    return any(getattr(type(layer), name, None) is not getattr(base, name, None)
               for name in ("call", "convolution_op"))


def _layer(layer: Any, family: str, shape: Shape, name: str) -> Layer:
    rank = len(layer.kernel_size)
    layout = layer.data_format
    channels, size = (shape[-1], shape[1:-1]) if layout == "channels_last" else (shape[1], shape[2:])
    kernel, stride = per_axis(layer.kernel_size, rank), per_axis(layer.strides, rank)
    dilation = per_axis(layer.dilation_rate, rank)
    fields: dict[str, Any] = {
        "batch": shape[0], "in_channels": channels, "input_size": list(size), "kernel_size": kernel,
        "stride": stride, "dilation": dilation, "padding": layer.padding, "bias": bool(layer.use_bias),
        "dtype": layer.dtype_policy.compute_dtype, "layout": layout}
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
        else:
            padding = per_axis(layer.output_padding, rank) if layer.output_padding is not None else None
            fields.update(transposed_as_keras(layer.padding, padding, list(size), kernel, stride, dilation))
        arrays = {"weights": _to_neutral(_numpy(layer.kernel), rank)}
    if layer.use_bias:
        arrays["bias"] = _numpy(layer.bias)
    return Layer(name=name, kind=type(layer).__name__, fields=fields, arrays=arrays)


def _probe(model: Any, convolutions: list[Any], input_shapes: Sequence[Shape]) -> dict[int, list[Shape]]:
    """Each convolution's input shapes when the model runs on zeros of these shapes, recorded by its own
    `call`: sizes a graph leaves open, an unbuilt Sequential, a subclassed model alike."""
    seen: dict[int, list[Shape]] = {id(layer): [] for layer in convolutions}
    originals = {id(layer): layer.call for layer in convolutions}

    def recording(layer: Any) -> Any:
        def call(inputs: Any, *args: Any, **kwargs: Any) -> Any:
            seen[id(layer)].append(tuple(int(d) for d in inputs.shape))
            return originals[id(layer)](inputs, *args, **kwargs)
        return call

    for layer in convolutions:
        layer.call = recording(layer)
    zeros = [np.zeros(shape, dtype="float32") for shape in input_shapes]
    try:
        model(zeros if len(zeros) > 1 else zeros[0])
    except Exception as exc:  # shapes that do not fit, a model that needs other inputs: the user's to fix
        raise ValueError(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
    finally:
        for layer in convolutions:
            del layer.call  # the class's own call again
    return {key: shapes for key, shapes in seen.items() if shapes}


def extract(model: Any, name: str, source: str, input_shapes: Sequence[Shape] = ()) -> Extraction:
    """Every convolution layer of a Keras model; with input_shapes, at the sizes a call on them gives."""
    extraction = Extraction(model=name, source=source)
    families = _classes()
    found = list(_walk(model, families))
    typed = [(layer, next((f for f, kinds in families.items() if isinstance(layer, kinds)), None)) for layer in found]
    convolutions = [layer for layer, family in typed if family not in (None, "recurrent")]
    probed = _probe(model, convolutions, input_shapes) if input_shapes else {}
    for layer, family in typed:
        kind = type(layer).__name__
        if family is None:
            continue
        if family == "recurrent":
            why = f"{kind} convolves inside a recurrence (its gates' convolutions are not one Conv* layer a case describes)"
        elif _overrides_call(layer, families[family]):
            why = f"{kind} overrides its convolution (call or convolution_op): its kernel is not what it convolves with"
        else:
            try:
                shapes = _called_shapes(layer, probed)
            except _Cannot as exc:
                why = str(exc)
            else:
                extraction.layers += [_layer(layer, family, shape, layer.name if i == 0 else f"{layer.name}_call{i + 1}")
                                      for i, shape in enumerate(shapes)]
                continue
        extraction.unexpressed.append(Unexpressed(layer.name, kind, why))
    return extraction
