"""`python -m harness diff OLD.csv NEW.csv`: what a framework upgrade (or a change) changed.

One row per change of a pair both runs hold: a field that changed (status, verdict, shape, pads,
parameter count, realization, error type, version, an initialiser's measured family and scale) said
in words, and the largest moves of err_bound_ratio; every row names its pass (forward, backward or init). Cases that only one run holds
are one row per case ("the runs cover different cases"), not one per pair. Exit codes, like
diff(1): 0 when both runs hold the same pairs and no status or verdict changed, 1 otherwise,
2 for a file that is not a results CSV.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_write
from ..model.geometry import PAD_SIDES
from ..results.csv_codec import read_csvs, safe_csv
from .firstscreen import table, text

KEY = ["case_id", "adapter", "pass"]
WATCHED = ("status", "expected", "passed", "out_shape", *(f"pad_{side}" for side in PAD_SIDES), "param_count",
           "realization", "error_type", "framework_version", "init_kernel", "init_bias")
VERDICT_FIELDS = ("status", "passed")
RATIO_ROWS = 20
DIFF_COLUMNS = ["case_id", "adapter", "pass", "change", "field", "old", "new", "what"]
WORDS = {"status": "status", "expected": "expected status", "passed": "verdict", "out_shape": "output shape",
         "param_count": "parameter count", "realization": "realization", "error_type": "error type",
         "framework_version": "framework version", "err_bound_ratio": "err_bound_ratio (|y - ref| / bound)",
         **{f"pad_{side}": f"pad/crop {side}" for side in PAD_SIDES}}


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _same(a: Any, b: Any) -> bool:
    return (_missing(a) and _missing(b)) or (not _missing(a) and not _missing(b) and str(a) == str(b))


def _shown(field: str, value: Any) -> str:
    if _missing(value):
        return "(empty)"
    if field == "passed":
        return "passes" if str(value) == "True" else "fails"
    return f"{float(value):.3g}" if field == "err_bound_ratio" else str(value)


def what_changed(field: str, old: Any, new: Any) -> str:
    if field == "passed":
        return "now passes" if _shown(field, new) == "passes" else "now fails"
    return f"{WORDS.get(field, field)}: {_shown(field, old)} -> {_shown(field, new)}"


def diff_frames(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    old_cases, new_cases = set(old["case_id"]), set(new["case_id"])
    changes: list[dict[str, Any]] = []
    for case_id in sorted(old_cases - new_cases):
        changes.append({"case_id": case_id, "change": "case only in old", "old": f"{(old['case_id'] == case_id).sum()} pairs",
                        "what": "the new run does not hold this case"})
    for case_id in sorted(new_cases - old_cases):
        changes.append({"case_id": case_id, "change": "case only in new", "new": f"{(new['case_id'] == case_id).sum()} pairs",
                        "what": "the old run does not hold this case"})
    both = old_cases & new_cases
    merged = old[old["case_id"].isin(both)].merge(new[new["case_id"].isin(both)], on=KEY, how="outer",
                                                  suffixes=("_old", "_new"), indicator=True)
    ratios = []
    for row in merged.astype(object).where(merged.notna(), None).to_dict("records"):
        key = {k: row[k] for k in KEY}
        if row["_merge"] != "both":
            gone = row["_merge"] == "left_only"
            status = row["status_old"] if gone else row["status_new"]
            changes.append({**key, "change": "removed" if gone else "added", "old": status if gone else "",
                            "new": "" if gone else status,
                            "what": f"only the {'old' if gone else 'new'} run has this pair ({status})"})
            continue
        for field in WATCHED:
            a, b = row[f"{field}_old"], row[f"{field}_new"]
            if not _same(a, b):
                changes.append({**key, "change": "changed", "field": field, "old": a, "new": b,
                                "what": what_changed(field, a, b)})
        a, b = row["err_bound_ratio_old"], row["err_bound_ratio_new"]
        if a is not None and b is not None and not _same(a, b):
            ratios.append((abs(float(b) - float(a)), {**key, "change": "ratio moved", "field": "err_bound_ratio",
                                                      "old": a, "new": b, "what": what_changed("err_bound_ratio", a, b)}))
    ratios.sort(key=lambda item: item[0], reverse=True)
    changes += [change for _, change in ratios[:RATIO_ROWS]]
    return pd.DataFrame(changes, columns=DIFF_COLUMNS)


def summary_line(changes: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame) -> str:
    """One line: how many pairs changed their verdict or status, what else moved, and whether the runs
    cover the same cases."""
    change = changes["change"]
    verdict = changes[changes["field"] == "passed"]
    fails = int((verdict["what"] == "now fails").sum())
    statuses = int((changes["field"] == "status").sum())
    parts = [f"{fails} now fail", f"{len(verdict) - fails} now pass", f"{statuses} changed status",
             f"{int((change == 'changed').sum())} field changes in all",
             f"{int(change.isin(('added', 'removed')).sum())} pairs added or removed"]
    only_old, only_new = int((change == "case only in old").sum()), int((change == "case only in new").sum())
    cover = (f"; the runs cover different cases: {only_old} only in the old run, {only_new} only in the new "
             f"(compared the {int(old['case_id'].isin(set(new['case_id'])).sum())} old pairs of the cases both hold)"
             if only_old or only_new else "")
    return f"diff of {len(old)} and {len(new)} pairs: " + ", ".join(parts) + cover


def differs(changes: pd.DataFrame) -> bool:
    """The exit code's question: a status or verdict changed, or the runs do not hold the same pairs."""
    return bool((changes["field"].isin(VERDICT_FIELDS) | changes["change"].isin(
        ("added", "removed", "case only in old", "case only in new"))).any())


def diff_html(changes: pd.DataFrame, old: str, new: str, summary: str) -> str:
    rows = ["<tr>" + "".join(f"<td>{escape(text(v))}</td>" for v in values) + "</tr>"
            for values in changes.astype(object).itertuples(index=False)]
    body = (table(tuple(DIFF_COLUMNS), rows, "diff") if rows
            else "<p>Both runs agree on every pair's status, shape, pads and parameter count.</p>")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Run-to-run diff</title><style>"
            "body{font:14px system-ui,sans-serif;margin:1.5em}td,th{border:1px solid #ccc;padding:2px 6px}"
            f"table{{border-collapse:collapse}}</style></head><body><h1>What changed</h1><p>{escape(old)} &rarr; "
            f"{escape(new)}</p><p><b>{escape(summary)}</b></p>{body}</body></html>")


def diff_command(old: str, new: str, output: str) -> int:
    before, after = read_csvs([old]), read_csvs([new])
    changes = diff_frames(before, after)
    summary = summary_line(changes, before, after)
    folder = Path(output)
    written = [atomic_write(folder / "diff.csv", safe_csv(changes, ("case_id", "adapter", "old", "new", "what"))),
               atomic_write(folder / "diff.html", diff_html(changes, old, new, summary))]
    shown = changes[~changes["change"].isin(("case only in old", "case only in new"))]
    if not shown.empty:
        print(shown.drop(columns=["field", "old", "new"]).fillna("").to_string(index=False))
    print(summary)
    print("wrote", ", ".join(map(str, written)))
    return 1 if differs(changes) else 0
