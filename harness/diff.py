"""`python -m harness diff OLD.csv NEW.csv`: what a framework upgrade (or a change) changed.

One row per change: a pair added or removed, a field that changed (status, passed, shape,
pads, parameter count, realization), and the largest moves of err_bound_ratio. Exits 1 when
a pair was added or removed or its status or verdict changed, 0 otherwise, like diff(1).
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from .geometry import PAD_SIDES
from .report import atomic_write, read_csvs

KEY = ["case_id", "adapter", "pass"]
WATCHED = ("status", "expected", "passed", "out_shape", *(f"pad_{side}" for side in PAD_SIDES), "param_count",
           "realization", "error_type", "framework_version")
RATIO_ROWS = 20
DIFF_COLUMNS = ["case_id", "adapter", "change", "field", "old", "new"]


def _same(a: Any, b: Any) -> bool:
    missing_a, missing_b = a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a)), \
        b is None or b is pd.NA or (isinstance(b, float) and math.isnan(b))
    return (missing_a and missing_b) or (not missing_a and not missing_b and str(a) == str(b))


def diff_frames(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    merged = old.merge(new, on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    changes: list[dict[str, Any]] = []
    ratios = []
    for row in merged.astype(object).where(merged.notna(), None).to_dict("records"):
        key = {k: row[k] for k in KEY}
        if row["_merge"] == "left_only":
            changes.append({**key, "change": "removed", "field": "", "old": row["status_old"], "new": ""})
            continue
        if row["_merge"] == "right_only":
            changes.append({**key, "change": "added", "field": "", "old": "", "new": row["status_new"]})
            continue
        for field in WATCHED:
            if not _same(row[f"{field}_old"], row[f"{field}_new"]):
                changes.append({**key, "change": "changed", "field": field, "old": row[f"{field}_old"],
                                "new": row[f"{field}_new"]})
        a, b = row["err_bound_ratio_old"], row["err_bound_ratio_new"]
        if a is not None and b is not None and not _same(a, b):
            ratios.append((abs(float(b) - float(a)), {**key, "change": "err_bound_ratio", "field": "err_bound_ratio",
                                                      "old": a, "new": b}))
    ratios.sort(key=lambda item: item[0], reverse=True)
    changes += [change for _, change in ratios[:RATIO_ROWS]]
    return pd.DataFrame(changes, columns=DIFF_COLUMNS)


def diff_html(changes: pd.DataFrame, old: str, new: str) -> str:
    counts = changes["change"].value_counts().to_dict() if not changes.empty else {}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no changes"
    table = (changes.style.hide(axis="index").to_html() if not changes.empty
             else "<p>Both runs agree on every pair's status, shape, pads and parameter count.</p>")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Run-to-run diff</title><style>"
            "body{font:14px system-ui,sans-serif;margin:1.5em}td,th{border:1px solid #ccc;padding:2px 6px}"
            f"table{{border-collapse:collapse}}</style></head><body><h1>What changed</h1><p>{escape(old)} &rarr; "
            f"{escape(new)}: {escape(summary)}</p>{table}</body></html>")


def diff_command(old: str, new: str, output: str) -> int:
    changes = diff_frames(read_csvs([old]), read_csvs([new]))
    folder = Path(output)
    written = [atomic_write(folder / "diff.csv", changes.to_csv(index=False)),
               atomic_write(folder / "diff.html", diff_html(changes, old, new))]
    print(changes.to_string(index=False) if not changes.empty else "no changes")
    print("wrote", ", ".join(map(str, written)))
    verdicts = changes["change"].isin(("added", "removed")) | changes["field"].isin(("status", "passed"))
    return 1 if bool(verdicts.any()) else 0  # like diff(1): 1 when a pair's status or verdict changed
