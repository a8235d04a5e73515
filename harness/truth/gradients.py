"""Float64 reference gradients of L = sum(y * g) for every op and rank, with their error bounds.

conv:           dx is the transposed convolution of g with w, folded back through the pad op
                (reflect, replicate and circular pads send several padded positions to one
                input position); dw correlates the padded input with g; db sums g.
convolve:       conv with the flipped kernel; dw is flipped back.
conv_transpose: the roles swap: dx correlates g (placed back into the full output) with w,
                dw correlates x with it, db sums g.
separable:      the chain rule through its two convolutions: the pointwise one's gradients (dz,
                dpw, db), then the depthwise one's for the cotangent dz (dx, dw); A through both.
Each gradient comes with A (the same computation on absolute values) and n (the most products
summed into one element), so its bound is gamma_n * A + u_out * (|ref| + (folds - 1) * A) (harness/truth/bounds.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import geometry, ops
from ..model.data import fill
from ..model.datasource import is_kind
from ..model.dtypes import NUMPY
from ..model.schema import Conv
from . import bounds, deadline
from .reference import _correlate, _transpose


@dataclass(frozen=True)
class Gradient:
    value: np.ndarray
    abs_value: np.ndarray  # A: the same computation on absolute values
    terms: int  # n: products summed into one element at most
    folds: int = 1  # pad positions folded into one input position (1 without a pad adjoint)
    stages: int = 1  # sums in turn, the first rounded before the second (separable)

    def bound(self, conv: Conv, u_acc: float | None = None, u_out: float | None = None) -> np.ndarray:
        """`bounds.gradient`: the forward pass's accumulation model, folds counted only where they fold."""
        return bounds.gradient(self.terms, conv.dtype, self.value, self.abs_value, self.folds, u_acc, self.stages,
                               u_out)


