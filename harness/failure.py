"""The text pytest prints for a failing (case, adapter): readable, no harness traceback."""

from __future__ import annotations

from typing import Any

from .cases import Case
from .compare import row_pads
from .geometry import PAD_SIDES


def _pads(row: dict[str, Any], prefix: str) -> str:
    pads = row_pads(row, prefix)
    return " ".join(f"{v:>6}" for v in (pads if pads is not None else ["-"] * len(PAD_SIDES)))


def failure_text(case: Case, row: dict[str, Any], others: dict[str, dict[str, Any]]) -> str:
    status, expected = row["status"], row["expected"]
    lines = [f"{case.file}:{case.line}: {case.id} [{row['adapter']}]",
             f"  case: {row.get('case')}"]
    if case.doc:
        lines.append(f"  doc: {case.doc}")
    headline = f"  status: {status}, expected: {expected}"
    if status == "match" and expected in ("mismatch", "error"):
        headline += "  -> now matches: update the case (the framework changed)"
    lines.append(headline)
    if row.get("reason"):
        lines.append(f"  recorded reason: {row['reason']}")
    if row.get("mismatch_on"):
        lines.append(f"  mismatch on: {row['mismatch_on']}  (shape {row.get('out_shape')} vs reference "
                     f"{row.get('ref_shape')}; params {row.get('param_count')} vs {row.get('expected_param_count')})")
    if row.get("error_message"):
        lines.append(f"  {row['adapter']} said: {row.get('error_type') or ''}: {row['error_message']}")
    lines.append(f"  pads            {'  '.join(f'{s:>6}' for s in PAD_SIDES)}")
    lines.append(f"    reference     {_pads(row, 'ref_pad_')}")
    for name, other in others.items():
        lines.append(f"    {name:<13} {_pads(other, 'pad_')}   ({other['status']}, {other.get('realization') or '-'})")
    worst = row.get("worst")
    if worst:
        diff = abs(worst["value"] - worst["reference"])
        lines.append(f"  worst element at {tuple(worst['index'])}: {worst['value']!r} vs reference "
                     f"{worst['reference']!r} (|diff| {diff:.3g}, bound {worst['bound']:.3g}, "
                     f"err_bound_ratio {row.get('err_bound_ratio'):.3g})")
    return "\n".join(lines)
