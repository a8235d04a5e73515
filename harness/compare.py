"""One adapter's outcome against the reference -> one results row (SPEC sections 3, 4, 7).

The default tolerance is the worst-case rounding bound of a dot product in any order,
plus at most two roundings to the output dtype, so exceeding it (`err_bound_ratio > 1`)
is never noise: it means wrong arithmetic or less precision than the dtype promises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import geometry
from .adapters.base import Output
from .cases import Case
from .data import weight_shape
from .dtypes import UNIT_ROUNDOFF, accumulation_roundoff
from .reference import Reference

COLUMNS = (
    "case_id", "file", "adapter", "status", "expected", "passed", "mismatch_on", "realization",
    "dtype", "ref_shape", "out_shape", "pad_top", "pad_bottom", "pad_left", "pad_right",
    "ref_pad_top", "ref_pad_bottom", "ref_pad_left", "ref_pad_right", "pad_asymmetric",
    "param_count", "expected_param_count", "max_abs_err", "max_rel_err", "err_bound_ratio",
    "error_type", "error_message", "reason", "seconds", "framework_version",
)


@dataclass
class Outcome:
    """What running one case in one adapter gave, before any judgement."""

    adapter: str
    status: str  # ran | error | unsupported | skipped
    output: Output | None = None
    realization: str | None = None
    param_count: int | None = None
    pads: geometry.Pads | None = None
    error_type: str | None = None
    error_message: str | None = None
    seconds: float | None = None
    version: str | None = None


def terms(case: Case) -> int:
    """n: products summed per output element (the weights per output channel), +1 for the bias."""
    _, per_group, kh, kw = weight_shape(case)
    return kh * kw * per_group + int(case.bias)


def error_bound(case: Case, ref: Reference) -> np.ndarray:
    """gamma_n * A + u_out * (|c| + |ref|), elementwise (SPEC section 4)."""
    assert ref.abs_conv is not None and ref.no_bias is not None and ref.out is not None
    if case.tolerance is not None:
        return case.tolerance.atol + case.tolerance.rtol * np.abs(ref.out)
    n_u = terms(case) * accumulation_roundoff(case.dtype)
    gamma = n_u / (1 - n_u) if n_u < 1 else np.inf
    return gamma * ref.abs_conv + UNIT_ROUNDOFF[case.dtype] * (np.abs(ref.no_bias) + np.abs(ref.out))


def value_errors(case: Case, ref: Reference, y: np.ndarray, bound: np.ndarray | None = None) -> dict[str, Any]:
    """max_abs_err, max_rel_err, err_bound_ratio and the worst element's place."""
    expected = ref.out
    assert expected is not None
    same_nonfinite = np.array_equal(~np.isfinite(y), ~np.isfinite(expected)) and np.array_equal(
        y[~np.isfinite(y)], expected[~np.isfinite(expected)], equal_nan=True)
    finite = np.isfinite(y) & np.isfinite(expected)
    diff = np.where(finite, np.abs(y - expected), 0.0)
    if not same_nonfinite:
        diff = np.where(np.isfinite(y) == np.isfinite(expected), diff, np.inf)
    if diff.size == 0:
        return {"max_abs_err": 0.0, "max_rel_err": 0.0, "err_bound_ratio": 0.0, "worst": None, "diff_map": None}
    bound = error_bound(case, ref) if bound is None else bound
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / bound)
        rel = np.where(diff == 0, 0.0, diff / np.abs(expected))
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return {
        "diff_map": diff_map(ratio) if ratio[worst] > 1 else None,
        "max_abs_err": float(diff.max()), "max_rel_err": float(rel.max()),
        "err_bound_ratio": float(ratio[worst]),
        "worst": {"index": tuple(int(i) for i in worst), "value": float(y[worst]),
                  "reference": float(expected[worst]), "bound": float(bound[worst])},
    }


