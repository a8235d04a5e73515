"""`python -m harness run`: cases -> workers -> judged rows -> journal -> reports.

The parent loads cases, computes each case's reference and bound once (when its first
outcome arrives), judges, and writes every row to the journal as it finishes. Workers
(`workers.Executor`) run the frameworks, each in its own process, at the same time. Cases
that would need more than --max-memory are refused before anything is allocated; a case
whose data or reference cannot be made is that case's error. Ctrl-C or SIGTERM stops the
run cleanly: finished rows are kept (journal and a partial report) and `--resume` runs the rest.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import FrameType

from ..cases.loading import Case, LoadResult, adapters_for
from ..judge.verdict import RunNote
from ..results import journal
from ..results.outcome import Outcome
from ..results.rows import Row
from . import memory, outfolder
from .pair import availability
from .prepared import Prepared, refused
from .resume import earlier_rows
from .workers import Executor


def run_rows(cases: Iterable[Case], only: Sequence[str] | None, executor: Executor,
             done: frozenset[tuple[str, str]] = frozenset(), limit: int | None = None,
             prepared: Prepared | None = None, pads: bool = True) -> Iterator[Row]:
    """Rows of every (case, adapter) not in `done`, as they finish (`pads=False`: pads unmeasured)."""
    limit = memory.max_memory() if limit is None else limit
    prepared = Prepared() if prepared is None else prepared
    tasks = []
    for case in cases:
        names = [a for a in adapters_for(case, only) if (case.id, a) not in done]
        if not names:
            continue
        why = memory.too_large(case, limit)
        if why is not None:
            for name in names:
                too_large = Outcome(name, "error", error_type="TooLarge", error_message=why)
                for pass_ in case.passes:
                    yield refused(case, too_large, pass_)
            continue
        prepared.remaining[case.id] = prepared.remaining.get(case.id, 0) + len(names)
        for name in names:
            early = availability(name)
            if early is not None:
                yield from prepared.rows(case, early)
            else:
                tasks.append((case, name, None))
    for case, _, _, outcome in executor.run(tasks, pads):
        yield from prepared.rows(case, outcome)


def rows_probing_differences(cases: list[Case], adapters: list[str] | None, executor: Executor,
                             done: frozenset[tuple[str, str]]) -> dict[str, list[Row]]:
    """Each case's rows in `adapters` (None: all), but for the pairs `done`: first without the probe (for a route,
    SPEC 4's measured pads are a second conversion, and most pairs match), then again with it for the pairs that
    computed something else, whose diagnosis reads the pads (the fuzzer's look at a batch)."""
    rows: dict[str, list[Row]] = {case.id: [] for case in cases}
    for row in run_rows(cases, adapters, executor, done=done, prepared=Prepared(), pads=False):
        rows[row.case_id].append(row)
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


def write_repros(cases: list[Case], rows: list[Row], folder: Path, limit: int) -> None:
    """run --repro: a bundle for each case with a failing pair, with scripts for its failing adapters
    (none for a case over the memory limit: making its data is what the guard refused; none for an init
    row: its evidence is the draws' measurements in the row, not operands)."""
    from ..export.repro import bundle_folder, write_bundle

    failing: dict[str, list[str]] = {}
    for row in rows:
        if not row.passed and row.pass_ != "init" and row.adapter not in failing.setdefault(row.case_id, []):
            failing[row.case_id].append(row.adapter)
    for case in cases:
        if failing.get(case.id):
            why = memory.too_large(case, limit)
            if why is not None:
                print(f"repro: {case.id}: no bundle: {why}")
                continue
            for line in write_bundle(case, failing[case.id], bundle_folder(folder, case)):
                print("repro:", line)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_command(loaded: LoadResult, output: str, only: Sequence[str] | None, argv: Sequence[str],
                resume: bool = False, timeout: float | None = None, max_memory: str | None = None,
                repro: bool = False) -> int:
    """Rows -> journal -> results.csv and report.html, summary, exit code (130 when interrupted);
    the output folder is locked for the run (a second run into it: one line, exit 2)."""
    pairs = [(c.id, a, p) for c in loaded.cases for a in adapters_for(c, only) for p in c.passes]
    if not pairs:  # nothing to run never replaces an earlier report
        why = "the case files hold no valid case" if not loaded.cases else "no case has a selected adapter"
        print(f"error: no case selected ({why}); {output}/ left as it was", file=sys.stderr)
        return 2
    folder = Path(output)
    with outfolder.locked(folder):
        return _run_locked(loaded, folder, only, argv, pairs, resume, timeout, max_memory, repro)


def _run_locked(loaded: LoadResult, folder: Path, only: Sequence[str] | None, argv: Sequence[str],
                pairs: list[tuple[str, str, str]], resume: bool, timeout: float | None, max_memory: str | None,
                repro: bool) -> int:
    from tqdm import tqdm

    from ..report.write import summary_text, write_reports
    from ..results.environment import LOG_KEY, environment
    from .workers import timeout_seconds

    wanted = set(pairs)
    if resume:
        earlier = earlier_rows(folder, loaded.cases)
    else:
        earlier = {}
        (folder / journal.NAME).unlink(missing_ok=True)
    runs = {(c.id, a): c.passes for c in loaded.cases for a in adapters_for(c, only)}
    done = frozenset(k for k, ps in runs.items() if all((*k, p) in earlier for p in ps))  # every pass kept
    kept = {key: row for key, row in earlier.items() if key in wanted and key[:2] in done}
    log = journal.Journal(folder)
    for row in kept.values():
        log.add(row)
    rows: dict[tuple[str, str, str], Row] = dict(kept)
    executor = Executor(timeout=timeout_seconds(timeout))  # starts nothing yet; keeps what the workers told
    start, interrupted, prepared = time.perf_counter(), False, Prepared(timeout=executor.timeout)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        with executor:
            executor.start(dict.fromkeys(a for key in runs if key not in done and availability(a := key[1]) is None))
            bar = tqdm(total=len(pairs), initial=len(kept), desc="pairs", unit="pair", disable=None)
            limit = memory.max_memory(max_memory)
            for row in run_rows(loaded.cases, only, executor, done, limit, prepared):
                rows[row.key] = row
                log.add(row)
                bar.update()
            bar.close()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.close()
    ordered = [rows[key] for key in pairs if key in rows]
    env = {**environment(argv), **executor.environment,
           **{f"{name} start-up": f"{seconds:.1f} s (framework import and a first small call, in no pair's "
                                  "seconds or --timeout)" for name, seconds in executor.startup.items()},
           **{f"{name} second worker": f"{count} of its pairs (started when a core would idle with its queue long)"
              for name, count in executor.helped.items()}}
    if executor.logs:
        env[LOG_KEY] = "\n".join(executor.logs.values())
    note = RunNote(interrupted=interrupted, planned=len(pairs), dropped=[str(p) for p in loaded.problems])
    try:
        paths = write_reports(ordered, str(folder), env, note)
    except OSError as exc:  # a full disk, a folder made read-only meanwhile: the earlier reports stay as they were
        print(f"error: cannot write the reports in {folder}/ ({exc.strerror or exc}); the {len(ordered)} rows are in "
              f"{folder / journal.NAME} where it could be written: free the space and run again with --resume",
              file=sys.stderr)
        return 2
    print(summary_text(ordered, note))
    took = time.perf_counter() - start
    if interrupted:
        print(f"interrupted after {len(ordered)} of {len(pairs)} pairs ({took:.1f} s); they are in "
              f"{folder / journal.NAME} and {paths[0]}: run again with --resume to finish", file=sys.stderr)
        return 130
    log.remove()
    if repro:
        write_repros(loaded.cases, ordered, folder / "repro", memory.max_memory(max_memory))
    print(f"{len(loaded.cases)} cases, {len(ordered)} pairs in {took:.1f} s"
          + (f" ({len(kept)} kept from the earlier run)" if kept else "") + "; wrote "
          + ", ".join(str(p) for p in paths))
    if loaded.problems:
        return 2
    return 0 if all(row.passed for row in ordered) else 1


def one_row(case: Case, adapter: str, executor: Executor, prepared: Prepared) -> Row:
    """The forward row of one pair through a worker (see pair_rows)."""
    return pair_rows(case, adapter, executor, prepared)[0]


def pair_rows(case: Case, adapter: str, executor: Executor, prepared: Prepared) -> list[Row]:
    """The rows of one pair (forward, and backward for a grad case) through a worker: what pytest
    items run (`prepared` shared by the items of a case, so its reference is made once)."""
    return list(run_rows([case], [adapter], executor, prepared=prepared))

