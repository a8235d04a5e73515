"""The memory guard: a case that would need more than --max-memory is refused before allocating.

A typo such as `input_size: 12000` asks for gigabytes in the float64 reference; the estimate
counts the arrays the harness and one framework worker hold for a case (operands in the case
dtype and float64, the padded input, the reference's three float64 results and the bound, the
framework's output and its float64 copy) from integers alone.
"""

from __future__ import annotations

import math
import os
import re

from ..model import geometry, ops
from ..model.dtypes import NUMPY
from ..model.schema import Conv

UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """'4GiB', '512MB', '2e9' -> bytes."""
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in UNITS:
        raise ValueError(f"not a size: {text!r} (write e.g. 4GiB, 512MB or 2e9)")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def machine_memory() -> int:
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def max_memory(value: str | None = None) -> int:
    """--max-memory, else HARNESS_MAX_MEMORY, else half of the machine's memory."""
    text = value or os.environ.get("HARNESS_MAX_MEMORY")
    return parse_size(text) if text else machine_memory() // 2


def estimate(conv: Conv) -> int:
    """Bytes a case needs at its peak, parent and one worker together, over-estimated rather than
    under (`bench/memory_guard.py` measures it against peak RSS).

    A batch of 0 counts as 1: the pad probe runs one item. Forward: the operands in the case dtype
    and float64, the padded input twice (values and absolute values), the reference's three
    float64 results, the bound and the judging temporaries, the framework's output and its float64
    copy, the transposed reference's full (uncropped) output twice, the framework's im2col columns
    (XLA's CPU convolution: 2.1x the estimate without them on a 7x7 kernel). The probe: its operands and
    output in up to float64. With `grad`, the backward pass: the cotangent, the reference
    gradients with their absolute values and bounds, the padded gradient the pad adjoint folds
    (values and absolute values), the framework's gradients and their float64 copies, each of
    those as the pipe carries it once more.
    """
    item = NUMPY[conv.dtype].itemsize
    batch = max(conv.batch_size, 1)
    inputs = batch * conv.in_channels * math.prod(conv.input_size)
    weights = math.prod(ops.weight_shape(conv))
    pads = ops.pads(conv) or ((0, 0),) * conv.rank
    if conv.op == "conv_transpose":
        padded = inputs
        full = [geometry.transpose_full(*axis) + op for *axis, op in
                zip(conv.input_size, conv.kernel_size, conv.stride, conv.dilation, conv.output_padding_axes)]
        wide = batch * conv.out_channels * math.prod(full)
    else:
        padded = batch * conv.in_channels * math.prod(s + lo + hi for s, (lo, hi) in zip(conv.input_size, pads))
        wide = 0
    positions = math.prod(ops.output_spatial(conv) or (0,))
    outputs = batch * conv.out_channels * positions
    # XLA on the CPU lowers a convolution to im2col: each output position's window, in float32 at least
    window = conv.in_channels * math.prod(conv.kernel_size)
    columns = 0 if conv.op == "conv_transpose" else batch * positions * window * max(item, 4)
    forward = ((inputs + weights) * (item + 8) + padded * 8 * 2 + outputs * (8 * 7 + item) + wide * 8 * 2
               + columns)
    probe = (inputs + weights + outputs) * 8 * 2
    if not conv.grad:
        return forward + probe
    big = max(padded, wide)
    backward = (outputs * (item + 8 * 2) + inputs * 8 * 7 + weights * 8 * 5 + big * 8 * 4
                + (inputs + weights) * (item + 8 * 2))
    return forward + probe + backward


def too_large(conv: Conv, limit: int) -> str | None:
    """Why a case is refused before anything is allocated (over `limit` bytes), or None."""
    size = estimate(conv)
    if size <= limit:
        return None
    return (f"the case needs about {describe(size)}, more than --max-memory {describe(limit)} "
            "(HARNESS_MAX_MEMORY); nothing was allocated")


def describe(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"
