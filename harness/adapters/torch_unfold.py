"""PyTorch as custom layers write convolution (`torch-unfold`): im2col, then a matmul.

`torch.nn.functional.unfold` cuts every kernel window into a column, a matmul with the kernel as a
matrix (out x in*kh*kw, one per group) gives the output; `conv_transpose` is the transposed matrix
times the input, then `torch.nn.functional.fold` (col2im) adds the columns back into the image.
This is the textbook derivation of convolution, and the adapter tests unfold's and fold's own
`padding`, `stride` and `dilation` arguments against the reference. 2-D natively, 1-D as 2-D with
a unit axis; no 3-D (unfold and fold take 4-D tensors only). Native: valid and symmetric zero pads
(`unfold(padding=)`), valid and symmetric crops (`fold(padding=, output_size=)`) with
output_padding below the stride; other pads through `F.pad`, other crops (and an output_padding
at or above the stride) cut from the full output, extended by zeros (emulated).
"""

from __future__ import annotations

from typing import Any

from ..model.geometry import conv_pads
from ..model.schema import Conv
from .base import symmetric
from .program import Plan
from .torch import TorchFunctionalAdapter

UNFOLD = '''

def as_image(x, w):
    """1-D as 2-D: a unit axis before the one spatial axis of x and w (unfold and fold take images)."""
    return (x[:, :, None], w[:, :, None]) if x.ndim == 3 else (x, w)


def unfold_conv(x, w, b):
    """im2col, then one matmul per group with the kernel as a (out/groups) x (in/groups*kh*kw) matrix."""
    flat, (x, w) = x.ndim == 3, as_image(x, w)
    n, h, width = x.shape[0], x.shape[2], x.shape[3]
    cols = torch.nn.functional.unfold(x, KERNEL, dilation=DILATION, padding=PADDING, stride=STRIDE)
    out = [(size + 2 * p - d * (k - 1) - 1) // s + 1
           for size, p, d, k, s in zip((h, width), PADDING, DILATION, KERNEL, STRIDE)]
    per_group = cols.shape[1] // GROUPS  # in/groups * kh * kw: sizes written out, as an empty batch needs
    y = w.reshape(GROUPS, w.shape[0] // GROUPS, per_group) @ cols.reshape(n, GROUPS, per_group, out[0] * out[1])
    y = y.reshape(n, w.shape[0], *out)
    y = y if b is None else y + b.reshape(1, -1, 1, 1)
    return y[:, :, 0] if flat else y


def fold_conv_transpose(x, w, b):
    """The transposed matrix times the input, one matmul per group, then col2im (fold) adds the columns up."""
    flat, (x, w) = x.ndim == 3, as_image(x, w)
    n, c, h, width = x.shape
    per_group = w.shape[1] * KERNEL[0] * KERNEL[1]  # out/groups * kh * kw
    cols = w.reshape(GROUPS, c // GROUPS, per_group).transpose(1, 2) @ x.reshape(n, GROUPS, c // GROUPS, h * width)
    # output_padding goes into fold's output_size where fold crops (it moves the high crop, as torch's rule
    # does); with no crop it is zeros after the output, where no column reaches (fold would count a window more)
    inside = [op if p else 0 for p, op in zip(PADDING, OUTPUT_PADDING)]
    size = [(i - 1) * s - 2 * p + d * (k - 1) + 1 + extra
            for i, s, p, d, k, extra in zip((h, width), STRIDE, PADDING, DILATION, KERNEL, inside)]
    y = torch.nn.functional.fold(cols.reshape(n, GROUPS * per_group, h * width), size, KERNEL, dilation=DILATION,
                                 padding=PADDING, stride=STRIDE)
    after = [op - extra for op, extra in zip(OUTPUT_PADDING, inside)]
    y = torch.nn.functional.pad(y, [0, after[1], 0, after[0]])
    y = y if b is None else y + b.reshape(1, -1, 1, 1)
    return y[:, :, 0] if flat else y
'''


def image(values: tuple[int, ...], unit: int) -> tuple[int, ...]:
    """A per-axis value of a 1-D case on the unit axis too (kernel, stride, dilation 1; pad 0)."""
    return (unit, *values) if len(values) == 1 else values


class TorchUnfoldAdapter(TorchFunctionalAdapter):
    """`torch.nn.functional.unfold` + matmul, and matmul + `torch.nn.functional.fold` for conv_transpose."""

    ops = frozenset({"conv", "convolve", "conv_transpose"})
    ranks = frozenset({1, 2})
    unbatched = False

    def padding_argument(self, conv: Conv) -> Any | None:
        pads = conv_pads(conv)  # 'same' too, where its pads are symmetric: unfold has no padding words
        return None if pads is None else symmetric(pads)

    def native_crop(self, conv: Conv) -> Any | None:
        if conv.padding == "valid":
            return (0,) * conv.rank
        crops = symmetric(conv.padding) if isinstance(conv.padding, tuple) else None
        if crops is None or any(c and op >= s for c, op, s in zip(crops, conv.output_padding_axes, conv.stride)):
            return None  # fold cannot take an output_padding at or above the stride inside its output_size
        return crops

    def construct(self, conv: Conv, plan: Plan) -> list[str]:
        padding = plan.padding if isinstance(plan.padding, tuple) else (plan.padding,) * conv.rank
        constants = {"KERNEL": image(conv.kernel_size, 1), "STRIDE": image(conv.stride, 1),
                     "DILATION": image(conv.dilation, 1), "PADDING": image(padding, 0), "GROUPS": conv.groups}
        if conv.op == "conv_transpose":
            constants["OUTPUT_PADDING"] = image(plan.output_padding or (0,) * conv.rank, 0)
        return [f"{name} = {value}" for name, value in constants.items()] + UNFOLD.splitlines()

    def call(self, conv: Conv, plan: Plan, x: str) -> str:
        return f"{'fold_conv_transpose' if conv.op == 'conv_transpose' else 'unfold_conv'}({x}, w, b)"
