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

from . import ops
from .dtypes import NUMPY
from .schema import Conv

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
    """Bytes a case needs at its peak, over-estimated rather than under."""
    item = NUMPY[conv.dtype].itemsize
    inputs = math.prod(ops.input_shape(conv))
    weights = math.prod(ops.weight_shape(conv))
    padded = math.prod((conv.batch, conv.in_channels,
                        *(s + lo + hi for s, (lo, hi) in zip(conv.input_size, ops.pads(conv) or ((0, 0),) * conv.rank))))
    spatial = ops.output_spatial(conv) or (0,)
    outputs = conv.batch * conv.out_channels * math.prod(spatial)
    return (inputs + weights) * (item + 8) + padded * 8 * 2 + outputs * (8 * 5 + item)


def describe(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"
