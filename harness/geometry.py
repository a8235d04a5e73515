"""Output sizes and per-side pads, as pure functions of integers (SPEC section 4).

Pads are `(low, high)` pairs per spatial axis, the vocabulary of `jax.lax.padtype_to_pads`.
SAME is the TensorFlow/ONNX SAME_UPPER rule, computed from the *dilated* kernel extent.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .schema import Conv

Pads = tuple[tuple[int, int], tuple[int, int]]
PAD_SIDES = ("top", "bottom", "left", "right")  # the order of results columns and pictures


def extent(kernel: int, dilation: int) -> int:
    """Rows spanned by a dilated kernel."""
    return (kernel - 1) * dilation + 1


def same_pads(size: int, kernel: int, stride: int, dilation: int, lower: bool = False) -> tuple[int, int]:
    """SAME_UPPER (TF, Keras, JAX 'SAME') or SAME_LOWER (ONNX) pads for one axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + extent(kernel, dilation) - size, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if lower else (small, large)


def requested_pads(conv: Conv) -> Pads | None:
    """The pads a case asks for; None when stride < 1 makes 'same' meaningless."""
    if isinstance(conv.padding, tuple):
        return conv.padding
    if conv.padding == "valid":
        return ((0, 0), (0, 0))
    if min(conv.stride) < 1:
        return None
    lower = conv.padding == "same_lower"
    rows, cols = (
        same_pads(conv.input_size[a], conv.kernel_size[a], conv.stride[a], conv.dilation[a], lower)
        for a in (0, 1)
    )
    return (rows, cols)


def out_size(size: int, kernel: int, stride: int, dilation: int, low: int, high: int) -> int | None:
    """floor((in + pads - extent) / stride) + 1, or None when no window fits."""
    span = size + low + high - extent(kernel, dilation)
    if stride < 1 or kernel < 1 or dilation < 1 or span < 0:
        return None
    return span // stride + 1


def consumed_high(size: int, kernel: int, stride: int, dilation: int, low: int, out: int) -> int:
    """The pad after that the output really reads; negative if trailing rows are never read."""
    return (out - 1) * stride + extent(kernel, dilation) - size - low


def low_from_probe(index: int, value: int, stride: int, tap: int = 0, dilation: int = 1) -> int:
    """Pad before, from the first output row that read the input through kernel row `tap`:
    output row `index` read padded row index*stride + tap*dilation, which is input row `value` (1-based)."""
    return index * stride + tap * dilation + 1 - value


def measured_pads(probe_out: np.ndarray, size: tuple[int, int], kernel: tuple[int, int],
                  stride: tuple[int, int], dilation: tuple[int, int],
                  tap: tuple[int, int] = (0, 0)) -> Pads | None:
    """Per-side pads read off a probe output (H, W) of the input `(r+1)*(W+1) + (c+1)`.

    The probe kernel has a single 1 at `tap` (SPEC: (0, 0)), so output (i, j) holds the
    padded input at (i*sh + a*dh, j*sw + b*dw): zero in the padding, else the encoded row
    and column number. One call measures both axes. None when the output read no input
    (then another tap may: a kernel larger than its input reads it only in the middle).
    """
    nonzero = np.nonzero(probe_out)
    if len(nonzero[0]) == 0:
        return None
    i, j = int(nonzero[0].min()), int(nonzero[1].min())
    value = int(round(float(probe_out[i, j])))
    width = size[1] + 1
    row, col = divmod(value, width)
    out = probe_out.shape
    pads = []
    for axis, (index, number) in enumerate(((i, row), (j, col))):
        low = low_from_probe(index, number, stride[axis], tap[axis], dilation[axis])
        high = consumed_high(size[axis], kernel[axis], stride[axis], dilation[axis], low, out[axis])
        pads.append((low, high))
    return (pads[0], pads[1])


MAX_PROBE_TAPS = 64


def probe_taps(kernel: tuple[int, int]) -> list[tuple[int, int]]:
    """Taps to try in turn: the SPEC's (0, 0), the centre, the last, then the others.

    Only a kernel larger than its (padded) input needs more than the first: its output
    may read the input through a few taps only. At most MAX_PROBE_TAPS are tried.
    """
    first = [(0, 0), (kernel[0] // 2, kernel[1] // 2), (kernel[0] - 1, kernel[1] - 1)]
    rest = [(a, b) for a in range(kernel[0]) for b in range(kernel[1])]
    return list(dict.fromkeys(t for t in first + rest if min(t) >= 0))[:MAX_PROBE_TAPS]


def probe_input(size: tuple[int, int]) -> np.ndarray:
    """The (H, W) probe plane: (r+1)*(W+1) + (c+1), distinct and non-zero everywhere."""
    rows = np.arange(1, size[0] + 1, dtype=np.float64)[:, None]
    cols = np.arange(1, size[1] + 1, dtype=np.float64)[None, :]
    return rows * (size[1] + 1) + cols


def probe_max(size: tuple[int, int]) -> int:
    """The largest value in the probe plane; the probe dtype must hold it exactly."""
    return (size[0] + 1) * (size[1] + 1) - 1 if min(size) > 0 else 0
