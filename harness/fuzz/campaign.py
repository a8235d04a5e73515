"""`python -m harness fuzz`: search for silent wrong values and other kinds of divergence, and hand
them back as minimal case files, ranked by how badly they hurt users.

A thin layer over hypothesis. Each example is a handful of cases (strategy.py: every field, shape
coincidences imposed), run together in the workers so both cores stay busy (pads measured only for the
pairs that differ: run.loop.rows_probing_differences); a crash is a finding.
An example fails when one of its pairs shows a kind (kinds.py) that is reportable, not seen before
and not recorded by the case library, at the round's severity or worse: even rounds look only for
wrong values on non-empty tensors (severity 0), steered by `target()` on the largest
err_bound_ratio so the search climbs toward big errors; odd rounds take every severity in turn.
Hypothesis then shrinks the example, keeping that severity (a value bug stays a value bug) and asking
only the adapters that showed the kind (a step costs one framework, not fifteen), to one minimal case;
that case runs in every adapter and is written with the observed `expect:`, a `doc:` in words and a
reason to fill in, plus its repro bundle. The same seed finds the same cases on the same versions.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..atomic import atomic_write
from ..cases.loading import Case, adapters_for, load_cases
from ..model.schema import Conv
from ..results.rows import Row
from ..run.loop import rows_probing_differences, run_rows
from ..run.workers import Executor, timeout_seconds
from .kinds import Kind, covered, covering, describe, kind_of, pinned, recorded, recorded_in, reportable, severity
from .strategy import case_fields, make_case, mutations
from .summary import Found, Search

EXAMPLES_PER_ROUND = 40
CASES_PER_EXAMPLE = 4  # run together: one worker round trip for several cases
PAIR_TIMEOUT = 20.0  # fuzzed cases are tiny: a pair running longer is a hang, and a finding (Timeout)
CASES_PER_ROUND = 600  # generation and shrinking together; past it (or the deadline) unseen cases are skipped


def round_severity(number: int) -> int:
    """The worst severity a round looks for: wrong values every other round, then each in turn."""
    return 0 if number % 2 == 0 else 1 + (number // 2) % 4


def recorded_kinds(paths: Sequence[str], results: Path | None, executor: Executor,
                   adapters: list[str] | None) -> dict[Kind, str]:
    """The kinds of divergence the case library already records, each with the first case that records it
    ("file: id"): from a results CSV of it when there is one (reports/results.csv), else by running its
    cases that record a divergence (`expect:`)."""
    if results is not None and results.is_file():
        kinds = recorded(results)
    else:
        kinds = recorded_in(run_rows([case for case in load_cases(paths).cases if case.expect], adapters, executor))
    return {kind: case for kind, (_, case) in kinds.items()}


class NewKind(Exception):
    """An example showing a kind of divergence not seen before: hypothesis shrinks it."""


@dataclass
class Campaign:
    adapters: list[str] | None
    output: Path
    bundles: Path
    recorded: dict[Kind, str]  # the library's kinds, each with the case that records it
    executor: Executor
    deadline: float
    known: set[Kind] = field(default_factory=set)
    tried: int = 0
    cases_this_round: int = 0
    level: int = 0  # the worst severity this round raises for
    seen: dict[str, tuple[Case, list[Row]]] = field(default_factory=dict)  # a case's fields -> its run
    found: list[Found] = field(default_factory=list)
    last: tuple[Case, list[Row]] | None = None
    focus: list[str] | None = None  # while shrinking: the adapters whose new kind is being shrunk
    met: dict[str, tuple[int, str, int]] = field(default_factory=dict)  # a recorded case met -> severity, what, pairs

    def new(self, rows: list[Row]) -> list[Row]:
        """The rows of kinds worth reporting at this round's severity, not seen or recorded before, worst first;
        not the gradients of a forward pass that already computes something else or refuses (its consequence)."""
        wrong = {(row.case_id, row.adapter) for row in rows
                 if row.pass_ == "forward" and row.status in ("mismatch", "error")}
        fresh = [row for row in rows if reportable(row) and severity(row) <= self.level
                 and not (row.pass_ == "backward" and (row.case_id, row.adapter) in wrong)
                 and not covered(kind_of(row), self.known) and not covered(kind_of(row), self.recorded)]
        return sorted(fresh, key=lambda row: (severity(row), -(row.err_bound_ratio or 0)))

    def run(self, batch: list[dict[str, Any]]) -> None:
        """Run the cases of a batch not run before, together (the workers interleave their pairs); while
        shrinking, in the adapters of the find only (`focus`)."""
        todo = {}
        for fields in batch:
            key = json.dumps(fields, sort_keys=True)
            if key not in self.seen:
                if self.cases_this_round >= CASES_PER_ROUND or time.monotonic() > self.deadline:
                    continue
                self.cases_this_round += 1
                self.tried += 1
                self.seen[key] = (make_case(fields), [])
            if self.missing(key):
                todo[key] = self.seen[key][0]
        if todo:
            done = frozenset((case.id, row.adapter) for key, case in todo.items() for row in self.seen[key][1])
            rows = rows_probing_differences(list(todo.values()), self.focus or self.adapters, self.executor, done)
            for key, case in todo.items():
                self.seen[key][1].extend(rows[case.id])
                self.note_recorded(rows[case.id])

    def note_recorded(self, rows: list[Row]) -> None:
        """Tally the pairs that show a divergence the library records: not new, but named in the summary (the
        search met it again, and the library case explains it)."""
        for row in rows:
            if reportable(row) and not covered(kind_of(row), self.known):
                kind = covering(kind_of(row), self.recorded)
                if kind is not None:
                    grade, what, count = self.met.get(self.recorded[kind], (severity(row), describe(row), 0))
                    self.met[self.recorded[kind]] = (grade, what, count + 1)

    def missing(self, key: str) -> bool:
        """Whether a case has not run yet in an adapter this step needs (all, or the focus while shrinking)."""
        case, rows = self.seen[key]
        ran = {row.adapter for row in rows}
        return not rows or not set(adapters_for(case, self.focus or self.adapters)) <= ran

    def complete(self, case: Case) -> list[Row]:
        """A case's rows in every adapter (a shrunk case ran in the find's adapters only)."""
        self.focus = None
        key = next(k for k, (seen, _) in self.seen.items() if seen is case)
        self.run([json.loads(key)])
        return self.seen[key][1]

    def check(self, batch: list[dict[str, Any]]) -> None:
        """Raise NewKind when a case of the batch shows a new kind at this round's severity. Runs are
        remembered, so a replay answers the same; once the round's budget is spent, unseen cases
        count as not failing, which ends shrinking early with the smallest failing case so far."""
        self.run(batch)
        runs = [self.seen[k] for k in (json.dumps(f, sort_keys=True) for f in batch) if k in self.seen]
        ratios = [row.err_bound_ratio for _, rows in runs for row in rows
                  if severity(row) == 0 and row.err_bound_ratio is not None and math.isfinite(row.err_bound_ratio)]
        target(math.log10(max(ratios, default=1.0)), label="log10 of the largest err_bound_ratio of a value bug")
        for case, rows in runs:
            new = self.new(rows)
            if new:  # from here on (shrinking) only as severe a failure counts: a value bug stays a value bug
                self.level = min(self.level, severity(new[0]))
                if self.focus is None:  # shrinking asks only the adapters that showed it
                    self.focus = sorted({row.adapter for row in new if severity(row) <= self.level})
                self.last = (case, rows)
                raise NewKind(case.id)

    def record(self, case: Case, rows: list[Row]) -> Found:
        """The shrunk case as a case file whose expect: records every divergent pair, plus its repro bundle."""
        from ..export.repro import bundle_folder, write_bundle

        new = self.new(rows)
        worst = new[0]
        name = f"found-{len(self.found) + 1}-{worst.adapter}-{worst.status}"
        rules = []
        for row in rows:
            if row.passed:
                continue
            entry: dict[str, Any] = {"status": row.status}
            if case.grad:  # without `pass:` an entry covers both passes
                entry["pass"] = row.pass_
            if row.status == "error":
                entry["error_type"] = row.error_type
                message = pinned(row.error_message) if row.error_type not in ("Timeout", "Crashed") else None
                if message:
                    entry["message"] = message
            entry["reason"] = f"TODO: explain and name the upstream issue. Found by the fuzzer: {describe(row)}"
            rules.append({row.adapter: entry})
        fields = case.model_dump(mode="json", include=set(Conv.model_fields), exclude={"adapters", "tolerance", "id"},
                                 exclude_defaults=True)
        document = {"cases": [{"id": name, "doc": f"found by python -m harness fuzz: {describe(worst)}", **fields,
                               "seed": case.seed, **({"adapters": self.adapters} if self.adapters else {}),
                               "expect": rules}]}
        path = atomic_write(self.output / f"{name}.yaml", yaml.safe_dump(document, sort_keys=False, width=100))
        bundle_case = case.model_copy(update={"id": name})
        adapters = list(dict.fromkeys(r.adapter for r in rows if not r.passed))
        try:  # beside the reports, not in the case folder: a bundle's case.yaml would be collected twice
            write_bundle(bundle_case, adapters, bundle_folder(self.bundles, bundle_case))
        except Exception as exc:  # the case file is written; a bundle that cannot be made must not end the campaign
            print(f"no repro bundle for {name}: {type(exc).__name__}: {exc}")
        self.known |= {kind_of(row) for row in rows if reportable(row)}
        found = Found.of(path, worst)
        self.found.append(found)
        return found


def fuzz(seconds: float, seed: int, adapters: list[str] | None, output: Path, library: Sequence[str],
         bundles: Path, results: Path | None = None, allow_empty: bool = False,
         bases: tuple[dict[str, Any], ...] = ()) -> Search:
    """Run the campaign (over neighbours of `bases` when given: `fuzz --from`); say what it wrote, worst
    first (kept when interrupted), and what it met."""
    cases = mutations(bases) if bases else case_fields(allow_empty)
    from tqdm import tqdm

    with Executor(timeout=min(timeout_seconds(), PAIR_TIMEOUT)) as executor, \
            tqdm(desc="fuzz", unit=" cases", disable=None) as bar:
        recorded = recorded_kinds([p for p in library if Path(p).exists()], results, executor, adapters)
        started, spent_before = time.monotonic(), dict(executor.spent)  # the library's run is not the search's time
        campaign = Campaign(adapters, output, bundles, recorded, executor, started + seconds)
        number = 0
        try:
            while time.monotonic() < campaign.deadline:
                before, campaign.cases_this_round, campaign.level = campaign.tried, 0, round_severity(number)
                campaign.focus = None

                @hypothesis_seed(seed * 100_003 + number)
                @settings(max_examples=EXAMPLES_PER_ROUND, deadline=None, database=None, print_blob=False,
                          report_multiple_bugs=False, phases=[Phase.generate, Phase.target, Phase.shrink],
                          suppress_health_check=list(HealthCheck))
                @given(st.lists(cases, min_size=1, max_size=CASES_PER_EXAMPLE))
                def round_(batch: list[dict[str, Any]]) -> None:
                    campaign.check(batch)
                    bar.update(campaign.tried - bar.n)
                    bar.set_postfix(found=len(campaign.found))

                try:
                    round_()
                except* NewKind:  # alone, or in hypothesis' FlakyFailure: a severity met while shrinking raised
                    # the bar, and the smaller example that failed below it no longer fails when replayed
                    assert campaign.last is not None
                    shrunk = campaign.last[0]  # the last failing call: the smallest example at the round's bar
                    rows = campaign.complete(shrunk)  # its expect: records every adapter
                    if campaign.new(rows):
                        campaign.record(shrunk, rows)
                    bar.set_postfix(found=len(campaign.found))
                number += 1
                if campaign.tried == before and campaign.level == 4:  # nothing left to try at any severity
                    break
                print(f"round {number}: {campaign.tried} cases tried, {len(campaign.found)} found",
                      flush=True) if bar.disable else None
        except KeyboardInterrupt:
            pass  # every kind found so far is already written
        spent = {name: total - spent_before.get(name, (0.0, 0))[0] for name, (total, _) in executor.spent.items()}
    pairs = sum(len(rows) for _, rows in campaign.seen.values())
    return Search(sorted(campaign.found, key=Found.rank), campaign.met, campaign.tried, pairs,
                  time.monotonic() - started, spent)
