"""Every rounding-error bound the harness judges by, in one place (docs/statuses.md).

The model is the classical one for a sum of n products computed in any order with unit roundoff
u in the accumulator: |fl(s) - s| <= gamma(n, u) * sum |a_i * b_i|, gamma(n, u) = n u / (1 - n u)
(Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., Lemma 3.1 and eq. 3.5).

Forward (`forward`): y = c + b. The sum c has gamma_n * A with A = sum |w x| (n = the products
per output element, +1 for the bias, `ops.terms`); c may be rounded to the output dtype before the
bias is added (u_out |c|) and y is rounded once more (u_out |y|). A precision mode that rounds the
operands to u_in before multiplying (TF32) makes each product carry (1 + u_in)^2 - 1 = 2 u_in + u_in^2
relative error more, which the sum then accumulates: (gamma_n + (2 u_in + u_in^2)(1 + gamma_n)) A.

Two sums in turn (`stages`: separable's depthwise then pointwise), the first rounded to the output
dtype before the second reads it: each product of x, w and pw then carries the factors of both sums,
(1 + gamma_a)(1 + gamma_b) <= 1 + gamma_(a+b) (Higham, Lemma 3.3), one rounding (1 + u_out) between
them, and the input roundoff of both: ((1 + gamma_n)(1 + u_in)^(2 stages)(1 + u_out)^(stages - 1) - 1) A,
with n both sums' terms and A = |pw| (*) (|w| (*) |x|) + |b|.

Gradients (`gradient`): the same accumulation model, so a gradient summed in half precision fails
exactly as a forward pass would: gamma_n A + u_out |g|, n the most products in one element. A
reflect, replicate or circular pad adjoint adds the k padded positions that fold onto one input
element after the sums: k - 1 more additions in the output precision, (k - 1) u_out A; where
nothing folds (k = 1) there is no such term.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..model import ops
from ..model.dtypes import INPUT_ROUNDOFF, UNIT_ROUNDOFF, accumulation_roundoff

if TYPE_CHECKING:  # the bound reads a reference's arrays; computing one is not its business
    from ..model.schema import Case
    from .reference import Reference


def gamma(n: int, u: float) -> float:
    """n u / (1 - n u); infinite once n u reaches 1 (no bound at all)."""
    nu = n * u
    return nu / (1 - nu) if nu < 1 else float("inf")


def _compose(g: float, extra: float) -> float:
    """g + (1 + g) extra, the relative error of a sum then further roundings; infinite with g (with no
    further rounding, extra = 0, and inf * 0 would make the bound NaN, which no error is within)."""
    return g + (1 + g) * extra if extra else g


def forward(terms: int, dtype: str, abs_conv: np.ndarray, no_bias: np.ndarray, out: np.ndarray,
            precision: str | None = None, u_acc: float | None = None, u_out: float | None = None,
            stages: int = 1) -> np.ndarray:
    """The forward bound, elementwise. `precision` names a reduced mode (tf32); `u_acc` and `u_out`
    replace the dtype's accumulation and output roundoffs (what diagnosis asks: half accumulation)."""
    g = gamma(terms, accumulation_roundoff(dtype) if u_acc is None else u_acc)
    u_in = INPUT_ROUNDOFF.get(precision or "", 0.0)
    u_out = UNIT_ROUNDOFF[dtype] if u_out is None else u_out
    relative = _compose(g, (1 + u_in) ** (2 * stages) * (1 + u_out) ** (stages - 1) - 1)  # exact for one stage
    return np.asarray(relative * abs_conv + u_out * (np.abs(no_bias) + np.abs(out)))


def gradient(terms: int, dtype: str, value: np.ndarray, abs_value: np.ndarray, folds: int = 1,
             u_acc: float | None = None, stages: int = 1, u_out: float | None = None) -> np.ndarray:
    """A gradient's bound, elementwise: gamma_n A + u_out |g| + (folds - 1) u_out A (two stages: the
    rounding between them as in `forward`); `u_acc`, `u_out` as in `forward`."""
    u_out = UNIT_ROUNDOFF[dtype] if u_out is None else u_out
    g = gamma(terms, accumulation_roundoff(dtype) if u_acc is None else u_acc)
    relative = _compose(g, (1 + u_out) ** (stages - 1) - 1)
    return np.asarray(relative * abs_value + u_out * (np.abs(value) + (folds - 1) * abs_value))


def error_bound(case: Case, ref: Reference, precision: str | None = None) -> np.ndarray:
    """A case's forward bound (`forward`, for a lower `precision` when given), or its own `tolerance:`.
    Judging and diagnosis both use this one."""
    assert ref.abs_conv is not None and ref.no_bias is not None and ref.out is not None
    if case.tolerance is not None:
        return np.asarray(case.tolerance.atol + case.tolerance.rtol * np.abs(ref.out))
    return forward(ops.terms(case), case.dtype, ref.abs_conv, ref.no_bias, ref.out, precision,
                   stages=ops.stages(case))
