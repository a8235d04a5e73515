"""The float64 NumPy reference convolution, independent of every framework under test.

Cross-correlation with groups, dilation, stride, per-side pads and padding modes. One
pass gives the output before bias `c`, the output `c + bias`, and the convolution of
absolute values `A` that the error bound needs (SPEC section 4). Work is one BLAS matmul
per kernel tap over a chunk of the batch, so extra memory stays bounded on large inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import geometry
from .data import Tensors
from .schema import Conv

NUMPY_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Reference:
    """The expected result, or why the configuration has none (`invalid`)."""

    invalid: str | None = None
    out: np.ndarray | None = None  # c + bias, float64 NCHW
    no_bias: np.ndarray | None = None  # c
    abs_conv: np.ndarray | None = None  # A = |x| (*) |w| + |bias|
    pads: geometry.Pads | None = None  # (low, consumed high) per axis

    @property
    def shape(self) -> tuple[int, ...] | None:
        return None if self.out is None else tuple(self.out.shape)


def invalid_reason(conv: Conv) -> str | None:
    """Why no output exists (SPEC section 3), or None for a valid configuration."""
    sizes = {"input_size": min(conv.input_size), "out_channels": conv.out_channels,
             "kernel_size": min(conv.kernel_size), "stride": min(conv.stride),
             "dilation": min(conv.dilation), "groups": conv.groups}
    for name, value in sizes.items():
        if value < 1:
            return f"{name} below 1"
    if conv.in_channels % conv.groups or conv.out_channels % conv.groups:
        return f"groups={conv.groups} does not divide in_channels={conv.in_channels} and out_channels={conv.out_channels}"
    pads = geometry.requested_pads(conv)
    assert pads is not None  # stride >= 1 here
    for axis in (0, 1):
        args = (conv.input_size[axis], conv.kernel_size[axis], conv.stride[axis], conv.dilation[axis])
        if geometry.out_size(*args, *pads[axis]) is None:
            return "the padded input is smaller than the dilated kernel"
    return None


def reference(conv: Conv, tensors: Tensors) -> Reference:
    reason = invalid_reason(conv)
    if reason is not None:
        return Reference(invalid=reason)
    requested = geometry.requested_pads(conv)
    assert requested is not None
    x = np.pad(tensors.input.astype(np.float64), ((0, 0), (0, 0), *requested),
               mode=NUMPY_PAD_MODE[conv.padding_mode])
    w = tensors.weights.astype(np.float64)
    c, a = _correlate(x, w, conv)
    if tensors.bias is None:
        out, abs_conv = c, a
    else:
        b = tensors.bias.astype(np.float64)[None, :, None, None]
        out = c + b
        abs_conv = a
        abs_conv += np.abs(b)  # in place: A is only ever needed with |bias|
    pads = tuple(
        (low, geometry.consumed_high(conv.input_size[ax], conv.kernel_size[ax], conv.stride[ax],
                                     conv.dilation[ax], low, out.shape[2 + ax]))
        for ax, (low, _) in enumerate(requested)
    )
    return Reference(out=out, no_bias=c, abs_conv=abs_conv, pads=pads)  # type: ignore[arg-type]


def _correlate(x: np.ndarray, w: np.ndarray, conv: Conv) -> tuple[np.ndarray, np.ndarray]:
    """Valid cross-correlation of the padded input: (x (*) w, |x| (*) |w|)."""
    n, channels, hp, wp = x.shape
    out_ch, per_group, kh, kw = w.shape
    groups = conv.groups
    (sh, sw), (dh, dw) = conv.stride, conv.dilation
    ho = (hp - geometry.extent(kh, dh)) // sh + 1
    wo = (wp - geometry.extent(kw, dw)) // sw + 1
    wg = w.reshape(groups, out_ch // groups, per_group, kh, kw)
    wg_abs = np.abs(wg)
    c = np.zeros((n, groups, out_ch // groups, ho * wo))
    a = np.zeros_like(c)
    step = max(1, CHUNK_BYTES // max(1, channels * ho * wo * 8))
    for start in range(0, n, step):
        block = x[start:start + step]
        for i in range(kh):
            for j in range(kw):
                patch = block[:, :, i * dh:i * dh + (ho - 1) * sh + 1:sh, j * dw:j * dw + (wo - 1) * sw + 1:sw]
                patch = patch.reshape(len(block), groups, per_group, ho * wo)
                c[start:start + step] += wg[:, :, :, i, j] @ patch
                a[start:start + step] += wg_abs[:, :, :, i, j] @ np.abs(patch)
    return c.reshape(n, out_ch, ho, wo), a.reshape(n, out_ch, ho, wo)
