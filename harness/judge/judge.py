"""One adapter's outcome against the reference -> one typed results row (docs/statuses.md).

The default tolerance is the worst-case rounding bound of a dot product in any order, plus at most two
roundings to the output dtype, so exceeding it (`err_bound_ratio > 1`) is never noise: it means wrong
arithmetic or less precision than the dtype promises. An expected error may pin its type and a message
regex: another error then fails.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from typing import Any

import numpy as np

from ..cases.arrays import data_digest
from ..model import ops
from ..model.data import Tensors
from ..model.dtypes import INPUT_ROUNDOFF, UNIT_ROUNDOFF
from ..model.expectation import Expectation
from ..model.ops import gradient_names
from ..model.schema import CONV_FIELDS, Case, Conv
from ..results.outcome import Outcome
from ..results.rows import Row, set_pads
from ..truth import deadline
from ..truth.bounds import error_bound
from ..truth.gradients import Gradient
from ..truth.reference import Reference
from .diagnose import diagnose
from .evidence import Diagnosis
from .expected import expectation, pinned_error
from .verdict import verdict_of


def value_errors(expected: np.ndarray, y: np.ndarray, bound: np.ndarray) -> dict[str, Any]:
    """max_abs_err, max_rel_err, err_bound_ratio and the worst element's place."""
    same_nonfinite = np.array_equal(~np.isfinite(y), ~np.isfinite(expected)) and np.array_equal(
        y[~np.isfinite(y)], expected[~np.isfinite(expected)], equal_nan=True)
    finite = np.isfinite(y) & np.isfinite(expected)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: those places are compared below
        diff = np.where(finite, np.abs(y - expected), 0.0)
    if not same_nonfinite:
        diff = np.where(np.isfinite(y) == np.isfinite(expected), diff, np.inf)
    if diff.size == 0:
        return {"max_abs_err": 0.0, "max_rel_err": 0.0, "err_bound_ratio": 0.0}
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / bound)
        rel = np.where(diff == 0, 0.0, diff / np.abs(expected))
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return {
        "diff_map": diff_map(ratio) if ratio[worst] > 1 and ratio.ndim >= 3 else None,
        "max_abs_err": float(diff.max()), "max_rel_err": float(rel.max()),
        "err_bound_ratio": float(ratio[worst]),
        "worst_index": "x".join(str(int(i)) for i in worst), "worst_value": float(y[worst]),
        "worst_reference": float(expected[worst]), "worst_bound": float(bound[worst]),
    }


def diff_map(ratio: np.ndarray, cells: int = 12) -> str:
    """Where values differ: max |y - ref| / bound over a coarse grid of the last two spatial
    axes (all batch items, channels and depths), as `a b c/d e f` rows, for the report's heat map."""
    spatial = ratio.reshape(-1, *ratio.shape[2:]).max(axis=0)
    plane = spatial[None, :] if spatial.ndim == 1 else spatial.reshape(-1, *spatial.shape[-2:]).max(axis=0)
    rows = np.array_split(np.arange(plane.shape[0]), min(cells, plane.shape[0]))
    cols = np.array_split(np.arange(plane.shape[1]), min(cells, plane.shape[1]))
    grid = [[plane[np.ix_(r, c)].max() for c in cols] for r in rows]
    return "/".join(" ".join(f"{v:.3g}" for v in line) for line in grid)


def describe(case: Conv) -> str:
    """The case in one line, in torch-like words."""
    def axes(values: tuple[int, ...]) -> str:
        return "x".join(map(str, values))

    pad = case.padding if isinstance(case.padding, str) else "x".join(f"{a}-{b}" for a, b in case.padding)
    extra = (f" output_size={axes(case.output_size)}" if case.output_size is not None else
             f" output_padding={axes(case.output_padding)}" if case.output_padding is not None else "")
    return (f"{case.op} {case.rank}-D N={'none' if case.batch is None else case.batch} C={case.in_channels} in={axes(case.input_size)} -> "
            f"O={case.out_channels} k={axes(case.kernel_size)} s={axes(case.stride)} d={axes(case.dilation)} "
            f"pad={pad}{extra} mode={case.padding_mode} g={case.groups} bias={str(case.bias).lower()} "
            f"{case.dtype} {case.layout}")