def diff_map(ratio: np.ndarray, cells: int = 12) -> str:
    """Where values differ: max |y - ref| / bound over a coarse grid of output rows and
    columns (all batch items and channels), as `a b c/d e f` rows, for the report's heat map."""
    plane = ratio.max(axis=(0, 1))
    rows = np.array_split(np.arange(plane.shape[0]), min(cells, plane.shape[0]))
    cols = np.array_split(np.arange(plane.shape[1]), min(cells, plane.shape[1]))
    grid = [[plane[np.ix_(r, c)].max() for c in cols] for r in rows]
    return "/".join(" ".join(f"{v:.3g}" for v in line) for line in grid)


def describe(case: Case) -> str:
    """The case in one line, in torch-like words."""
    pad = case.padding if isinstance(case.padding, str) else "x".join(f"{a}-{b}" for a, b in case.padding)
    return (f"N={case.batch} C={case.in_channels} HxW={case.input_size[0]}x{case.input_size[1]} -> "
            f"O={case.out_channels} k={case.kernel_size[0]}x{case.kernel_size[1]} "
            f"s={case.stride[0]}x{case.stride[1]} d={case.dilation[0]}x{case.dilation[1]} "
            f"pad={pad} mode={case.padding_mode} g={case.groups} bias={str(case.bias).lower()} "
            f"{case.dtype} {case.layout}")


def expected_status(case: Case, ref: Reference, adapter: str) -> tuple[str, str | None]:
    rule = case.expect.get(adapter)
    if rule is not None:
        return rule.status, rule.reason
    return ("error" if ref.invalid else "match"), None


def expected_param_count(case: Case) -> int:
    """(kh*kw*in_channels/groups + bias) * out_channels: one bias term per output channel."""
    return terms(case) * case.out_channels


def row_pads(row: dict[str, Any], prefix: str = "pad_") -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of a results row (`pad_` or `ref_pad_`), None if any is empty."""
    values = [row.get(prefix + side) for side in geometry.PAD_SIDES]
    if any(v is None for v in values):
        return None
    return tuple(int(v) for v in values)  # type: ignore[return-value]


def shape_text(shape: tuple[int, ...] | None) -> str | None:
    return None if shape is None else "x".join(str(s) for s in shape)


def judge(case: Case, ref: Reference, outcome: Outcome, bound: np.ndarray | None = None) -> dict[str, Any]:
    """The results row for one (case, adapter); `worst` rides along for failure reports.

    `bound` is the case's error bound when the caller computed it once for all adapters."""
    expected, reason = expected_status(case, ref, outcome.adapter)
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["diff_map"] = None
    row.update(case_id=case.id, file=case.file, adapter=outcome.adapter, expected=expected, reason=reason,
               dtype=case.dtype, ref_shape=shape_text(ref.shape), realization=outcome.realization,
               expected_param_count=expected_param_count(case), param_count=outcome.param_count,
               error_type=outcome.error_type, error_message=outcome.error_message,
               seconds=outcome.seconds, framework_version=outcome.version,
               line=case.line, doc=case.doc, case=describe(case))
    for prefix, pads in (("pad_", outcome.pads), ("ref_pad_", ref.pads)):
        if pads is not None:
            row.update(zip((prefix + side for side in geometry.PAD_SIDES), (*pads[0], *pads[1])))
    if outcome.pads is not None:
        row["pad_asymmetric"] = any(low != high for low, high in outcome.pads)
    worst = None
    status = outcome.status
    if status == "ran":
        assert outcome.output is not None
        y = outcome.output.values
        row["out_shape"] = shape_text(y.shape)
        wrong = []
        if ref.out is None or y.shape != ref.out.shape:
            wrong.append("shape")
        if outcome.output.dtype != case.dtype:
            wrong.append("dtype")
        if outcome.param_count != row["expected_param_count"]:
            wrong.append("params")
        if ref.out is not None and y.shape == ref.out.shape:
            errors = value_errors(case, ref, y, bound)
            worst = errors.pop("worst")
            row.update(errors)
            if not row["err_bound_ratio"] <= 1:
                wrong.append("values")
        status = "mismatch" if wrong else "match"
        row["mismatch_on"] = ";".join(wrong) or None
    row["status"] = status
    row["passed"] = status == expected or status == "skipped"
    row["worst"] = worst
    return row
