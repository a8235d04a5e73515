"""The README's "How the frameworks differ" table, generated from a results CSV.

Every pair whose case records a divergence (an expectation with a `reason:`) is grouped
by adapter, status and reason; the table says what happens, how many cases show it and
one example. Invalid configurations that every framework refuses are no difference. The
table sits between two markers in README.md and is replaced in place, never edited by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..adapters.registry import adapter_names
from ..atomic import atomic_write
from ..results.csv_codec import read_csvs

START, END = "<!-- differences:start -->", "<!-- differences:end -->"


def _first_sentence(text: str, limit: int = 200) -> str:
    sentence = re.split(r"(?<=\.)\s(?=[A-Z])", " ".join(str(text).split()), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def divergence_groups(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (adapter, status, first sentence of the reason) among the recorded divergences,
    with the number of cases and an example, adapters in registry order, larger groups first."""
    columns = ["adapter", "status", "what", "cases", "example"]
    diverging = df[df["reason"].notna() & (df["reason"].astype(str) != "")].copy()
    if diverging.empty:
        return pd.DataFrame(columns=columns)
    diverging["what"] = diverging["reason"].map(_first_sentence)
    groups = (diverging.groupby(["adapter", "status", "what"], sort=False)
              .agg(cases=("case_id", "nunique"), example=("case_id", "first")).reset_index())
    order = {name: i for i, name in enumerate(adapter_names())}
    return groups.sort_values(["adapter", "cases"], key=lambda s: s.map(order) if s.name == "adapter" else -s)[columns]


def differences_table(df: pd.DataFrame) -> str:
    """Markdown for the README: the divergence groups, then where they come from."""
    groups = divergence_groups(df)
    if groups.empty:
        return "_No shipped case records a divergence: every framework matched the reference._"
    lines = ["| framework | status | what happens | cases | example |", "| --- | --- | --- | ---: | --- |"]
    lines += [f"| {g.adapter} | {g.status} | {g.what.replace('|', '/')} | {g.cases} | `{g.example}` |"
              for g in groups.itertuples()]
    total = df["case_id"].nunique()
    versions = ", ".join(sorted({v for v in df["framework_version"].dropna().unique() if isinstance(v, str)}))
    lines.append(f"\nFrom {total} cases; every other pair matched the float64 reference, or refused an invalid "
                 f"configuration as every framework should. Versions: {versions}.")
    return "\n".join(lines)


def update_readme(csv: str, readme: str) -> int:
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"error: {readme} has no {START} ... {END} markers")
        return 2
    table = differences_table(read_csvs([csv]))
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    atomic_write(path, f"{head}{START}\n{table}\n{END}{tail}")
    print(table)
    return 0
