"""Output sizes, per-side pads and crops, and the probe that measures them: pure integers.

Pads are `(low, high)` pairs, one per spatial axis, the vocabulary of
`jax.lax.padtype_to_pads`. SAME is the TensorFlow/ONNX SAME_UPPER rule, computed from the
*dilated* kernel extent. For `conv_transpose` the same pairs are crops of the full output
`(in - 1) * s + (k - 1) * d + 1`; a negative high crop extends the output with zeros.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .schema import Conv

Pads = tuple[tuple[int, int], ...]
# the names of (low, high) on each axis, by rank; results columns follow them
AXIS_SIDES: dict[int, tuple[tuple[str, str], ...]] = {
    1: (("left", "right"),),
    2: (("top", "bottom"), ("left", "right")),
    3: (("front", "back"), ("top", "bottom"), ("left", "right")),
}
PAD_SIDES = ("top", "bottom", "left", "right", "front", "back")  # the order of results columns


def sides(rank: int) -> tuple[str, ...]:
    """Side names of a rank in axis order, low before high: ('top', 'bottom', 'left', 'right')."""
    return tuple(side for pair in AXIS_SIDES[rank] for side in pair)


def extent(kernel: int, dilation: int) -> int:
    """Positions spanned by a dilated kernel."""
    return (kernel - 1) * dilation + 1


def same_pads(size: int, kernel: int, stride: int, dilation: int, lower: bool = False) -> tuple[int, int]:
    """SAME_UPPER (TF, Keras, JAX 'SAME') or SAME_LOWER (ONNX) pads for one axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + extent(kernel, dilation) - size, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if lower else (small, large)


def conv_pads(conv: Conv) -> Pads | None:
    """The pads a conv or convolve case asks for; None when stride < 1 makes 'same' meaningless."""
    if isinstance(conv.padding, tuple):
        return conv.padding
    axes = range(conv.rank)
    if conv.padding == "valid":
        return tuple((0, 0) for _ in axes)
    full = [max(extent(conv.kernel_size[a], conv.dilation[a]) - 1, 0) for a in axes]
    if conv.padding == "full":
        return tuple((f, f) for f in full)
    if conv.padding == "causal":
        return tuple((f, 0) for f in full)
    if min(conv.stride) < 1:
        return None
    lower = conv.padding == "same_lower"
    return tuple(same_pads(conv.input_size[a], conv.kernel_size[a], conv.stride[a], conv.dilation[a], lower)
                 for a in axes)


def transpose_full(size: int, kernel: int, stride: int, dilation: int) -> int:
    """Length of the uncropped transposed output: input i lands at i*s + tap*d."""
    return (size - 1) * stride + extent(kernel, dilation)


def transpose_length(size: int, stride: int, output_padding: int | None) -> int:
    """The length a 'same' transposed convolution returns: the adjoint of a forward 'same' convolution
    of length L with ceil(L/s) = in, one of (in-1)*s + 1 ... in*s. output_padding op picks
    (in-1)*s + 1 + op; absent, it is in*s (what TensorFlow, JAX and ONNX give)."""
    return size * stride if output_padding is None else (size - 1) * stride + 1 + output_padding


def transpose_crops(conv: Conv) -> Pads:
    """(low, high) crops of the full transposed output (docs/cases.md, conv_transpose), such that
    full + output_padding - low - high is the output length.

    conv_transpose is the adjoint of conv: 'same' (and 'same_lower') crop at the start what the
    forward 'same' convolution of the output length L pads before it (`transpose_length`); the high
    crop is what is left, negative when L exceeds the full output (a stride larger than the kernel),
    which then ends in positions no tap reaches.
    """
    if isinstance(conv.padding, tuple):
        return conv.padding
    crops = []
    for a in range(conv.rank):
        size, kernel, stride, dilation = conv.input_size[a], conv.kernel_size[a], conv.stride[a], conv.dilation[a]
        if conv.padding == "valid":
            crops.append((0, 0))
            continue
        given = None if conv.output_padding is None else conv.output_padding[a]
        length = transpose_length(size, stride, given)
        total = max((size - 1) * stride + extent(kernel, dilation) - length, 0)  # the forward 'same' pads of L
        low = total - total // 2 if conv.padding == "same_lower" else total // 2
        crops.append((low, transpose_full(size, kernel, stride, dilation) + (given or 0) - low - length))
    return tuple(crops)


