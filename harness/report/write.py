"""Rows -> results.csv and report.html, written together atomically; CSVs -> one report again;
the run's summary on the terminal (the CSV codec is results_csv.py)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_write, atomic_write_all
from ..judge.verdict import FAIL, RunNote, verdict_lines, verdicts
from ..problems import BadInput
from ..results.csv_codec import csv_text, frame, read_csvs
from ..results.rows import Row


def write_reports(rows: Sequence[Row] | pd.DataFrame, output: str | os.PathLike[str],
                  env: dict[str, str], note: RunNote | None = None) -> list[Path]:
    from .html import render_html

    df = rows if isinstance(rows, pd.DataFrame) else frame(rows)
    folder = Path(output)
    return atomic_write_all({folder / "results.csv": csv_text(df), folder / "report.html": render_html(df, env, note)})


def summary_text(rows: Sequence[Row] | pd.DataFrame, note: RunNote | None = None) -> str:
    """The verdict line first (an interrupted or partial run says so before it), then status counts
    per adapter, then every pair that failed, its pass named."""
    df = rows if isinstance(rows, pd.DataFrame) else frame(rows)
    if df.empty:
        return "\n".join([*verdict_lines(df, note)[:-2], "no pairs ran"])
    lines = [*verdict_lines(df, note), ""]
    lines.append(pd.crosstab(df["status"], df["adapter"], margins=True, margins_name="all").to_string())
    failing = df[verdicts(df) == FAIL]
    if not failing.empty:
        lines.append(f"\n{len(failing)} failing pair(s):")
        lines += [f"  {failing_text(r)}" for r in failing.astype(object).where(failing.notna(), None).to_dict("records")]
        lines.append(f"{len(failing)} failing")
    return "\n".join(lines)


def failing_text(r: dict[str, Any]) -> str:
    """One failing pair in one line: `case::adapter[::backward|::init]: status (expected ...) on ... : error`."""
    return (f"{r['case_id']}::{r['adapter']}{'::' + r['pass'] if r.get('pass') in ('backward', 'init') else ''}: "
            f"{r['status']} (expected {r['expected']})"
            + (f" on {r['mismatch_on']}" if r.get("mismatch_on") else "")
            + (f": {r['error_type']}: {r['error_message']}" if r.get("error_message") and r["status"] == "error"
               else ""))


def render_csvs(paths: Sequence[str], output: str) -> int:
    """`report`: HTML from one or more results CSVs (concatenated)."""
    from .html import render_html

    df = read_csvs(paths)
    env = {"rendered from": ", ".join(paths)}
    print("wrote", atomic_write(Path(output) / "report.html", render_html(df, env)))
    return 0


def merge_csvs(paths: Sequence[str], output: str, keep: str | None = None) -> int:
    """`merge`: per-shard CSVs -> one results.csv and report.html. A pair that several CSVs (or one CSV
    twice) hold is refused unless `keep` says which wins: `first` or `last` in the order given."""
    frames = [read_csvs([path]).assign(_source=path) for path in paths]
    df = pd.concat(frames, ignore_index=True)
    key = ["case_id", "adapter", "pass"]
    repeated = df[df.duplicated(subset=key, keep=False)]
    if not repeated.empty and keep is None:
        first = repeated.iloc[0]
        sources = ", ".join(dict.fromkeys(repeated.loc[(repeated[key] == first[key]).all(axis=1), "_source"]))
        pairs = len(repeated.drop_duplicates(subset=key))
        raise BadInput(f"{pairs} pair(s) appear more than once (e.g. {first['case_id']}::{first['adapter']}::"
                       f"{first['pass']} in {sources}); say which wins with --keep first or --keep last")
    df = df.drop_duplicates(subset=key, keep=keep or "last").drop(columns="_source")
    written = write_reports(df, output, {"merged from": ", ".join(paths)})
    print(summary_text(df))
    print("wrote", ", ".join(map(str, written)))
    return 0 if bool(df["passed"].fillna(True).all()) else 1
