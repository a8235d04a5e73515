"""What a diagnosis is and how a hypothesis is tested: the context it sees, "the output is this other
reference within the case's bound", and the lower precisions a second cause may add."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..model import geometry, ops
from ..model.dtypes import UNIT_ROUNDOFF
from ..truth import bounds
from ..truth.bounds import error_bound
from ..truth.reference import Reference, _transpose, reference

if TYPE_CHECKING:  # read, never built here
    from ..model.data import Tensors
    from ..model.schema import Case


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # one of the names above (two joined by '+' when two causes act at once), or unexplained
    detail: str = ""


@dataclass(frozen=True)
class Context:
    """What every hypothesis may look at."""

    case: Case
    ref: Reference
    tensors: Tensors
    y: np.ndarray  # the adapter's output, N C spatial...
    bound: np.ndarray | None = None  # the case's bound (None without a reference)
    measured: geometry.Pads | None = None  # the pads or crops the adapter's probe measured
    arithmetic: str | None = None  # the path the framework says it took: fft


def within(y: np.ndarray, expected: np.ndarray | None, bound: np.ndarray) -> bool:
    if expected is None or y.shape != expected.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.abs(y - expected) <= bound) and np.all(np.isfinite(y) == np.isfinite(expected)))


def lower_precisions(case: Case, ref: Reference) -> Iterator[tuple[str, np.ndarray]]:
    """(what, bound) for each lower precision the case's dtype can fall to; none under a tolerance."""
    if case.tolerance is not None or ref.out is None:
        return
    assert ref.abs_conv is not None and ref.no_bias is not None
    n, parts, stages = ops.terms(case), (case.dtype, ref.abs_conv, ref.no_bias, ref.out), ops.stages(case)
    if case.dtype == "float64":
        u = UNIT_ROUNDOFF["float32"]
        yield ("float32 arithmetic: a float64 case computed in float32",
               bounds.forward(n, *parts, u_acc=u, u_out=u, stages=stages))
    elif case.dtype == "float32":
        yield "TF32 (operands rounded to 10 mantissa bits)", bounds.forward(n, *parts, "tf32", stages=stages)
    else:
        yield f"{case.dtype} accumulation", bounds.forward(n, *parts, u_acc=UNIT_ROUNDOFF[case.dtype], stages=stages)


def explained(context: Context, other: Reference | None, kind: str, detail: str) -> Diagnosis | None:
    """`kind` when the output is `other` within the case's bound; `kind+precision` within a lower one."""
    if other is None or other.out is None or context.y.shape != other.out.shape:
        return None
    if within(context.y, other.out, error_bound(context.case, other)):
        return Diagnosis(kind, detail)
    for what, bound in lower_precisions(context.case, other):
        if within(context.y, other.out, bound):
            return Diagnosis(f"{kind}+precision", f"{detail}; and within the bound of {what}")
    return None


def with_pads(context: Context, pads: geometry.Pads) -> Reference | None:
    """The reference with other pads (conv, convolve) or crops (conv_transpose)."""
    case, tensors = context.case, context.tensors
    if case.op != "conv_transpose":
        return reference(case.model_copy(update={"padding": pads}), tensors)
    full = (geometry.transpose_full(*axis) for axis in zip(case.input_size, case.kernel_size, case.stride, case.dilation))
    if any(n + op - low - high < 1 for n, op, (low, high) in zip(full, case.output_padding_axes, pads)):
        return None  # these crops leave no output on some axis
    x, w = tensors.input.astype(np.float64), tensors.weights.astype(np.float64)
    c, a = _transpose(x, w, case, pads)
    if tensors.bias is None:
        return Reference(out=c, no_bias=c, abs_conv=a)
    b = tensors.bias.astype(np.float64).reshape((1, -1) + (1,) * case.rank)
    return Reference(out=c + b, no_bias=c, abs_conv=a + np.abs(b))


def what_pads(case: Case) -> str:
    return "crops" if case.op == "conv_transpose" else "pads"
