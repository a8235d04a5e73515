"""How the fuzzer runs a batch of cases: a first look without the probe, a second with it where pairs differ.

For a route the probe (SPEC 4's measured pads) is a second conversion, and most pairs match; a pair that
computed something else runs again with it, because its diagnosis reads the pads.
"""

from __future__ import annotations

from ..cases.loading import Case
from ..results.rows import Row
from ..run.loop import run_rows
from ..run.prepared import Prepared
from ..run.workers import Executor


def looked_at(cases: list[Case], adapters: list[str] | None, executor: Executor,
              done: frozenset[tuple[str, str]]) -> dict[str, list[Row]]:
    """Each case's rows in `adapters` (None: all), but for the pairs `done`."""
    rows: dict[str, list[Row]] = {case.id: [] for case in cases}
    executor.pads = False
    try:
        for row in run_rows(cases, adapters, executor, done=done, prepared=Prepared()):
            rows[row.case_id].append(row)
    finally:
        executor.pads = True
    again = {(row.case_id, row.adapter) for found in rows.values() for row in found
             if row.status == "mismatch" and not row.passed}
    if again:
        every = {(row.case_id, row.adapter) for found in rows.values() for row in found}
        measured = list(run_rows(cases, adapters, executor, done=done | (every - again), prepared=Prepared()))
        for case_id in rows:
            rows[case_id] = [row for row in rows[case_id] if (case_id, row.adapter) not in again]
        for row in measured:
            rows[row.case_id].append(row)
    return rows
