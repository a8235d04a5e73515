"""`python -m harness fuzz`: find new kinds of divergence and hand them back as minimal case files.

A thin layer over hypothesis: a strategy draws cases over every field (ops, ranks, dtypes,
layouts, paddings and modes, groups, strides, dilations, output_padding, sizes including 0 and
kernels larger than the input, grad), each case runs in the workers (so a crash is a finding),
and the test raises when a pair shows a kind of divergence (adapter, pass, status, mismatch_on,
error type, diagnosis) not seen before and not recorded in the case library. Hypothesis then
shrinks that case to a minimal one (smaller sizes, fewer channels, the simplest padding: the
strategies list the simplest choice first). Each kind found is written as a case file with the
observed `expect:` and a reason to fill in, and its repro bundle; then the campaign goes on with
the next seed until the time is up. The same seed finds the same cases on the same versions.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .atomic import atomic_write
from .cases.loading import Case, load_cases, stable_seed
from .model.schema import Conv
from .results.rows import Row
from .run.loop import run_rows
from .run.prepared import Prepared
from .run.workers import Executor, timeout_seconds

Kind = tuple[str, str, str, str, str, str]  # adapter, pass, status, mismatch_on, error type, diagnosis
EXAMPLES_PER_ROUND = 40
PAIR_TIMEOUT = 20.0  # fuzzed cases are tiny: a pair running longer is a hang, and a finding (Timeout)
CALLS_PER_ROUND = 300  # generation and shrinking together; past it (or the deadline) unseen cases are skipped


@st.composite
def case_fields(draw: Any) -> dict[str, Any]:
    """One case's fields; every choice lists its simplest value first, so shrinking heads there."""
    op = draw(st.sampled_from(["conv", "conv_transpose", "convolve"]))
    rank = draw(st.sampled_from([2, 1, 3]))
    top = 10 if rank < 3 else 6
    groups = draw(st.sampled_from([1, 2]))
    fields: dict[str, Any] = {
        "op": op, "batch": draw(st.integers(0, 2)), "groups": groups,
        "in_channels": groups * draw(st.integers(0, 4 // groups)),
        "out_channels": groups * draw(st.integers(0, 4 // groups)),
        "input_size": [draw(st.integers(0, top)) for _ in range(rank)],
        "kernel_size": [draw(st.integers(0, 5)) for _ in range(rank)],
        "stride": [draw(st.integers(0, 3)) for _ in range(rank)],
        "dilation": [draw(st.integers(0, 2)) for _ in range(rank)],
        "bias": draw(st.booleans()),
        "dtype": draw(st.sampled_from(["float32", "float64", "float16", "bfloat16"])),
        "layout": draw(st.sampled_from(["channels_last", "channels_first"])),
        "grad": draw(st.booleans()),
    }
    fields["stride"] = [s or 1 for s in fields["stride"]] if draw(st.booleans()) else fields["stride"]
    words = ["valid", "same", "same_lower"] + (["full", "causal"] if op != "conv_transpose" else [])
    explicit = st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=rank, max_size=rank)
    fields["padding"] = draw(st.one_of(st.sampled_from(words), explicit))
    if op == "conv_transpose":
        fields["output_padding"] = [draw(st.integers(0, max(0, s - 1))) for s in fields["stride"]]
    else:
        fields["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    return fields


def make_case(fields: dict[str, Any]) -> Case:
    """The case of these fields; its seed depends on the fields alone, so a replay is the same case."""
    key = json.dumps(fields, sort_keys=True)
    conv = Conv.model_validate({"id": f"fuzz-{stable_seed(key):x}", **fields})
    return Case.model_construct(**{**dict(conv), "seed": stable_seed(key)}, file="fuzz", line=0, values={}, expect={})


def kind_of(row: Row) -> Kind:
    return (row.adapter, row.pass_, row.status, row.mismatch_on or "", row.error_type or "", row.diagnosis or "")


def recorded_kinds(paths: Sequence[str], results: Path | None, executor: Executor,
                   adapters: list[str] | None) -> set[Kind]:
    """The kinds of divergence the case library already records: from a results CSV of it when there
    is one (reports/results.csv), else by running its cases that record a divergence (`expect:`)."""
    if results is not None and results.exists():
        from .results.csv_codec import read_csvs

        df = read_csvs([results])
        df = df[(df["status"] != "match") & df["reason"].notna()].astype(object).where(df.notna(), None)
        return {kind_of(Row.from_record(r)) for r in df.to_dict("records")}
    recording = [case for case in load_cases(paths).cases if case.expect]
    return {kind_of(row) for row in run_rows(recording, adapters, executor) if row.reason and row.status != "match"}


class NewKind(Exception):
    """A case showing a kind of divergence not seen before: hypothesis shrinks it."""


@dataclass
class Campaign:
    adapters: list[str] | None
    output: Path
    bundles: Path
    recorded: set[Kind]
    executor: Executor
    deadline: float
    known: set[Kind] = field(default_factory=set)
    tried: int = 0
    calls: int = 0  # in this round
    seen: dict[str, tuple[Case, list[Row]] | None] = field(default_factory=dict)  # fields -> failing run, or None
    found: list[Path] = field(default_factory=list)
    last: tuple[Case, list[Row]] | None = None

    def new_kinds(self, rows: list[Row]) -> list[Kind]:
        kinds = []
        for row in rows:
            kind = kind_of(row)
            if not row.passed and kind not in self.known and kind not in self.recorded:
                kinds.append(kind)
        return kinds

    def check(self, fields: dict[str, Any]) -> None:
        """Raise NewKind when this case shows a new kind. Results are remembered, so a replay answers
        the same; once the round's budget is spent, unseen cases count as not failing, which ends
        shrinking early with the smallest failing case so far (never a flaky answer)."""
        key = json.dumps(fields, sort_keys=True)
        if key not in self.seen:
            self.calls += 1
            if self.calls > CALLS_PER_ROUND or time.monotonic() > self.deadline:
                return
            self.tried += 1
            case = make_case(fields)
            rows = list(run_rows([case], self.adapters, self.executor, prepared=Prepared()))
            self.seen[key] = (case, rows) if self.new_kinds(rows) else None
        failing = self.seen[key]
        if failing is not None and self.new_kinds(failing[1]):
            self.last = failing
            raise NewKind(failing[0].id)

    def record(self, case: Case, rows: list[Row]) -> Path:
        """The shrunk case as a case file whose expect: records every divergent pair, plus its repro bundle."""
        from .export.repro import bundle_folder, write_bundle

        number = len(self.found) + 1
        new = self.new_kinds(rows)
        name = f"found-{number}-{new[0][0]}-{new[0][2]}" if new else f"found-{number}"
        expect: dict[str, Any] = {}
        rules = []
        for row in rows:
            if row.passed:
                continue
            entry: dict[str, Any] = {"status": row.status}
            if case.grad:  # without `pass:` an entry covers both passes
                entry["pass"] = row.pass_
            if row.status == "error":
                entry["error_type"] = row.error_type
                if row.error_message and row.error_type not in ("Timeout", "Crashed"):  # the harness's own words
                    entry["message"] = re.escape(row.error_message[:60])
            entry["reason"] = (f"TODO: explain and name the upstream issue. Found by the fuzzer: {row.status}"
                               + (f" on {row.mismatch_on}" if row.mismatch_on else "")
                               + (f", diagnosis {row.diagnosis}" if row.diagnosis else "")
                               + (f", {row.error_type or row.status}: {row.error_message[:200]}"
                                  if row.error_message else ""))
            rules.append({row.adapter: entry})
        fields = case.model_dump(mode="json", include=set(Conv.model_fields), exclude={"adapters", "tolerance", "id"},
                                 exclude_defaults=True)
        document = {"cases": [{"id": name, "doc": f"found by python -m harness fuzz: {', '.join(map(str, new[:3]))}",
                               **fields, "seed": case.seed, **({"adapters": self.adapters} if self.adapters else {}),
                               "expect": rules or expect}]}
        path = atomic_write(self.output / f"{name}.yaml", yaml.safe_dump(document, sort_keys=False))
        bundle_case = case.model_copy(update={"id": name})
        adapters = list(dict.fromkeys(r.adapter for r in rows if not r.passed))
        try:  # beside the reports, not in the case folder: a bundle's case.yaml would be collected twice
            write_bundle(bundle_case, adapters, bundle_folder(self.bundles, bundle_case))
        except Exception as exc:  # the case file is written; a bundle that cannot be made must not end the campaign
            print(f"no repro bundle for {name}: {type(exc).__name__}: {exc}")
        for row in rows:
            self.known.add(kind_of(row))
        self.found.append(path)
        return path


def fuzz(seconds: float, seed: int, adapters: list[str] | None, output: Path, library: Sequence[str],
         bundles: Path, results: Path | None = None) -> list[Path]:
    """Run the campaign; return the case files written (kept when interrupted)."""
    from tqdm import tqdm

    with Executor(timeout=min(timeout_seconds(), PAIR_TIMEOUT)) as executor, \
            tqdm(desc="fuzz", unit=" cases", disable=None) as bar:
        recorded = recorded_kinds([p for p in library if Path(p).exists()], results, executor, adapters)
        campaign = Campaign(adapters, output, bundles, recorded, executor, time.monotonic() + seconds)
        round_number = 0
        try:
            while time.monotonic() < campaign.deadline:
                before, campaign.calls = campaign.tried, 0

                @hypothesis_seed(seed * 100_003 + round_number)
                @settings(max_examples=EXAMPLES_PER_ROUND, deadline=None, database=None, print_blob=False,
                          report_multiple_bugs=False, phases=[Phase.generate, Phase.shrink],
                          suppress_health_check=list(HealthCheck))
                @given(case_fields())
                def round_(fields: dict[str, Any]) -> None:
                    campaign.check(fields)
                    bar.update(campaign.tried - bar.n)
                    bar.set_postfix(kinds=len(campaign.found))

                try:
                    round_()
                except NewKind:
                    assert campaign.last is not None
                    campaign.record(*campaign.last)  # the last failing call is hypothesis's shrunk example
                round_number += 1
                if campaign.tried == before:
                    break
                print(f"round {round_number}: {campaign.tried} cases tried, {len(campaign.found)} kinds found",
                      flush=True) if bar.disable else None
        except KeyboardInterrupt:
            pass  # every kind found so far is already written
    return campaign.found
