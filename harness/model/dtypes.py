"""The four case dtypes as NumPy types, with their unit roundoffs (SPEC section 4)."""

from __future__ import annotations

import ml_dtypes
import numpy as np

NUMPY: dict[str, np.dtype] = {
    "float16": np.dtype(np.float16),
    "bfloat16": np.dtype(ml_dtypes.bfloat16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}

UNIT_ROUNDOFF: dict[str, float] = {
    "float16": 2.0**-11,
    "bfloat16": 2.0**-8,
    "float32": 2.0**-24,
    "float64": 2.0**-53,
}

# Largest n such that every integer 0..n is exact in the dtype (2**(mantissa bits + 1)).
EXACT_INTEGERS: dict[str, int] = {
    "float16": 2**11,
    "bfloat16": 2**8,
    "float32": 2**24,
    "float64": 2**53,
}


# Unit roundoff of the operands as a precision mode rounds them before multiplying: TF32 keeps
# 10 mantissa bits (NVIDIA Ampere and later, cuDNN/cuBLAS "allow_tf32", XLA's default on GPU).
INPUT_ROUNDOFF: dict[str, float] = {"tf32": 2.0**-11}


def accumulation_roundoff(dtype: str) -> float:
    """Frameworks accumulate half precisions in float32; float64 in float64."""
    return UNIT_ROUNDOFF["float64" if dtype == "float64" else "float32"]


def probe_dtype(dtype: str, largest: int) -> str:
    """The case dtype if it holds every probe value exactly, else the narrowest that does."""
    for name in (dtype, "float32", "float64"):
        if largest <= EXACT_INTEGERS[name]:
            return name
    return "float64"
