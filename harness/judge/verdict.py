"""The three verdicts of a pair, and the summary line that answers the user's question first.

A pair *fails* when it differs from what its case expects. A pair that passes either *agrees*
with the reference (it matched, or refused an invalid configuration as every framework should),
*differs* as its case records (an `expect:` with a reason), or is *not applicable*: the adapter
declared, before any framework call, that its framework cannot express the case (`unsupported`,
with its reason). A framework that is not installed is *skipped*. A leaf module (pandas only):
the comparison names each row's verdict, the terminal summary and the report count them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

FAIL, AGREE, DIFFER, NOT_APPLICABLE, SKIPPED = "fail", "agree", "differ", "not applicable", "skipped"
VERDICTS: tuple[str, ...] = (FAIL, AGREE, DIFFER, NOT_APPLICABLE, SKIPPED)


def verdict_of(passed: bool, status: str, invalid: bool) -> str:
    """The verdict of one judged pair; `invalid`: the configuration has no reference output."""
    if not passed:
        return FAIL
    if status == "skipped":
        return SKIPPED
    if status == "unsupported":
        return NOT_APPLICABLE
    if status == "match" or (status == "error" and invalid):
        return AGREE
    return DIFFER


def verdicts(df: pd.DataFrame) -> pd.Series:
    """Each row's verdict: its `verdict` cell, or for a CSV written before the column existed, the
    verdict its other cells imply (a row without a reference shape counts as an invalid case)."""
    stored = df["verdict"] if "verdict" in df else pd.Series([None] * len(df), index=df.index, dtype=object)
    passed = df["passed"].astype("boolean").fillna(False).astype(bool)
    derived = [verdict_of(p, str(s), not isinstance(r, str) or not r)
               for p, s, r in zip(passed, df["status"], df.get("ref_shape", pd.Series([None] * len(df))))]
    return stored.where(stored.notna() & stored.isin(VERDICTS), pd.Series(derived, index=df.index, dtype=object))


@dataclass
class RunNote:
    """What the rows alone cannot say: the run stopped early, or case files or cases were dropped."""

    interrupted: bool = False
    planned: int | None = None  # pairs the run meant to judge
    dropped: list[str] = field(default_factory=list)  # `file:line: problem` of files or cases that did not run


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def verdict_lines(df: pd.DataFrame, note: RunNote | None = None) -> list[str]:
    """The summary's first lines: an interrupted or partial run says so first, then
    `N failing; the frameworks agree on A of B pairs, differ on C (recorded), D not applicable`,
    then what B counts (forward, backward and init pairs by name, cases, adapters)."""
    note = note or RunNote()
    lines: list[str] = []
    if note.interrupted:
        planned = f" of {note.planned}" if note.planned is not None else ""
        lines.append(f"INTERRUPTED: {len(df)}{planned} pairs ran; the verdict below covers those only "
                     "(run again with --resume to finish)")
    if note.dropped:
        places = [problem.split(": ", 1)[0] for problem in note.dropped]
        shown = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
        lines.append(f"PARTIAL: {_plural(len(places), 'problem')} in the case files kept cases from running "
                     f"({shown}); the verdict below covers the rest")
    counts = verdicts(df).value_counts().to_dict()
    line = (f"{counts.get(FAIL, 0)} failing; the frameworks agree on {counts.get(AGREE, 0)} of {len(df)} pairs, "
            f"differ on {counts.get(DIFFER, 0)} (recorded), {counts.get(NOT_APPLICABLE, 0)} not applicable")
    if counts.get(SKIPPED):
        line += f", {counts[SKIPPED]} skipped (not installed)"
    lines.append(line)
    passes = df["pass"].fillna("forward").value_counts().to_dict() if "pass" in df else {"forward": len(df)}
    init = f" + {passes['init']} init" if passes.get("init") else ""
    lines.append(f"{len(df)} pairs = {passes.get('forward', 0)} forward + {passes.get('backward', 0)} backward{init}, "
                 f"from {_plural(df['case_id'].nunique(), 'case')} and {_plural(df['adapter'].nunique(), 'adapter')}")
    return lines
