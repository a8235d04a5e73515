"""Why a forward mismatch happened: the first hypothesis, in `HYPOTHESES` order, that explains it.

Each hypothesis is a function of one `Context` (evidence.py) (the case, its reference, operands and bound,
the adapter's output and the pads or crops its probe measured) that returns a `Diagnosis` or
None; most are "the adapter computed the reference of a slightly different case", tested by
recomputing that reference (float64) and checking the output against it within the case's
bound. Direct evidence first (the measured pads), cheap ones next, searches last (at most 5
candidates per axis, none for outputs over MAX_ELEMENTS). A different case that explains the
output only within a lower precision's bound names both causes (`shift+precision`). Never
run for matching pairs.

measured_pads      the reference with the pads or crops the probe measured (not the requested ones)
layout             the output is the reference in another axis order
bias               the bias is missing, added twice, or added along another axis
precision          within the bound of a lower precision (TF32, half-precision accumulation)
border             only outputs whose window touches the padding differ (a padding mode)
flipped_kernel     the kernel flipped on every spatial axis (true convolution vs correlation)
transposed_kernel  the kernel's last two spatial axes swapped
swapped_channels   weights read with input and output channels exchanged
shift              the pads (or transposed crops) moved by d positions on an axis, or the output moved
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..model import geometry, ops
from ..truth.bounds import error_bound
from ..truth.reference import Reference, reference
from .evidence import Context, Diagnosis, explained, lower_precisions, what_pads, with_pads, within

if TYPE_CHECKING:  # read, never built here
    from ..model.data import Tensors
    from ..model.schema import Case

MAX_ELEMENTS = 2_000_000  # outputs larger than this get the cheap hypotheses only
MAX_SHIFT = 2


def measured_pads(context: Context) -> Diagnosis | None:
    """The probe read other pads or crops than the case asks for: try those first."""
    case, ref, measured = context.case, context.ref, context.measured
    if measured is None or ref.pads is None or tuple(measured) == tuple(ref.pads) or context.y.size > MAX_ELEMENTS:
        return None
    lowest = -MAX_SHIFT if case.op == "conv_transpose" else 0  # a negative crop appends zeros; a pad cannot
    if min(low for low, _ in measured) < 0 or min(high for _, high in measured) < lowest:
        return None  # what a probe reads off a wrong kernel, not pads
    return explained(context, with_pads(context, measured), "shift",
                     f"the output is the reference with the measured {what_pads(case)} {tuple(measured)} "
                     f"instead of {tuple(ref.pads)}")


def layout(context: Context) -> Diagnosis | None:
    ref, y, bound = context.ref, context.y, context.bound
    if ref.out is None or bound is None or y.shape == ref.out.shape:
        return None
    for order in itertools.permutations(range(y.ndim)):
        moved = np.transpose(y, order)
        if moved.shape == ref.out.shape and within(moved, ref.out, bound):
            return Diagnosis("layout", f"the output's axes are in the order {order} of N C spatial...")
    return None


def bias(context: Context) -> Diagnosis | None:
    """Each misplaced bias judged by its own bound: the output it would give has its own magnitude, and in a half
    precision the rounding of a bias on the wrong axis exceeds the right output's bound."""
    ref, b = context.ref, context.tensors.bias
    if ref.out is None or b is None or ref.no_bias is None or ref.abs_conv is None:
        return None
    b = b.astype(np.float64)
    channel = b.reshape((1, -1) + (1,) * context.case.rank)
    unbiased = ref.abs_conv - np.abs(channel)
    hypotheses = [("the bias is missing", ref.no_bias, unbiased),
                  ("the bias is added twice", ref.out + channel, ref.abs_conv + np.abs(channel))]
    if ref.out.shape[-1] == len(b) and context.case.rank:
        hypotheses.append(("the bias is added along the last spatial axis instead of the channels",
                           ref.no_bias + b, unbiased + np.abs(b)))
    proposed = [(detail, replace(ref, out=out, abs_conv=abs_conv)) for detail, out, abs_conv in hypotheses
                if not np.array_equal(out, ref.out)]  # one no different from the right output (a zero bias) is none
    for detail, other in proposed:  # first within the case's own precision: a looser bound admits more
        if within(context.y, other.out, error_bound(context.case, other)):
            return Diagnosis("bias", detail)
    for detail, other in proposed:
        found = explained(context, other, "bias", detail)
        if found is not None:
            return found
    return None


def precision(context: Context) -> Diagnosis | None:
    """Within a lower precision's bound. Where the framework says it took an FFT path, the cause is
    named as that (its rounding spreads over the whole output) and the bound only gives the size."""
    for what, bound in lower_precisions(context.case, context.ref):
        if within(context.y, context.ref.out, bound):
            if context.arithmetic == "fft":
                return Diagnosis("precision", "FFT rounding: the framework took its FFT path, whose error spreads "
                                              f"over the whole output; its size is within the bound of {what}")
            return Diagnosis("precision", f"within the bound of {what}")
    return None


def border(context: Context) -> Diagnosis | None:
    """Only outputs whose window reads the padding differ; never when every window reads it (that
    would say nothing)."""
    case, ref, y, bound = context.case, context.ref, context.y, context.bound
    if ref.out is None or bound is None or y.shape != ref.out.shape or case.op == "conv_transpose":
        return None
    pads = ops.pads(case)
    if pads is None or all(p == (0, 0) for p in pads):
        return None
    touches = np.zeros(ref.out.shape[2:], dtype=bool)
    for axis, ((low, _), size) in enumerate(zip(pads, case.input_size)):
        extent = geometry.extent(case.kernel_size[axis], case.dilation[axis])
        start = np.arange(ref.out.shape[2 + axis]) * case.stride[axis]
        edge = (start < low) | (start + extent - 1 >= low + size)
        shape = [1] * case.rank
        shape[axis] = -1
        touches = touches | edge.reshape(shape)
    if touches.all():
        return None
    off = np.abs(y - ref.out) > bound
    if off.any() and not (off & ~touches).any():
        return Diagnosis("border", "only outputs whose window reads the padding differ: the padding mode")
    return None


