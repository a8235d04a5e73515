"""`run --resume`: the rows an earlier run left (its results.csv, then its journal) that still hold.

A row is kept only while its case computes what it computed then (`judge.fingerprint`: the
same fields, seed, dtype, precision, tolerance); a case edited since runs again. A kept row is
judged again against the case's `expect:` as it is now, so a removed or added expectation counts.
Lines or files that are not rows are skipped and counted, never a crash.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..judge.judge import fingerprint, rejudged
from ..model.schema import Case
from ..problems import BadInput
from ..results import journal
from ..results.rows import Row

Key = tuple[str, str, str]


def csv_rows(path: Path) -> list[Row]:
    from ..results.csv_codec import read_csvs

    if not path.is_file():
        return []
    try:
        df = read_csvs([path])
    except (BadInput, ValueError, OSError) as exc:
        print(f"warning: --resume: {path} is not a results file ({exc}); not used", file=sys.stderr)
        return []
    rows = [Row.from_record(r) for r in df.astype(object).where(df.notna(), None).to_dict("records")]
    return [row for row in rows if journal.valid(row)]


def earlier_rows(folder: Path, cases: list[Case]) -> dict[Key, Row]:
    """Rows of an earlier run in `folder` that still hold for these cases, re-judged."""
    by_id = {case.id: case for case in cases}
    found: dict[Key, Row] = {row.key: row for row in csv_rows(folder / "results.csv")}
    from_journal, skipped = journal.read(folder)
    found.update({row.key: row for row in from_journal})
    if skipped:
        print(f"warning: --resume: {skipped} line(s) of {folder / journal.NAME} are not rows; skipped",
              file=sys.stderr)
    kept: dict[Key, Row] = {}
    stale = 0
    for key, row in found.items():
        case = by_id.get(row.case_id)
        if case is None:
            continue
        if row.case_hash != fingerprint(case):
            stale += 1
            continue
        kept[key] = rejudged(row, case)
    if stale:
        print(f"--resume: {stale} earlier row(s) are of cases changed since; they run again", file=sys.stderr)
    return kept