def fingerprint(case: Case) -> str:
    """Everything that decides what a pair computes and how it is judged, apart from `expect:`
    (a row stays true while this is unchanged; --resume re-judges its expectation)."""
    fields = case.model_dump(mode="json", include=set(CONV_FIELDS) - {"id", "doc", "adapters"})
    arrays = data_digest(case)  # the .npz files' contents, not only their names
    return hashlib.sha256(json.dumps({**fields, "seed": case.seed, **({"arrays": arrays} if arrays else {})},
                                     sort_keys=True).encode()).hexdigest()[:16]


def rejudged(row: Row, case: Case) -> Row:
    """A kept row judged again against the case's expectations as they are now (an init row as judge_init
    judges it: needing no reference, and failing whatever is expected where its draws were undocumented)."""
    invalid = row.pass_ != "init" and ops.invalid_reason(case) is not None
    rule = expectation(case, invalid, row.adapter, row.pass_, row.status, row.stage)
    outcome = Outcome(row.adapter, row.status, error_type=row.error_type, error_message=row.error_message)
    passed = verdict(row, rule, outcome) and row.diagnosis != "undocumented"
    return replace(row, expected=rule.status, reason=rule.reason, expected_error=pinned_error(rule),
                   passed=passed, verdict=verdict_of(passed, row.status, invalid))


def error_differs(rule: Expectation, outcome: Outcome) -> bool:
    """An expected error with a pinned type or message that the raised one does not fit."""
    if rule.error_type is not None and outcome.error_type != rule.error_type:
        return True
    return rule.message is not None and re.search(rule.message, outcome.error_message or "") is None


def shape_text(shape: tuple[int, ...] | None) -> str | None:
    return None if shape is None else "x".join(str(s) for s in shape)


def judge(case: Case, ref: Reference, outcome: Outcome, bound: np.ndarray | None = None,
          tensors: Tensors | None = None) -> Row:
    """The results row for one (case, adapter).

    `bound` is the case's error bound when the caller computed it once for all adapters; with the
    case's `tensors`, a mismatch on shape or values gets a diagnosis."""
    rule = expectation(case, bool(ref.invalid), outcome.adapter, status=outcome.status, stage=outcome.stage)
    row = Row(case_id=case.id, file=case.file, adapter=outcome.adapter, status=outcome.status,
              expected=rule.status, passed=False, reason=rule.reason, expected_error=pinned_error(rule),
              dtype=case.dtype, ref_shape=shape_text(ref.shape), realization=outcome.realization,
              expected_param_count=ops.expected_param_count(case), param_count=outcome.param_count,
              error_type=outcome.error_type, error_message=outcome.error_message,
              seconds=outcome.seconds, framework_version=outcome.version, op=case.op, rank=case.rank,
              precision=outcome.precision, device=outcome.device, line=case.line, doc=case.doc, case=describe(case),
              case_hash=fingerprint(case), stage=outcome.stage)
    if outcome.pads is not None:
        set_pads(row, "pad_", outcome.pads)
        row.pad_asymmetric = any(low != high for low, high in outcome.pads)
    if ref.pads is not None:
        set_pads(row, "ref_pad_", ref.pads)
    if outcome.status == "ran":
        assert outcome.output is not None
        y = outcome.output.values
        row.out_shape = shape_text(y.shape)
        wrong = []
        if ref.out is None or y.shape != ref.out.shape:
            wrong.append("shape")
        if outcome.output.dtype != case.dtype:
            wrong.append("dtype")
        if outcome.param_count != row.expected_param_count:
            wrong.append("params")
        if ref.out is not None and y.shape == ref.out.shape:
            reduced = outcome.precision in INPUT_ROUNDOFF and case.tolerance is None
            strict = value_errors(ref.out, y, error_bound(case, ref) if bound is None else bound)
            for key, value in (value_errors(ref.out, y, error_bound(case, ref, outcome.precision))
                               if reduced else strict).items():
                setattr(row, key, value)
            row.strict_err_bound_ratio = strict["err_bound_ratio"]
            if not (row.err_bound_ratio is not None and row.err_bound_ratio <= 1):
                wrong.append("values")
        row.status = "mismatch" if wrong else "match"
        row.mismatch_on = ";".join(wrong) or None
        if tensors is not None and ("values" in wrong or "shape" in wrong):
            try:
                found = diagnose(case, ref, tensors, y, bound, outcome.pads, outcome.output.arithmetic)
            except deadline.Overrun:
                found = Diagnosis("unexplained", "the search for a cause ran past --timeout and was stopped")
            row.diagnosis, row.diagnosis_detail = found.kind, found.detail or None
    row.passed = verdict(row, rule, outcome)
    row.verdict = verdict_of(row.passed, row.status, bool(ref.invalid))
    return row


