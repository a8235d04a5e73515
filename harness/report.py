"""Rows -> results.csv and report.html, written atomically; CSVs -> one report again.

results.csv carries the columns of `rows.Row` in order: the documented contract first, then
a few extra columns (the worst element and a coarse map of where values differ) so that
`report` and `merge` can draw the same HTML from CSVs alone, e.g. from several machines.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .problems import BadInput
from .rows import BOOLEAN_COLUMNS, COLUMNS, INTEGER_COLUMNS, STRING_COLUMNS, Row
from .verdict import FAIL, RunNote, verdict_lines, verdicts


def atomic_write(path: Path, text: str) -> Path:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    return atomic_write_all({path: text})[0]


def atomic_write_all(files: dict[Path, str]) -> list[Path]:
    """Every file written to a temporary beside it first, then all renamed: a full disk or an
    interrupt while writing leaves the earlier files as they were, never a new results.csv
    beside an old report.html."""
    umask = os.umask(0)
    os.umask(umask)
    temps: dict[Path, str] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temps[path] = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.chmod(temps[path], 0o666 & ~umask)  # mkstemp makes 0600; a report is meant to be shared
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        for path, tmp in temps.items():
            os.replace(tmp, path)
    except BaseException:
        for tmp in temps.values():
            Path(tmp).unlink(missing_ok=True)
        raise
    return list(files)


def frame(rows: Sequence[Row]) -> pd.DataFrame:
    """Rows as a DataFrame with every column, in order."""
    return typed(pd.DataFrame([row.record() for row in rows], columns=list(COLUMNS)))


def typed(df: pd.DataFrame) -> pd.DataFrame:
    """Integer columns stay integers when some cells are empty (pads of an error row)."""
    for column in INTEGER_COLUMNS:
        df[column] = pd.to_numeric(df[column]).astype("Int64")
    return df


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets run as a formula (OWASP CSV injection)
QUOTE = "'"


def neutralised(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading `'` (so does one that starts with `'`,
    so that `restored` gives back exactly the original); numbers and other cells stay as they are."""
    if isinstance(value, str) and value.startswith((*FORMULA_START, QUOTE)):
        return QUOTE + value
    return value


def restored(value: Any) -> Any:
    return value[1:] if isinstance(value, str) and value.startswith(QUOTE) else value


def safe_csv(df: pd.DataFrame, columns: Sequence[str]) -> str:
    """CSV text with the text `columns` neutralised against formula injection."""
    out = df.copy()
    for column in columns:
        if column in out:
            out[column] = out[column].astype(object).map(neutralised)
    return str(out.to_csv(index=False))


def csv_text(df: pd.DataFrame) -> str:
    out = df.copy()
    for column in BOOLEAN_COLUMNS:
        out[column] = out[column].map({True: "true", False: "false"}).astype("object")
    return safe_csv(out, STRING_COLUMNS)


REQUIRED = ("case_id", "adapter", "status", "expected", "passed")


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """One results CSV, or BadInput saying why the file is not one."""
    try:
        df = pd.read_csv(path, dtype={c: str for c in BOOLEAN_COLUMNS}, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"{path}: not a results CSV ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise BadInput(f"{path}: not a results CSV of python -m harness run (no column {', '.join(missing)})")
    for column in STRING_COLUMNS:
        if column in df:
            df[column] = df[column].map(restored)
    for column in BOOLEAN_COLUMNS:  # a spreadsheet re-saves true as TRUE: read any case, refuse anything else
        if column in df:
            df[column] = _booleans(df[column], path, column, required=column in REQUIRED)
    return df


def _booleans(cells: pd.Series, path: str | os.PathLike[str], column: str, required: bool) -> pd.Series:
    words = cells.astype(object).map(lambda v: v.strip().lower() if isinstance(v, str) else None)
    bad = words.notna() & ~words.isin(("true", "false")) | (words.isna() if required else False)
    if bool(bad.any()):
        line = int(bad.to_numpy().argmax()) + 2  # the header is line 1
        raise BadInput(f"{path}:{line}: column {column}: expected true or false, got {cells[bad].iloc[0]!r}")
    return words.map({"true": True, "false": False})


def read_csvs(paths: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    frames = [read_csv(p) for p in paths]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    for column in COLUMNS:
        if column not in df:
            df[column] = None
    df["pass"] = df["pass"].fillna("forward")  # CSVs from before gradients have forward rows only
    return typed(df[list(COLUMNS)].copy())


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
    """One failing pair in one line: `case::adapter[::backward]: status (expected ...) on ... : error`."""
    return (f"{r['case_id']}::{r['adapter']}{'::backward' if r.get('pass') == 'backward' else ''}: "
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
