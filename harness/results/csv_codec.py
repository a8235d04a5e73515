"""The results CSV codec: rows <-> results.csv, typed, safe in a spreadsheet, read back exactly.

results.csv carries the columns of `rows.Row` in order: the documented contract first, then
a few extra columns (the worst element and a coarse map of where values differ) so that
`report` and `merge` can draw the same HTML from CSVs alone, e.g. from several machines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..problems import BadInput
from .rows import BOOLEAN_COLUMNS, COLUMNS, INTEGER_COLUMNS, STRING_COLUMNS, Row


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
        df = pd.read_csv(path, dtype={c: str for c in (*BOOLEAN_COLUMNS, *STRING_COLUMNS)}, keep_default_na=False,
                         na_values=[""])  # a case id 007 stays 007, not 7
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