def verdict(row: Row, rule: Expectation, outcome: Outcome) -> bool:
    """A pair passes when its status is the expected one (and an expected error is the pinned one)."""
    return row.status == "skipped" or (
        row.status == rule.status and not (row.status == "error" and error_differs(rule, outcome)))


def pass_row(case: Case, outcome: Outcome, rule: Expectation, pass_: str, **more: Any) -> Row:
    """A backward or init row before its judgement: the case's and the outcome's columns."""
    return Row(case_id=case.id, file=case.file, adapter=outcome.adapter, status=outcome.status, pass_=pass_,
               expected=rule.status, passed=False, reason=rule.reason, expected_error=pinned_error(rule),
               dtype=case.dtype, realization=outcome.realization, error_type=outcome.error_type,
               error_message=outcome.error_message, seconds=outcome.seconds, framework_version=outcome.version,
               op=case.op, rank=case.rank, precision=outcome.precision, device=outcome.device, line=case.line,
               doc=case.doc, case=describe(case), expected_param_count=ops.expected_param_count(case),
               case_hash=fingerprint(case), stage=outcome.stage, **more)


def judge_backward(case: Case, invalid: bool, grads: dict[str, Gradient] | None, outcome: Outcome,
                   ref_shape: tuple[int, ...] | None = None) -> Row:
    """The backward row: dx, dw (dpw), db against the reference gradients; `ref_shape`: the forward output's."""
    rule = expectation(case, invalid, outcome.adapter, "backward", outcome.status, outcome.stage)
    row = pass_row(case, outcome, rule, "backward", ref_shape=shape_text(ref_shape))
    if outcome.status == "ran":
        got = outcome.gradients or {}
        wrong, worst = [], -1.0
        for name in gradient_names(case):
            ref = (grads or {}).get(name)
            value = got.get(name)
            if ref is None or value is None or value.shape != ref.value.shape:
                wrong.append(name)
                continue
            errors = value_errors(ref.value, value, ref.bound(case))
            setattr(row, f"{name}_err_bound_ratio", errors["err_bound_ratio"])
            if errors["err_bound_ratio"] > worst:
                worst = errors["err_bound_ratio"]
                for key, item in errors.items():
                    setattr(row, key, item)
                row.worst_index = f"{name} {errors['worst_index']}" if errors.get("worst_index") else None
            if not errors["err_bound_ratio"] <= 1:
                wrong.append(name)
        row.status = "mismatch" if wrong else "match"
        row.mismatch_on = ";".join(wrong) or None
        if wrong and grads is not None:
            row.diagnosis, row.diagnosis_detail = lower_precision(case, grads, got, wrong)
    row.passed = verdict(row, rule, outcome)
    row.verdict = verdict_of(row.passed, row.status, invalid)
    return row


def lower_precision(case: Case, grads: dict[str, Gradient], got: dict[str, np.ndarray],
                    wrong: list[str]) -> tuple[str, str | None]:
    """A backward mismatch is diagnosed as a forward one would be: `precision` when every gradient out of
    bound is within the bound of sums kept in the case's half precision, or of a float64 case computed in
    float32 (sums and results), else `unexplained`."""
    wide = case.dtype == "float64"
    if case.dtype in ("float16", "bfloat16", "float64"):
        u = UNIT_ROUNDOFF["float32" if wide else case.dtype]
        if all(name in got and got[name].shape == grads[name].value.shape and value_errors(
                grads[name].value, got[name], grads[name].bound(case, u_acc=u, u_out=u if wide else None))[
                    "err_bound_ratio"] <= 1 for name in wrong):
            return "precision", f"{', '.join(wrong)} within the bound of " + (
                "float32 arithmetic: a float64 case computed in float32" if wide
                else f"{case.dtype} accumulation, not float32's")
    return "unexplained", None