def other_weights(kind: str, detail: str, make: Callable[[Case, np.ndarray], np.ndarray | None]) -> Callable[
        [Context], Diagnosis | None]:
    """The hypothesis "the framework read the weights as `make` rearranges them"."""
    def hypothesis(context: Context) -> Diagnosis | None:
        weights = make(context.case, context.tensors.weights)
        if weights is None:
            return None
        return explained(context, reference(context.case, replace(context.tensors, weights=weights)), kind, detail)
    hypothesis.__name__ = kind
    return hypothesis


def flipped(case: Case, w: np.ndarray) -> np.ndarray | None:
    return np.flip(w, axis=tuple(range(2, w.ndim)))


def transposed(case: Case, w: np.ndarray) -> np.ndarray | None:
    return np.swapaxes(w, -1, -2) if case.rank >= 2 and w.shape[-1] == w.shape[-2] else None


def swapped(case: Case, w: np.ndarray) -> np.ndarray | None:
    return np.swapaxes(w, 0, 1) if w.shape[0] == w.shape[1] and case.groups == 1 else None


def shift(context: Context) -> Diagnosis | None:
    """The pads or crops moved by d on an axis: +d before, -d after (same output shape)."""
    case, ref, y = context.case, context.ref, context.y
    base = ops.pads(case)
    if base is None or y.size > MAX_ELEMENTS or ref.invalid:
        return None
    for move in itertools.product(range(-MAX_SHIFT, MAX_SHIFT + 1), repeat=case.rank):
        pads = tuple((lo + d, hi - d) for (lo, hi), d in zip(base, move))
        if not any(move) or min(min(p) for p in pads) < 0:
            continue
        found = explained(context, with_pads(context, pads), "shift",
                          f"{what_pads(case)} moved by {move} on each axis (+d before, -d after): "
                          f"{pads} instead of {tuple(base)}")
        if found is not None:
            return found
    return None


def offset(context: Context) -> Diagnosis | None:
    """The output itself moved by d positions (what it shares with the reference agrees)."""
    ref, y, bound = context.ref, context.y, context.bound
    if ref.out is None or bound is None or y.shape != ref.out.shape:
        return None
    for move in itertools.product(range(-MAX_SHIFT, MAX_SHIFT + 1), repeat=context.case.rank):
        if not any(move) or any(abs(d) * 2 >= n for d, n in zip(move, y.shape[2:])):
            continue
        ours = (slice(None), slice(None), *(slice(max(d, 0), n + min(d, 0)) for d, n in zip(move, y.shape[2:])))
        theirs = (slice(None), slice(None), *(slice(max(-d, 0), n + min(-d, 0)) for d, n in zip(move, y.shape[2:])))
        if within(y[ours], ref.out[theirs], bound[theirs]):
            return Diagnosis("shift", f"the output is the reference moved by {move} positions (the rows "
                                      "it shares with the reference agree)")
    return None


def other_pads(context: Context) -> Diagnosis | None:
    """A shape mismatch: the reference with other pads (or crops) gives the adapter's shape and values."""
    case, ref, y = context.case, context.ref, context.y
    base = ops.pads(case)
    if base is None or ref.out is None or y.shape == ref.out.shape or y.size > MAX_ELEMENTS or y.ndim != ref.out.ndim:
        return None
    lowest = -MAX_SHIFT if case.op == "conv_transpose" else 0
    reach = MAX_SHIFT if case.rank < 3 else 1  # (2 * reach + 1) ** (2 * rank) candidates at most
    for move in itertools.product(range(-reach, reach + 1), repeat=2 * case.rank):
        pads = tuple((lo + move[2 * a], hi + move[2 * a + 1]) for a, (lo, hi) in enumerate(base))
        if min(lo for lo, _ in pads) < 0 or min(hi for _, hi in pads) < lowest:
            continue
        found = explained(context, with_pads(context, pads), "shift",
                          f"the output is the reference with {what_pads(case)} {pads} instead of {tuple(base)}")
        if found is not None:
            return found
    return None


HYPOTHESES: tuple[Callable[[Context], Diagnosis | None], ...] = (
    measured_pads,
    layout,
    bias,
    precision,
    border,
    other_weights("flipped_kernel", "the kernel flipped on every spatial axis (convolution vs correlation)", flipped),
    other_weights("transposed_kernel", "the kernel's last two spatial axes swapped", transposed),
    other_weights("swapped_channels", "the weights read with input and output channels exchanged", swapped),
    shift,
    offset,
    other_pads,
)


def diagnose(case: Case, ref: Reference, tensors: Tensors, y: np.ndarray, bound: np.ndarray | None = None,
             measured: geometry.Pads | None = None, arithmetic: str | None = None) -> Diagnosis:
    """The first hypothesis that explains `y` (the adapter's output, N C spatial...)."""
    if bound is None and ref.out is not None:
        bound = error_bound(case, ref)
    context = Context(case, ref, tensors, y, bound, measured, arithmetic)
    for hypothesis in HYPOTHESES:
        found = hypothesis(context)
        if found is not None:
            return found
    return Diagnosis("unexplained")
