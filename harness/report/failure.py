"""The text pytest prints for a failing (case, adapter): readable, no harness traceback."""

from __future__ import annotations

from typing import Any

from ..cases.loading import Case
from ..model.geometry import sides
from ..results.rows import pads_of


def _pads(row: dict[str, Any], prefix: str, count: int) -> str:
    pads = pads_of(row, prefix)
    return " ".join(f"{v:>6}" for v in (pads if pads is not None else ["-"] * count))


def failure_text(case: Case, row: dict[str, Any], others: dict[str, dict[str, Any]]) -> str:
    status, expected = row["status"], row["expected"]
    backward, init = row.get("pass") == "backward", row.get("pass") == "init"
    lines = [f"{case.file}:{case.line}: {case.id} [{row['adapter']}" + (f", {row['pass']} pass]" if backward or init else "]"),
             f"  case: {row.get('case')}"]
    if case.doc:
        lines.append(f"  doc: {case.doc}")
    headline = f"  status: {status}, expected: {expected}"
    if status == "match" and expected in ("mismatch", "error"):
        headline += "  -> now matches: update the case (the framework changed)"
    elif status == expected == "error":
        headline += f"  -> raises a different error: update the case (pinned {row.get('expected_error')})"
    lines.append(headline)
    if row.get("reason"):
        lines.append(f"  recorded reason: {row['reason']}")
    if row.get("mismatch_on") and backward:
        ratios = ", ".join(f"{g} {row[f'{g}_err_bound_ratio']:.3g}" for g in ("dx", "dw", "dpw", "db")
                           if row.get(f"{g}_err_bound_ratio") is not None)
        lines.append(f"  mismatch on: {row['mismatch_on']}  (err_bound_ratio of each gradient: {ratios or 'none'})")
    elif row.get("mismatch_on") and init:
        p = {part: "-" if row.get(f"init_{part}_p") is None else f"{row[f'init_{part}_p']:.3g}" for part in ("kernel", "bias")}
        lines.append(f"  mismatch on: {row['mismatch_on']}  (kernel {row.get('init_kernel')}, KS p {p['kernel']}; "
                     f"bias {row.get('init_bias') or '-'}, KS p {p['bias']})")
    elif row.get("mismatch_on"):
        lines.append(f"  mismatch on: {row['mismatch_on']}  (shape {row.get('out_shape')} vs reference "
                     f"{row.get('ref_shape')}; params {row.get('param_count')} vs {row.get('expected_param_count')})")
    if row.get("diagnosis"):
        lines.append(f"  diagnosis: {row['diagnosis']}" + (f": {row['diagnosis_detail']}" if row.get("diagnosis_detail") else ""))
    if row.get("error_message"):
        kind = f"{row['error_type']}: " if row.get("error_type") else ""
        lines.append(f"  {row['adapter']} said: {kind}{row['error_message']}")
    if init:
        lines.append(f"  documented default: {row.get('init_declared') or '-'}")
        return "\n".join(lines)
    if backward:
        lines += _worst(row)
        return "\n".join(lines)
    names = sides(case.rank)
    what = "crops" if case.op == "conv_transpose" else "pads"
    width = max(len("reference"), *(len(name) for name in others))  # the columns line up for every name
    lines.append(f"  {what:<{width + 3}}{' '.join(f'{s:>6}' for s in names)}")
    lines.append(f"    {'reference':<{width}} {_pads(row, 'ref_pad_', len(names))}")
    for name, other in others.items():
        lines.append(f"    {name:<{width}} {_pads(other, 'pad_', len(names))}   ({other['status']}, "
                     f"{other.get('realization') or '-'})")
    lines += _worst(row)
    return "\n".join(lines)


def index_text(worst_index: str) -> str:
    """`0x2x2x6` (or `dx 0x1x2x2` for a gradient) as `index [0, 2, 2, 6]`: an index, not a shape."""
    name, _, place = worst_index.rpartition(" ")
    return (f"{name} " if name else "") + "index [" + ", ".join(place.split("x")) + "]"


def _worst(row: dict[str, Any]) -> list[str]:
    if not row.get("worst_index"):
        return []
    diff = abs(row["worst_value"] - row["worst_reference"])
    return [f"  worst element: {index_text(row['worst_index'])} (N, C, spatial...): {row['worst_value']!r} vs reference "
            f"{row['worst_reference']!r} (|diff| {diff:.3g}, bound {row['worst_bound']:.3g}, "
            f"err_bound_ratio {row.get('err_bound_ratio'):.3g})"]
