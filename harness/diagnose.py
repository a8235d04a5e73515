"""Why a forward mismatch happened: the first hypothesis that explains the adapter's output.

Each hypothesis is "the adapter computed the reference of a slightly different case", so it
is tested by recomputing that reference (float64) and checking the output against it within
the case's bound. Cheap ones first; shifts last, since they recompute the reference once per
candidate (at most 5 per axis, 124 in 3-D, and none for outputs over MAX_ELEMENTS). Never run
for matching pairs.

layout             the output is the reference in another axis order
bias               the bias is missing, added twice, or added along another axis
precision          within the bound of a lower precision (TF32, half-precision accumulation)
border             only outputs whose window touches the padding differ (a padding mode)
flipped_kernel     the kernel flipped on every spatial axis (true convolution vs correlation)
transposed_kernel  the kernel's last two spatial axes swapped
swapped_channels   weights read with input and output channels exchanged
shift              the pads (or transposed crops) moved by d positions on an axis
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from . import bounds, geometry, ops
from .data import Tensors
from .dtypes import UNIT_ROUNDOFF
from .reference import Reference, reference
from .schema import Case

MAX_ELEMENTS = 2_000_000  # outputs larger than this get the cheap hypotheses only
MAX_SHIFT = 2


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # one of the names above, or unexplained
    detail: str = ""


def within(y: np.ndarray, expected: np.ndarray | None, bound: np.ndarray) -> bool:
    if expected is None or y.shape != expected.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.abs(y - expected) <= bound) and np.all(np.isfinite(y) == np.isfinite(expected)))


def _bound(case: Case, ref: Reference, u_acc: float | None = None, precision: str | None = None,
           u_out: float | None = None) -> np.ndarray:
    """The case's bound, optionally for another accumulation or output roundoff or a reduced precision."""
    from .compare import error_bound

    if u_acc is None and precision is None and u_out is None:
        return error_bound(case, ref)
    assert ref.abs_conv is not None and ref.no_bias is not None and ref.out is not None
    return bounds.forward(ops.terms(case), case.dtype, ref.abs_conv, ref.no_bias, ref.out, precision,
                          u_acc=u_acc, u_out=u_out)


def diagnose(case: Case, ref: Reference, tensors: Tensors, y: np.ndarray) -> Diagnosis:
    """The first hypothesis that explains `y` (the adapter's output, N C spatial...)."""
    for test in _hypotheses(case, ref, tensors):
        found = test(y)
        if found is not None:
            return found
    return Diagnosis("unexplained")


