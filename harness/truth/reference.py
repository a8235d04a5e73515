"""The float64 NumPy reference for every op and rank, independent of every framework under test.

One pass gives the output before bias `c`, the output `c + bias`, and the same computation
on absolute values `A` that the error bound needs. Work is one BLAS matmul per kernel tap
over a chunk of the batch, so extra memory stays bounded on large inputs. `conv_transpose`
scatters each input element to `i*s + tap*d` of the full output, then extends it by
output_padding and crops it (a negative high crop extends it with zeros). `separable` is its
two convolutions in turn, A composed through both: |pw| (*) (|w| (*) |x|).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model import geometry, ops
from . import deadline

if TYPE_CHECKING:  # the reference reads the case's operands; making them is data.py's business
    from ..model.data import Tensors
    from ..model.schema import Conv

CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Reference:
    """The expected result, or why the configuration has none (`invalid`)."""

    invalid: str | None = None
    out: np.ndarray | None = None  # c + bias, float64, N C spatial...
    no_bias: np.ndarray | None = None  # c
    abs_conv: np.ndarray | None = None  # A = |x| (*) |w| + |bias|
    pads: geometry.Pads | None = None  # conv: (low, consumed high); conv_transpose: (low, high) crops

    @property
    def shape(self) -> tuple[int, ...] | None:
        return None if self.out is None else tuple(self.out.shape)


def invalid_reason(conv: Conv) -> str | None:
    return ops.invalid_reason(conv)


def reference(conv: Conv, tensors: Tensors) -> Reference:
    reason = ops.invalid_reason(conv)
    if reason is not None:
        return Reference(invalid=reason)
    requested = ops.pads(conv)
    assert requested is not None
    x = tensors.input.astype(np.float64)
    w = tensors.weights.astype(np.float64)
    if conv.op == "conv_transpose":
        c, a = _transpose(x, w, conv, requested)
        pads = requested
    else:
        if conv.op == "convolve":
            w = np.flip(w, axis=tuple(range(2, w.ndim)))
        x = np.pad(x, ((0, 0), (0, 0), *requested), mode=ops.NUMPY_PAD_MODES[conv.padding_mode])
        c, a = _separable(x, w, tensors.pointwise, conv) if conv.op == "separable" else _correlate(x, w, conv)
        pads = tuple(
            (low, geometry.consumed_high(conv.input_size[ax], conv.kernel_size[ax], conv.stride[ax],
                                         conv.dilation[ax], low, c.shape[2 + ax]))
            for ax, (low, _) in enumerate(requested))
    if tensors.bias is None:
        return Reference(out=c, no_bias=c, abs_conv=a, pads=pads)
    b = tensors.bias.astype(np.float64).reshape((1, -1) + (1,) * conv.rank)
    a += np.abs(b)  # in place: A is only ever needed with |bias|
    return Reference(out=c + b, no_bias=c, abs_conv=a, pads=pads)


def _taps(kernel: tuple[int, ...]) -> itertools.product[tuple[int, ...]]:
    return itertools.product(*(range(k) for k in kernel))


def _batch_step(per_item_bytes: int) -> int:
    return max(1, CHUNK_BYTES // max(1, per_item_bytes))


def _correlate(x: np.ndarray, w: np.ndarray, conv: Conv) -> tuple[np.ndarray, np.ndarray]:
    """Valid cross-correlation of the padded input: (x (*) w, |x| (*) |w|)."""
    n, channels = x.shape[:2]
    out_ch, per_group = w.shape[:2]
    kernel, groups = w.shape[2:], conv.groups
    stride, dilation = conv.stride, conv.dilation
    out = tuple((x.shape[2 + a] - geometry.extent(kernel[a], dilation[a])) // stride[a] + 1 for a in range(conv.rank))
    positions = math.prod(out)
    wg = w.reshape(groups, out_ch // groups, per_group, *kernel)
    wg_abs = np.abs(wg)
    c = np.zeros((n, groups, out_ch // groups, positions))
    a = np.zeros_like(c)
    step = _batch_step(channels * positions * 8)
    for start in range(0, n, step):
        block = x[start:start + step]
        for tap in _taps(kernel):
            deadline.check()
            window = tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in zip(tap, dilation, out, stride))
            patch = block[(slice(None), slice(None), *window)].reshape(len(block), groups, per_group, positions)
            index: tuple[Any, ...] = (slice(None), slice(None), slice(None), *tap)
            c[start:start + step] += wg[index] @ patch
            a[start:start + step] += wg_abs[index] @ np.abs(patch)
    return c.reshape(n, out_ch, *out), a.reshape(n, out_ch, *out)


def _separable(x: np.ndarray, w: np.ndarray, pointwise: np.ndarray | None, conv: Conv) -> tuple[np.ndarray, np.ndarray]:
    """The depthwise correlation of the padded input, then the pointwise one of its result."""
    assert pointwise is not None
    depthwise, one_by_one = ops.separable_stages(conv)
    z, abs_z = _correlate(x, w, depthwise)
    pw = pointwise.astype(np.float64)
    return _correlate(z, pw, one_by_one)[0], _correlate(abs_z, pw, one_by_one)[1]


def _transpose(x: np.ndarray, w: np.ndarray, conv: Conv, crops: geometry.Pads) -> tuple[np.ndarray, np.ndarray]:
    """Scatter-add transposed convolution, extended by output_padding and cropped."""
    n, in_ch = x.shape[:2]
    size = x.shape[2:]
    _, per_group_out, *kernel = w.shape
    groups, stride, dilation = conv.groups, conv.stride, conv.dilation
    full = tuple(geometry.transpose_full(size[a], kernel[a], stride[a], dilation[a]) for a in range(conv.rank))
    wg = w.reshape(groups, in_ch // groups, per_group_out, *kernel)
    wg_abs = np.abs(wg)
    c = np.zeros((n, groups, per_group_out, *full))
    a = np.zeros_like(c)
    step = _batch_step(in_ch * math.prod(size) * 8)
    for start in range(0, n, step):
        items = x[start:start + step]
        block = items.reshape(len(items), groups, in_ch // groups, math.prod(size))  # not -1: 0 channels is legal
        stop = start + len(block)
        for tap in _taps(tuple(kernel)):
            deadline.check()
            index: tuple[Any, ...] = (slice(None), slice(None), slice(None), *tap)
            target = (slice(start, stop), slice(None), slice(None),
                      *(slice(t * d, t * d + (s_ - 1) * s + 1, s) for t, d, s_, s in zip(tap, dilation, size, stride)))
            shape = (len(items), groups, per_group_out, *size)
            c[target] += (wg[index].swapaxes(1, 2) @ block).reshape(shape)
            a[target] += (wg_abs[index].swapaxes(1, 2) @ np.abs(block)).reshape(shape)
    out_ch = groups * per_group_out
    return (_crop(c.reshape(n, out_ch, *full), crops, conv.output_padding_axes),
            _crop(a.reshape(n, out_ch, *full), crops, conv.output_padding_axes))


def _crop(full: np.ndarray, crops: geometry.Pads, output_padding: tuple[int, ...]) -> np.ndarray:
    """full + output_padding zeros at the end, minus (low, high) crops; a negative high adds zeros."""
    spatial = full.shape[2:]
    out = tuple(spatial[a] + output_padding[a] - low - high for a, (low, high) in enumerate(crops))
    result = np.zeros(full.shape[:2] + out)
    src = tuple(slice(low, min(spatial[a], low + out[a])) for a, (low, _) in enumerate(crops))
    dst = tuple(slice(0, max(0, min(spatial[a], low + out[a]) - low)) for a, (low, _) in enumerate(crops))
    result[(slice(None), slice(None), *dst)] = full[(slice(None), slice(None), *src)]
    return result
