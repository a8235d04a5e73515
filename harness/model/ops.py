"""What each op means, independent of any framework: operand shapes, validity, output size.

`conv` is cross-correlation (what every framework calls convolution), `convolve` the same
with the kernel flipped on every spatial axis, `conv_transpose` the gradient of `conv`
with respect to its input, `separable` a depthwise conv (each input channel with its own
depth_multiplier kernels, no bias) then a 1x1 conv to out_channels with the bias (Keras'
SeparableConv). Weights are framework-neutral: (out, in/groups, *k) for conv and convolve,
(in, out/groups, *k) for conv_transpose, as torch stores them; separable has two, the
depthwise (in*m, 1, *k) and the pointwise (out, in*m, 1, ...), as torch's two modules hold them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import geometry

if TYPE_CHECKING:  # read, never built here
    from .schema import Conv

# A case's padding_mode as NumPy's np.pad (and jnp.pad, keras.ops.pad, ONNX Pad) names it: the one table
NUMPY_PAD_MODES: dict[str, Any] = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def weight_shape(conv: Conv) -> tuple[int, ...]:
    """With groups that do not divide the channels, the floor (the case is invalid then); separable: the
    depthwise kernel."""
    groups = conv.groups if conv.groups > 0 else 1
    if conv.op == "separable":
        return (conv.in_channels * conv.depth_multiplier, 1, *conv.kernel_size)
    if conv.op == "conv_transpose":
        return (conv.in_channels, conv.out_channels // groups, *conv.kernel_size)
    return (conv.out_channels, conv.in_channels // groups, *conv.kernel_size)


def pointwise_shape(conv: Conv) -> tuple[int, ...] | None:
    """separable's 1x1 kernel (out, in*m, 1, ...); None for the one-kernel ops."""
    if conv.op != "separable":
        return None
    return (conv.out_channels, conv.in_channels * conv.depth_multiplier, *(1,) * conv.rank)


def separable_stages(conv: Conv) -> tuple[Conv, Conv]:
    """separable as the two convolutions it is: the depthwise one (groups = in, no bias), then the
    pointwise 1x1 one (valid, stride 1, the bias) on the depthwise output."""
    middle = conv.in_channels * conv.depth_multiplier
    depthwise = conv.model_copy(update={"op": "conv", "out_channels": middle, "groups": conv.in_channels,
                                        "bias": False, "depth_multiplier": 1})
    size = output_spatial(depthwise) or conv.input_size
    ones = (1,) * conv.rank
    pointwise = conv.model_copy(update={"op": "conv", "in_channels": middle, "input_size": size, "kernel_size": ones,
                                        "stride": ones, "dilation": ones, "padding": "valid", "padding_mode": "zeros",
                                        "depth_multiplier": 1})
    return depthwise, pointwise


def input_shape(conv: Conv) -> tuple[int, ...]:
    return (conv.batch_size, conv.in_channels, *conv.input_size)


def terms(conv: Conv) -> int:
    """n: products summed into one output element at most (prod(k) * in/groups), +1 for the bias;
    separable: the depthwise sum's prod(k), then the pointwise sum's in*m (`bounds` composes the two)."""
    if conv.op == "separable":
        return math.prod(conv.kernel_size) + conv.in_channels * conv.depth_multiplier + int(conv.bias)
    groups = conv.groups if conv.groups > 0 else 1
    return math.prod(conv.kernel_size) * (conv.in_channels // groups) + int(conv.bias)


def stages(conv: Conv) -> int:
    """Sums computed one after the other, each result rounded before the next reads it."""
    return 2 if conv.op == "separable" else 1


def gradient_names(conv: Conv) -> tuple[str, ...]:
    """The gradients a backward pass compares: dL/dx, of every kernel, and of the bias when there is one."""
    kernels = ("dw", "dpw") if conv.op == "separable" else ("dw",)
    return ("dx", *kernels, *(("db",) if conv.bias else ()))


def expected_param_count(conv: Conv) -> int:
    """prod(k) * in * out / groups + bias * out; separable: in*m*prod(k) + out*in*m + bias * out."""
    if conv.op == "separable":
        middle = conv.in_channels * conv.depth_multiplier
        return middle * math.prod(conv.kernel_size) + conv.out_channels * middle + conv.bias * conv.out_channels
    groups = conv.groups if conv.groups > 0 else 1
    return math.prod(conv.kernel_size) * (conv.in_channels // groups) * conv.out_channels + conv.bias * conv.out_channels


def pads(conv: Conv) -> geometry.Pads | None:
    """Requested pads (conv, convolve) or crops (conv_transpose)."""
    return geometry.transpose_crops(conv) if conv.op == "conv_transpose" else geometry.conv_pads(conv)


def output_spatial(conv: Conv) -> tuple[int, ...] | None:
    """The reference's output size per axis, None when no output exists."""
    requested = pads(conv)
    if requested is None:
        return None
    sizes = []
    for a, (low, high) in enumerate(requested):
        args = (conv.input_size[a], conv.kernel_size[a], conv.stride[a], conv.dilation[a])
        if conv.op == "conv_transpose":
            size: int | None = geometry.transpose_full(*args) + conv.output_padding_axes[a] - low - high
        else:
            size = geometry.out_size(*args, low, high)
        if size is None or size < 1:
            return None
        sizes.append(size)
    return tuple(sizes)


def invalid_reason(conv: Conv) -> str | None:
    """Why no output exists (docs/statuses.md), or None for a valid configuration."""
    sizes = {"input_size": min(conv.input_size), "out_channels": conv.out_channels,
             "kernel_size": min(conv.kernel_size), "stride": min(conv.stride),
             "dilation": min(conv.dilation), "groups": conv.groups}
    for name, value in sizes.items():
        if value < 1:
            return f"{name} below 1"
    if conv.op == "separable" and conv.in_channels < 1:
        return "in_channels below 1: separable's depthwise part has groups = in_channels"
    if conv.in_channels % conv.groups or conv.out_channels % conv.groups:
        return (f"groups={conv.groups} does not divide in_channels={conv.in_channels} and "
                f"out_channels={conv.out_channels}")
    if conv.op == "conv_transpose" and conv.padding in ("same", "same_lower") and conv.output_padding is not None \
            and any(op >= s for op, s in zip(conv.output_padding, conv.stride)):
        return ("output_padding must be below the stride with 'same': (in-1)*s + 1 + output_padding is the "
                "length, and only lengths up to in*s are the adjoint of a 'same' convolution with in outputs")
    if output_spatial(conv) is None:
        if conv.op == "conv_transpose":
            return "the crops are larger than the transposed output"
        return "the padded input is smaller than the dilated kernel"
    return None


def effective_tap(conv: Conv, tap: tuple[int, ...]) -> tuple[int, ...]:
    """The tap a correlation sees: convolve flips the kernel, so tap t reads as k-1-t."""
    if conv.op == "convolve":
        return tuple(k - 1 - t for k, t in zip(conv.kernel_size, tap))
    return tap
