"""The results row: one typed record per (case, adapter), and the one list of its columns.

A leaf module: comparison writes rows, reports, diff and the pytest plugin read them, and
none of them needs the case loader or the comparison to know what a column is. The first
30 columns are the documented results.csv contract, in order; `op` and `rank` and the
depth pads of 3-D cases follow; the rest let `report` and `merge` redraw the HTML from a
CSV alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..model.geometry import AXIS_SIDES, PAD_SIDES


@dataclass
class Row:
    case_id: str
    file: str
    adapter: str
    status: str
    expected: str
    passed: bool
    mismatch_on: str | None = None
    realization: str | None = None
    dtype: str | None = None
    ref_shape: str | None = None
    out_shape: str | None = None
    pad_top: int | None = None
    pad_bottom: int | None = None
    pad_left: int | None = None
    pad_right: int | None = None
    ref_pad_top: int | None = None
    ref_pad_bottom: int | None = None
    ref_pad_left: int | None = None
    ref_pad_right: int | None = None
    pad_asymmetric: bool | None = None
    param_count: int | None = None
    expected_param_count: int | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    err_bound_ratio: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    reason: str | None = None
    seconds: float | None = None
    framework_version: str | None = None
    op: str | None = None
    rank: int | None = None
    pad_front: int | None = None
    pad_back: int | None = None
    ref_pad_front: int | None = None
    ref_pad_back: int | None = None
    pass_: str = "forward"  # the column `pass`: forward, backward (a grad case's gradients) or init (initialisers)
    precision: str | None = None
    strict_err_bound_ratio: float | None = None
    device: str | None = None
    dx_err_bound_ratio: float | None = None
    dw_err_bound_ratio: float | None = None
    dpw_err_bound_ratio: float | None = None  # separable's pointwise kernel
    db_err_bound_ratio: float | None = None
    diagnosis: str | None = None  # why a forward mismatch happened (harness/judge/diagnose.py)
    diagnosis_detail: str | None = None
    verdict: str | None = None  # fail, agree, differ, not applicable, skipped (harness/judge/verdict.py)
    expected_error: str | None = None
    worst_index: str | None = None
    worst_value: float | None = None
    worst_reference: float | None = None
    worst_bound: float | None = None
    diff_map: str | None = None
    line: int | None = None
    doc: str | None = None
    case: str | None = None
    case_hash: str | None = None  # what the case computed when the row was made (compare.fingerprint)
    stage: str | None = None  # a conversion route's stage reached: build, convert or run (where it failed)
    init_kernel: str | None = None  # init: the kernel draws' measured family and scale, and the fan they imply
    init_bias: str | None = None
    init_kernel_p: float | None = None  # init: the KS test's p-value against the reference's (torch's) default
    init_bias_p: float | None = None
    init_declared: str | None = None  # init: the framework's documented default and its own KS p-value
    init_histogram: str | None = None  # init: `kernel=m:counts;bias=m:counts` over [-m, m]
    init_samples: str | None = None  # init: how many kernel and bias values were drawn, from how many layers

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.case_id, self.adapter, self.pass_)

    def record(self) -> dict[str, Any]:
        """The row as a plain dict with its column names (every value is a scalar: no deep copy needed)."""
        return {column: getattr(self, field) for column, field in _FIELD_OF.items()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Row:
        """A row read back (a CSV, the journal, a pytest worker): known columns only."""
        return cls(**{_FIELD_OF[k]: v for k, v in record.items() if k in _FIELD_OF and (v is not None or k in REQUIRED)})


_FIELDS = dataclasses.fields(Row)
_FIELD_OF: dict[str, str] = {f.name.rstrip("_"): f.name for f in _FIELDS}  # column name -> attribute (pass_)
COLUMNS: tuple[str, ...] = tuple(_FIELD_OF)
REQUIRED: tuple[str, ...] = ("case_id", "file", "adapter", "status", "expected", "passed")
INTEGER_COLUMNS: tuple[str, ...] = tuple(f.name for f in _FIELDS if f.type == "int | None")
BOOLEAN_COLUMNS: tuple[str, ...] = tuple(f.name for f in _FIELDS if f.type.startswith("bool"))
STRING_COLUMNS: tuple[str, ...] = tuple(f.name.rstrip("_") for f in _FIELDS if f.type.startswith("str"))


def pads_of(record: dict[str, Any] | Row, prefix: str = "pad_") -> tuple[int, ...] | None:
    """The pads (or crops) of a row in axis order, low before high; None if any is empty."""
    if isinstance(record, Row):
        record = record.record()
    rank = record.get("rank")
    rank = int(rank) if rank is not None and rank == rank else 2  # NaN from a CSV reads as 2-D
    values = [record.get(prefix + side) for pair in AXIS_SIDES.get(rank, AXIS_SIDES[2]) for side in pair]
    pads = tuple(int(v) for v in values if v is not None and v == v)  # NaN != NaN: an empty CSV cell
    return pads if len(pads) == len(values) else None


def set_pads(row: Row, prefix: str, pads: tuple[tuple[int, int], ...]) -> None:
    """Write (low, high) pairs into the side columns of their rank."""
    for (low, high), (low_side, high_side) in zip(pads, AXIS_SIDES[len(pads)]):
        setattr(row, prefix + low_side, low)
        setattr(row, prefix + high_side, high)


assert set(PAD_SIDES) == {side for pairs in AXIS_SIDES.values() for pair in pairs for side in pair}
