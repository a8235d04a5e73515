"""Rows -> results.csv and report.html, written atomically; CSVs -> one report again.

results.csv carries the SPEC's columns in order, then a few extra columns (the worst
element and a coarse map of where values differ) so that `report` and `merge` can draw
the same HTML from CSVs alone, e.g. from several machines.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .compare import COLUMNS

INTEGER_COLUMNS = ("pad_top", "pad_bottom", "pad_left", "pad_right", "ref_pad_top", "ref_pad_bottom",
                   "ref_pad_left", "ref_pad_right", "param_count", "expected_param_count", "line")
EXTRA_COLUMNS = ("worst_index", "worst_value", "worst_reference", "worst_bound", "diff_map", "line", "doc", "case")
ALL_COLUMNS = (*COLUMNS, *EXTRA_COLUMNS)


def atomic_write(path: Path, text: str) -> Path:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is meant to be shared
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame with every column, in order; extra keys are dropped."""
    flat = []
    for row in rows:
        row = dict(row)
        worst = row.pop("worst", None)
        if worst:
            row.update(worst_index="x".join(map(str, worst["index"])), worst_value=worst["value"],
                       worst_reference=worst["reference"], worst_bound=worst["bound"])
        flat.append(row)
    return typed(pd.DataFrame(flat, columns=list(ALL_COLUMNS)))


def typed(df: pd.DataFrame) -> pd.DataFrame:
    """Integer columns stay integers when some cells are empty (pads of an error row)."""
    for column in INTEGER_COLUMNS:
        df[column] = pd.to_numeric(df[column]).astype("Int64")
    return df


def csv_text(df: pd.DataFrame) -> str:
    out = df.copy()
    for column in ("passed", "pad_asymmetric"):
        out[column] = out[column].map({True: "true", False: "false"}).astype("object")
    return out.to_csv(index=False)


def read_csvs(paths: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype={"passed": str, "pad_asymmetric": str}, keep_default_na=False,
                          na_values=[""]) for p in paths]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(ALL_COLUMNS))
    for column in ALL_COLUMNS:
        if column not in df:
            df[column] = None
    for column in ("passed", "pad_asymmetric"):
        df[column] = df[column].map({"true": True, "false": False, "True": True, "False": False})
    return typed(df[list(ALL_COLUMNS)].copy())


def write_reports(rows: Sequence[dict[str, Any]] | pd.DataFrame, output: str | os.PathLike[str],
                  env: dict[str, str]) -> list[Path]:
    from .html import render_html

    df = rows if isinstance(rows, pd.DataFrame) else frame(rows)
    folder = Path(output)
    return [atomic_write(folder / "results.csv", csv_text(df)),
            atomic_write(folder / "report.html", render_html(df, env))]


def summary_text(rows: Sequence[dict[str, Any]] | pd.DataFrame) -> str:
    """Status counts per adapter, then every pair that did not pass."""
    df = rows if isinstance(rows, pd.DataFrame) else frame(rows)
    if df.empty:
        return "no cases ran"
    counts = pd.crosstab(df["status"], df["adapter"], margins=True, margins_name="all")
    failing = df[df["passed"] == False]  # noqa: E712 - a pandas mask
    lines = [counts.to_string()]
    if not failing.empty:
        lines.append(f"\n{len(failing)} failing pair(s):")
        lines += [f"  {r.case_id}::{r.adapter}: {r.status} (expected {r.expected})"
                  + (f" on {r.mismatch_on}" if isinstance(r.mismatch_on, str) else "")
                  + (f": {r.error_type}: {r.error_message}" if isinstance(r.error_message, str) and r.status == "error" else "")
                  for r in failing.itertuples()]
    return "\n".join(lines)


def render_csvs(paths: Sequence[str], output: str) -> int:
    """`report`: HTML from one or more results CSVs (concatenated)."""
    from .html import render_html

    df = read_csvs(paths)
    env = {"rendered from": ", ".join(paths)}
    print("wrote", atomic_write(Path(output) / "report.html", render_html(df, env)))
    return 0


def merge_csvs(paths: Sequence[str], output: str) -> int:
    """`merge`: per-shard CSVs -> one results.csv and report.html; duplicates keep the last."""
    df = read_csvs(paths).drop_duplicates(subset=["case_id", "adapter"], keep="last")
    written = write_reports(df, output, {"merged from": ", ".join(paths)})
    print(summary_text(df))
    print("wrote", ", ".join(map(str, written)))
    return 0 if bool(df["passed"].fillna(True).all()) else 1