def output_padding_for(conv: Conv, lengths: Sequence[int]) -> tuple[int, ...]:
    """The output_padding that gives a transposed convolution these output lengths: each must be one of
    the s lengths the padding allows ((in-1)*s + 1 ... in*s under 'same'; full - crops + 0 ... s-1
    otherwise), or ValueError names the ones it allows."""
    chosen = []
    # valid or explicit crops do not depend on the length; 'same' ones do, and are not needed here
    crops = None if conv.padding in ("same", "same_lower") else transpose_crops(conv)
    for a, length in enumerate(lengths):
        size, kernel, stride, dilation = conv.input_size[a], conv.kernel_size[a], conv.stride[a], conv.dilation[a]
        if crops is None:
            shortest = transpose_length(size, stride, 0)
        else:
            low, high = crops[a]
            shortest = transpose_full(size, kernel, stride, dilation) - low - high
        if not shortest <= length < shortest + stride:
            allowed = f"{shortest}" if stride == 1 else f"{shortest} to {shortest + stride - 1}"
            raise ValueError(f"{length} is not a length this transposed convolution gives on axis {a}: "
                             f"{allowed} (the lengths whose forward convolution has {size} outputs)")
        chosen.append(length - shortest)
    return tuple(chosen)


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
    """Pad before, from the first output position that read the input through kernel tap `tap`:
    output `index` read padded position index*stride + tap*dilation, which is input `value` (1-based)."""
    return index * stride + tap * dilation + 1 - value


def crop_from_probe(index: int, value: int, stride: int, tap: int = 0, dilation: int = 1) -> int:
    """Crop before, from the first non-zero transposed output: input `value` (1-based) landed
    at full position (value-1)*s + tap*d, which is output `index`."""
    return (value - 1) * stride + tap * dilation - index


def probe_input(size: Sequence[int]) -> np.ndarray:
    """The probe: position (i, j, ...) holds sum (i_a + 1) * radix_a, distinct and non-zero,
    with mixed radix size + 1 so each axis's 1-based position can be read back."""
    plane = np.zeros(tuple(size), dtype=np.float64)
    for axis, radix in enumerate(probe_radices(size)):
        shape = [1] * len(size)
        shape[axis] = size[axis]
        plane = plane + (np.arange(1, size[axis] + 1, dtype=np.float64) * radix).reshape(shape)
    return plane


def probe_radices(size: Sequence[int]) -> list[int]:
    return [math.prod(s + 1 for s in size[a + 1:]) for a in range(len(size))]


def decode(value: int, size: Sequence[int]) -> list[int]:
    """The 1-based position on each axis of a probe value."""
    out = []
    for radix in probe_radices(size):
        number, value = divmod(value, radix)
        out.append(number)
    return out


def probe_max(size: Sequence[int]) -> int:
    """The largest value in the probe; the probe dtype must hold it exactly."""
    return math.prod(s + 1 for s in size) - 1 if min(size) > 0 else 0


def measured_pads(probe_out: np.ndarray, conv: Conv, tap: Sequence[int]) -> Pads | None:
    """Per-side pads (conv, convolve) or crops (conv_transpose) read off one probe output plane.

    The probe kernel has a single 1 at `tap` as the realised call sees it (for an emulated
    convolve, the flipped tap), so each output reads or receives exactly one input position:
    the non-zeros form a grid whose first corner gives every axis at once. None when the
    output holds no input (another tap may: a kernel larger than its input).
    """
    nonzero = np.nonzero(np.abs(probe_out) >= 0.5)  # probe values are integers >= 1; below 1/2 is rounding (FFT)
    if len(nonzero[0]) == 0:
        return None
    first = tuple(int(n.min()) for n in nonzero)
    positions = decode(int(round(float(probe_out[first]))), conv.input_size)
    pads = []
    for a in range(conv.rank):
        size, kernel, stride, dilation = conv.input_size[a], conv.kernel_size[a], conv.stride[a], conv.dilation[a]
        out = probe_out.shape[a]
        if conv.op == "conv_transpose":
            low = crop_from_probe(first[a], positions[a], stride, tap[a], dilation)
            high = transpose_full(size, kernel, stride, dilation) + conv.output_padding_axes[a] - low - out
        else:
            low = low_from_probe(first[a], positions[a], stride, tap[a], dilation)
            high = consumed_high(size, kernel, stride, dilation, low, out)
        pads.append((low, high))
    return tuple(pads)


MAX_PROBE_TAPS = 64


def probe_taps(kernel: Sequence[int]) -> list[tuple[int, ...]]:
    """Taps to try in turn: the first, the centre, the last, then the others (at most 64).

    Only a kernel larger than its (padded) input needs more than the first: its output
    may read the input through a few taps only.
    """
    import itertools

    first = [tuple(0 for _ in kernel), tuple(k // 2 for k in kernel), tuple(k - 1 for k in kernel)]
    rest = itertools.islice(itertools.product(*(range(k) for k in kernel)), MAX_PROBE_TAPS * 4)
    taps = dict.fromkeys(t for t in itertools.chain(first, rest) if min(t, default=0) >= 0)
    return list(taps)[:MAX_PROBE_TAPS]