def _hypotheses(case: Case, ref: Reference, tensors: Tensors) -> Iterator[Callable[[np.ndarray], Diagnosis | None]]:
    bound = _bound(case, ref) if ref.out is not None else None

    def layout(y: np.ndarray) -> Diagnosis | None:
        if ref.out is None or bound is None or y.shape == ref.out.shape:
            return None
        for order in itertools.permutations(range(y.ndim)):
            moved = np.transpose(y, order)
            if moved.shape == ref.out.shape and within(moved, ref.out, bound):
                return Diagnosis("layout", f"the output's axes are in the order {order} of N C spatial...")
        return None

    def bias(y: np.ndarray) -> Diagnosis | None:
        if ref.out is None or bound is None or tensors.bias is None or ref.no_bias is None:
            return None
        b = tensors.bias.astype(np.float64)
        channel = b.reshape((1, -1) + (1,) * case.rank)
        for what, expected in (("missing", ref.no_bias), ("added twice", ref.out + channel)):
            if within(y, expected, bound):
                return Diagnosis("bias", f"the bias is {what}")
        if ref.out.shape[-1] == len(b) and case.rank and within(y, ref.no_bias + b, bound):
            return Diagnosis("bias", "the bias is added along the last spatial axis instead of the channels")
        return None

    def precision(y: np.ndarray) -> Diagnosis | None:
        if ref.out is None or case.tolerance is not None:
            return None
        if case.dtype == "float64":
            u = UNIT_ROUNDOFF["float32"]
            if within(y, ref.out, _bound(case, ref, u_acc=u, u_out=u)):
                return Diagnosis("precision", "within the bound of float32 arithmetic: a float64 case computed in float32")
            return None
        if case.dtype == "float32" and within(y, ref.out, _bound(case, ref, precision="tf32")):
            return Diagnosis("precision", "within the bound of TF32 (operands rounded to 10 mantissa bits)")
        if case.dtype in ("float16", "bfloat16") and within(y, ref.out, _bound(case, ref, u_acc=UNIT_ROUNDOFF[case.dtype])):
            return Diagnosis("precision", f"within the bound of {case.dtype} accumulation")
        return None

    def border(y: np.ndarray) -> Diagnosis | None:
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
        off = np.abs(y - ref.out) > bound
        if off.any() and not (off & ~touches).any():
            return Diagnosis("border", "only outputs whose window reads the padding differ: the padding mode")
        return None

    def other_weights(kind: str, detail: str, make: Callable[[np.ndarray], np.ndarray | None]) -> Callable[
            [np.ndarray], Diagnosis | None]:
        def test(y: np.ndarray) -> Diagnosis | None:
            weights = make(tensors.weights)
            if weights is None:
                return None
            other = reference(case, replace(tensors, weights=weights))
            if other.out is None:
                return None
            return Diagnosis(kind, detail) if within(y, other.out, _bound(case, other)) else None
        return test

    def flipped(w: np.ndarray) -> np.ndarray | None:
        return np.flip(w, axis=tuple(range(2, w.ndim)))

    def transposed(w: np.ndarray) -> np.ndarray | None:
        return np.swapaxes(w, -1, -2) if case.rank >= 2 and w.shape[-1] == w.shape[-2] else None

    def swapped(w: np.ndarray) -> np.ndarray | None:
        return np.swapaxes(w, 0, 1) if w.shape[0] == w.shape[1] and case.groups == 1 else None

    def shift(y: np.ndarray) -> Diagnosis | None:
        base = ops.pads(case)
        if base is None or y.size > MAX_ELEMENTS or ref.invalid:
            return None
        moves = itertools.product(range(-MAX_SHIFT, MAX_SHIFT + 1), repeat=case.rank)
        for move in moves:
            pads = tuple((lo + d, hi - d) for (lo, hi), d in zip(base, move))
            if not any(move) or min(min(p) for p in pads) < 0:
                continue
            other = reference(case.model_copy(update={"padding": pads}), tensors)
            if other.out is not None and within(y, other.out, _bound(case, other)):
                what = "crops" if case.op == "conv_transpose" else "pads"
                return Diagnosis("shift", f"{what} moved by {move} on each axis (+d before, -d after): "
                                          f"{pads} instead of {tuple(base)}")
        return None

    def other_pads(y: np.ndarray) -> Diagnosis | None:
        """A shape mismatch: the reference with other pads (or crops) gives the adapter's shape and values."""
        base = ops.pads(case)
        if base is None or ref.out is None or y.shape == ref.out.shape or y.size > MAX_ELEMENTS or y.ndim != ref.out.ndim:
            return None
        lowest = -MAX_SHIFT if case.op == "conv_transpose" else 0  # a negative crop appends zeros; a pad cannot
        reach = MAX_SHIFT if case.rank < 3 else 1  # (2 * reach + 1) ** (2 * rank) candidates at most
        for move in itertools.product(range(-reach, reach + 1), repeat=2 * case.rank):
            pads = tuple((lo + move[2 * a], hi + move[2 * a + 1]) for a, (lo, hi) in enumerate(base))
            if min(lo for lo, _ in pads) < 0 or min(hi for _, hi in pads) < lowest:
                continue
            other = reference(case.model_copy(update={"padding": pads}), tensors) if case.op != "conv_transpose" \
                else _with_crops(case, tensors, pads)
            if other is not None and other.out is not None and within(y, other.out, _bound(case, other)):
                what = "crops" if case.op == "conv_transpose" else "pads"
                return Diagnosis("shift", f"the output is the reference with {what} {pads} instead of {tuple(base)}")
        return None

    def offset(y: np.ndarray) -> Diagnosis | None:
        """The output itself moved by d positions (what it shares with the reference agrees)."""
        if ref.out is None or bound is None or y.shape != ref.out.shape:
            return None
        for move in itertools.product(range(-MAX_SHIFT, MAX_SHIFT + 1), repeat=case.rank):
            if not any(move) or any(abs(d) * 2 >= n for d, n in zip(move, y.shape[2:])):
                continue
            ours = (slice(None), slice(None), *(slice(max(d, 0), n + min(d, 0)) for d, n in zip(move, y.shape[2:])))
            theirs = (slice(None), slice(None), *(slice(max(-d, 0), n + min(-d, 0)) for d, n in zip(move, y.shape[2:])))
            if within(y[ours], ref.out[theirs], bound[theirs]):
                return Diagnosis("shift", f"the output is the reference moved by {move} positions (the rows "
                                          "it shares with the reference agree)")
        return None

    yield layout
    yield bias
    yield precision
    yield border
    yield other_weights("flipped_kernel", "the kernel flipped on every spatial axis (convolution vs correlation)",
                        flipped)
    yield other_weights("transposed_kernel", "the kernel's last two spatial axes swapped", transposed)
    yield other_weights("swapped_channels", "the weights read with input and output channels exchanged", swapped)
    yield shift
    yield offset
    yield other_pads


def _with_crops(case: Case, tensors: Tensors, crops: tuple[tuple[int, int], ...]) -> Reference | None:
    """The transposed reference with any (low, high) crops, a negative high appending positions."""
    from .reference import _transpose

    full = (geometry.transpose_full(*axis) for axis in zip(case.input_size, case.kernel_size, case.stride, case.dilation))
    if any(n + op - low - high < 1 for n, op, (low, high) in zip(full, case.output_padding, crops)):
        return None  # these crops leave no output on some axis
    x, w = tensors.input.astype(np.float64), tensors.weights.astype(np.float64)
    c, a = _transpose(x, w, case, crops)
    if tensors.bias is None:
        return Reference(out=c, no_bias=c, abs_conv=a)
    b = tensors.bias.astype(np.float64).reshape((1, -1) + (1,) * case.rank)
    return Reference(out=c + b, no_bias=c, abs_conv=a + np.abs(b))
