"""Seeded inputs, weights and bias for a case, rounded once to the case dtype.

Every adapter and the reference consume exactly these arrays (input N C spatial..., weights
in the framework-neutral layout of `ops.weight_shape`), so the only difference left between
them is arithmetic. The probe arrays that measure padding and crops are made here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import geometry
from .datasource import NPZ_KEY, is_kind
from .dtypes import NUMPY, probe_dtype
from .ops import input_shape, pointwise_shape, weight_shape

if TYPE_CHECKING:  # read, never built here
    from .schema import Conv


@dataclass(frozen=True)
class Tensors:
    """One set of operands in the case dtype; `bias` is None for bias-free cases, `pointwise` (separable's
    1x1 kernel) for the one-kernel ops."""

    input: np.ndarray
    weights: np.ndarray
    bias: np.ndarray | None
    pointwise: np.ndarray | None = None

    @property
    def kernels(self) -> Any:
        """What a program's `w` is: the kernel, or separable's (depthwise, pointwise) pair."""
        return self.weights if self.pointwise is None else (self.weights, self.pointwise)


def fill(kind: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "uniform":
        return rng.uniform(-1.0, 1.0, shape)
    if kind == "integers":
        return rng.integers(-4, 5, shape).astype(np.float64)
    if kind == "ones":
        return np.ones(shape)
    if kind == "arange":  # 1, 2, 3, ... in C order: the seed documents' 1..9 input
        return np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape)
    raise ValueError(f"unknown data kind {kind!r}")


def explicit(source: Any) -> np.ndarray:
    """The user's own array: an inline (nested) list, or FILE.npz:KEY (the path as the case file
    resolved it)."""
    if isinstance(source, str):
        match = NPZ_KEY.fullmatch(source)
        assert match is not None, source
        with np.load(match["path"], allow_pickle=False) as archive:
            return np.asarray(archive[match["key"]])
    return np.asarray(source, dtype=np.float64)


def operand(source: Any, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """One operand as float64: drawn (a kind) or given (explicit data, shape checked on reading)."""
    return fill(source, shape, rng) if is_kind(source) else explicit(source).astype(np.float64)


def make_tensors(conv: Conv, seed: int) -> Tensors:
    """The case's operands; the same seed gives the same arrays on every machine."""
    rng = np.random.default_rng(seed)
    dtype = NUMPY[conv.dtype]
    x = operand(conv.data.input, input_shape(conv), rng).astype(dtype)
    w = operand(conv.data.weights, weight_shape(conv), rng).astype(dtype)
    pointwise, pw = pointwise_shape(conv), None
    if pointwise is not None:
        pw = operand(conv.data.pointwise or conv.data.weights, pointwise, rng).astype(dtype)
    bias = conv.data.bias if conv.data.bias is not None else conv.data.weights
    b = operand(bias, (conv.out_channels,), rng).astype(dtype) if conv.bias else None
    return Tensors(x, w, b, pw)


def probe_tensors(conv: Conv, tap: tuple[int, ...]) -> Tensors | None:
    """Operands that reveal the applied pads or crops in one call, or None when nothing can be probed.

    Input channel 0 of every batch item holds the encoded positions, the kernel is a single
    1 at `tap` between input channel 0 and output channel 0 (separable: and a pointwise 1 from
    depthwise channel 0 to output channel 0), the bias is 0. A batch of 0 is
    probed with one item: pads do not depend on the batch.
    """
    shape = (max(conv.batch_size, 1), *input_shape(conv)[1:])
    if min(shape) == 0 or min(weight_shape(conv)) == 0 or min(pointwise_shape(conv) or (1,)) == 0:
        return None
    dtype = NUMPY[probe_dtype(conv.dtype, geometry.probe_max(conv.input_size))]
    x = np.zeros(shape, dtype=dtype)
    x[:, 0] = geometry.probe_input(conv.input_size)
    w = np.zeros(weight_shape(conv), dtype=dtype)
    w[(0, 0, *tap)] = 1
    b = np.zeros(conv.out_channels, dtype=dtype) if conv.bias else None
    pointwise, pw = pointwise_shape(conv), None
    if pointwise is not None:
        pw = np.zeros(pointwise, dtype=dtype)
        pw[(0,) * len(pointwise)] = 1
    return Tensors(x, w, b, pw)