def cotangent(conv: Conv, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """g: filled like the input (data.input; standard normal when the input is the user's own array),
    from its own seed, rounded to the case dtype."""
    kind = conv.data.input if is_kind(conv.data.input) else "normal"
    rng = np.random.default_rng(seed + 1)
    return np.asarray(fill(kind, shape, rng).astype(NUMPY[conv.dtype]))


def _pad_adjoint(grad: np.ndarray, conv: Conv, pads: geometry.Pads) -> tuple[np.ndarray, int]:
    """Fold a gradient w.r.t. the padded input back onto the input, axis by axis; and the most
    padded positions any one input position received (the extra additions the bound allows)."""
    mode = ops.NUMPY_PAD_MODES[conv.padding_mode]
    folds = 1
    for axis, (size, (low, high)) in enumerate(zip(conv.input_size, pads)):
        kwargs: dict[str, Any] = {"constant_values": -1} if mode == "constant" else {}
        source = np.pad(np.arange(size), (low, high), mode=mode, **kwargs)
        keep = source >= 0
        moved = np.moveaxis(grad, 2 + axis, 0)
        out = np.zeros((size, *moved.shape[1:]))
        np.add.at(out, source[keep], moved[: len(source)][keep])
        grad = np.moveaxis(out, 0, 2 + axis)
        if keep.any():
            folds *= int(np.bincount(source[keep]).max())
    return grad, folds


def _weight_grad(inputs: np.ndarray, grads: np.ndarray, groups: int, kernel: tuple[int, ...],
                 stride: tuple[int, ...], dilation: tuple[int, ...], count: tuple[int, ...],
                 transposed: bool) -> np.ndarray:
    """dw[tap] = sum over batch and positions of the input window at `tap` times the gradient."""
    n, cin = inputs.shape[:2]
    cout = grads.shape[1]
    positions = math.prod(count)
    result = np.zeros((groups, cin // groups, cout // groups, *kernel))
    for tap in np.ndindex(*kernel):
        deadline.check()
        window = tuple(slice(t * d, t * d + (c - 1) * s + 1, s) for t, d, c, s in zip(tap, dilation, count, stride))
        if transposed:  # the window moves over the gradient (the full output), the input is whole
            a, b = inputs.reshape(n, groups, cin // groups, positions), grads[(slice(None), slice(None), *window)]
            b = b.reshape(n, groups, cout // groups, positions)
        else:  # the window moves over the padded input
            a = inputs[(slice(None), slice(None), *window)].reshape(n, groups, cin // groups, positions)
            b = grads.reshape(n, groups, cout // groups, positions)
        result[(slice(None), slice(None), slice(None), *tap)] = (a @ np.swapaxes(b, -1, -2)).sum(axis=0)  # BLAS
    return result


def reference_gradients(conv: Conv, x: np.ndarray, w: np.ndarray, g: np.ndarray,
                        pointwise: np.ndarray | None = None) -> dict[str, Gradient]:
    """dx, dw (dpw), db of L = sum(y * g) in float64 (the case must be valid, g of the output's shape)."""
    pads = ops.pads(conv)
    assert pads is not None
    x, w, g = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    if conv.op == "separable":
        assert pointwise is not None
        return _separable_gradients(conv, x, w, pointwise.astype(np.float64), g, pads)
    reduce = tuple(i for i in range(g.ndim) if i != 1)
    n, spatial_out = g.shape[0], math.prod(g.shape[2:])
    db = Gradient(g.sum(axis=reduce), np.abs(g).sum(axis=reduce), n * spatial_out)
    if conv.op == "conv_transpose":
        return {**_transpose_gradients(conv, x, w, g, pads), "db": db}
    flip = conv.op == "convolve"
    weights = np.flip(w, axis=tuple(range(2, w.ndim))) if flip else w
    padded = np.pad(x, ((0, 0), (0, 0), *pads), mode=ops.NUMPY_PAD_MODES[conv.padding_mode])
    padded_size = padded.shape[2:]
    as_transpose = conv.model_copy(update={"op": "conv_transpose", "output_padding": (0,) * conv.rank,
                                           "padding": "valid", "input_size": g.shape[2:]})
    crops = tuple((0, full - size) for full, size in zip(
        (geometry.transpose_full(o, k, s, d) for o, k, s, d in zip(g.shape[2:], conv.kernel_size, conv.stride,
                                                                    conv.dilation)), padded_size))
    dx_pad, dx_pad_abs = _transpose(g, weights, as_transpose, crops)  # unread trailing rows: zeros
    dx, folds = _pad_adjoint(dx_pad, conv, pads)
    dx_abs, _ = _pad_adjoint(dx_pad_abs, conv, pads)
    groups = conv.groups
    out_count = g.shape[2:]
    dw = _weight_grad(padded, g, groups, conv.kernel_size, conv.stride, conv.dilation, out_count, False)
    dw_abs = _weight_grad(np.abs(padded), np.abs(g), groups, conv.kernel_size, conv.stride, conv.dilation,
                          out_count, False)
    # (G, C/g, O/g, *k) -> (O, C/g, *k)
    dw, dw_abs = (np.moveaxis(a, 2, 1).reshape(w.shape) for a in (dw, dw_abs))
    if flip:
        dw, dw_abs = (np.flip(a, axis=tuple(range(2, a.ndim))) for a in (dw, dw_abs))
    per_group_out = conv.out_channels // groups
    return {"dx": Gradient(dx, dx_abs, math.prod(conv.kernel_size) * per_group_out * folds, folds),
            "dw": Gradient(dw, dw_abs, n * spatial_out), "db": db}


def _transpose_gradients(conv: Conv, x: np.ndarray, w: np.ndarray, g: np.ndarray,
                         crops: geometry.Pads) -> dict[str, Gradient]:
    full = tuple(geometry.transpose_full(size, k, s, d) for size, k, s, d in zip(
        conv.input_size, conv.kernel_size, conv.stride, conv.dilation))
    g_full = np.zeros((*g.shape[:2], *full))
    target, source = [], []
    for (low, _), size, out in zip(crops, full, g.shape[2:]):
        stop = min(size, low + out)  # output positions past the full output (output_padding, appended) read no input
        target.append(slice(low, max(low, stop)))
        source.append(slice(0, max(0, stop - low)))
    g_full[(slice(None), slice(None), *target)] = g[(slice(None), slice(None), *source)]
    as_conv = conv.model_copy(update={"op": "conv", "padding": "valid", "in_channels": conv.out_channels,
                                      "out_channels": conv.in_channels, "input_size": full})
    dx, dx_abs = _correlate(g_full, w, as_conv)
    dw = _weight_grad(x, g_full, conv.groups, conv.kernel_size, conv.stride, conv.dilation, conv.input_size, True)
    dw_abs = _weight_grad(np.abs(x), np.abs(g_full), conv.groups, conv.kernel_size, conv.stride, conv.dilation,
                          conv.input_size, True)
    dw, dw_abs = (a.reshape(w.shape) for a in (dw, dw_abs))  # (G, C/g, O/g, *k) is (C, O/g, *k) already
    per_group_out = conv.out_channels // conv.groups
    return {"dx": Gradient(dx, dx_abs, math.prod(conv.kernel_size) * per_group_out),
            "dw": Gradient(dw, dw_abs, x.shape[0] * math.prod(conv.input_size))}


def _separable_gradients(conv: Conv, x: np.ndarray, w: np.ndarray, pw: np.ndarray, g: np.ndarray,
                         pads: geometry.Pads) -> dict[str, Gradient]:
    """The pointwise convolution's gradients for g, then the depthwise one's for its dz; each A is the
    same chain on absolute values (so it composes both stages), n both stages' terms."""
    depthwise, one_by_one = ops.separable_stages(conv)
    padded = np.pad(x, ((0, 0), (0, 0), *pads), mode=ops.NUMPY_PAD_MODES[conv.padding_mode])
    z, abs_z = _correlate(padded, w, depthwise)
    outer = reference_gradients(one_by_one, z, pw, g)
    outer_abs = reference_gradients(one_by_one, abs_z, np.abs(pw), np.abs(g))
    inner = reference_gradients(depthwise, x, w, outer["dx"].value)
    inner_abs = reference_gradients(depthwise, np.abs(x), np.abs(w), outer_abs["dx"].value)
    dz_terms = outer["dx"].terms
    grads = {"dx": Gradient(inner["dx"].value, inner_abs["dx"].value, dz_terms + inner["dx"].terms,
                            inner["dx"].folds, stages=2),
             "dw": Gradient(inner["dw"].value, inner_abs["dw"].value, dz_terms + inner["dw"].terms, stages=2),
             "dpw": Gradient(outer["dw"].value, outer_abs["dw"].value, math.prod(conv.kernel_size) + outer["dw"].terms,
                             stages=2)}
    return {**grads, **({"db": outer["db"]} if conv.bias else {})}
