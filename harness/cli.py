"""The command line: run, validate, list, report, diff, merge.

Exit codes (SPEC section 5): 0 all good, 1 some pair failed, 2 bad usage or case files.
`validate` and `list` import no framework; the other commands import what they need
only once they are chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import options, outfolder
from .cases import LoadResult, case_files, load_cases
from .keyword import keyword_test
from .problems import BadInput

DEFAULT_CASES = "cases"
DEFAULT_REPORTS = "reports"


def _load(paths: Sequence[str], keep: str | None = None) -> LoadResult:
    test = keyword_test(keep) if keep is not None else None  # a bad expression stops before any file is read
    if not paths and not Path(DEFAULT_CASES).is_dir():
        raise BadInput(f"no {DEFAULT_CASES}/ folder in {Path.cwd()}: name case files or folders "
                       "(python -m harness run path/to/cases), or run where a cases/ folder is")
    missing = [p for p in paths if not Path(p).exists() and not Path(p).is_symlink()]  # a looping link: its problem
    if missing:
        raise BadInput(f"no such file or folder: {', '.join(missing)}")
    result = load_cases(paths or [DEFAULT_CASES])
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if test is not None:
        result.cases = [c for c in result.cases if test(c.id)]
    return result


def _nothing_selected(result: LoadResult, paths: Sequence[str], keep: str | None = None) -> None:
    """An empty selection is bad input: a folder without case files, or a -k that keeps nothing."""
    if not result.cases and not result.problems:
        where = ", ".join(paths) or DEFAULT_CASES
        found = case_files(paths or [DEFAULT_CASES])
        raise BadInput(f"-k {keep!r} keeps no case of {where}" if keep and found else
                       f"no case in {where}" + ("" if found else " (no *.yaml or *.yml case file there)"))


def cmd_validate(args: argparse.Namespace) -> int:
    result = _load(args.paths)
    _nothing_selected(result, args.paths)
    if result.problems:
        print(f"{len(result.problems)} problem(s) in the case files", file=sys.stderr)
        return 2
    print(f"{len(result.cases)} cases OK")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    result = _load(args.paths, args.k)
    _nothing_selected(result, args.paths, args.k)
    print("\n".join(case.id for case in result.cases))
    return 2 if result.problems else 0


def _adapters_option(text: str | None) -> list[str] | None:
    from .adapters.registry import split_names

    return options.adapter_list(split_names(text), "-a/--adapters") or None


def cmd_run(args: argparse.Namespace) -> int:
    from .runloop import run_command

    options.environment_options()  # every option checked before anything is loaded, run or written
    timeout = options.duration(args.timeout, "--timeout")
    options.size(args.max_memory, "--max-memory")
    only = _adapters_option(args.adapters)
    result = _load(args.paths, args.k)
    if args.k and not result.cases:
        raise BadInput(f"-k {args.k!r} keeps no case; {args.output}/ left as it was")
    return run_command(result, args.output, only, argv=sys.argv, resume=args.resume,
                       timeout=timeout, max_memory=args.max_memory, repro=args.repro)


def _one_case(args: argparse.Namespace) -> Any:
    result = _load(args.paths)
    matches = [c for c in result.cases if c.id == args.case_id]
    if not matches:
        close = [c.id for c in result.cases if args.case_id in c.id][:5]
        raise BadInput(f"no case {args.case_id!r} in {', '.join(args.paths) or DEFAULT_CASES}"
                       + (f" (did you mean {', '.join(close)}?)" if close else ""))
    return matches[0]


def cmd_repro(args: argparse.Namespace) -> int:
    from . import memory
    from .cases import adapters_for
    from .repro import bundle_folder, write_bundle

    only = _adapters_option(args.adapters)
    limit = options.size(args.max_memory, "--max-memory") or memory.max_memory()
    case = _one_case(args)
    why = memory.too_large(case, limit)
    if why is not None:
        raise BadInput(f"{case.id}: no bundle written: {why}")
    for line in write_bundle(case, adapters_for(case, only), bundle_folder(Path(args.output), case)):
        print("wrote", line)
    return 0


def cmd_port(args: argparse.Namespace) -> int:
    from .adapters.errors import Unsupported
    from .adapters.registry import get_adapter
    from .script import port_program

    options.adapter_list([args.to], "--to")
    case = _one_case(args)
    try:
        print(port_program(case, get_adapter(args.to)), end="")
    except Unsupported as exc:
        raise BadInput(f"{case.id} cannot be written for {args.to}: {exc}") from None
    return 0


def cmd_fuzz(args: argparse.Namespace) -> int:
    from .fuzz import fuzz

    options.environment_options()
    seconds = options.duration(args.time, "--time")
    assert seconds is not None
    only = _adapters_option(args.adapters)
    with outfolder.locked(Path(args.output)):  # two fuzzers would write the same found-N files
        found = fuzz(seconds, args.seed, only, Path(args.output), [DEFAULT_CASES], Path(DEFAULT_REPORTS) / "repro",
                     Path(DEFAULT_REPORTS) / "results.csv")
    print(f"{len(found)} new kind(s) of divergence" + "".join(f"\n  {path}" for path in found))
    return 0


def cmd_adapters(args: argparse.Namespace) -> int:
    from .adapters.registry import adapter_names, get_adapter

    for name in adapter_names():
        adapter = get_adapter(name)
        state = "installed" if adapter.available() else "not installed (" + ", ".join(adapter.requires) + ")"
        print(f"{name:<20} {state}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import render_csvs

    with outfolder.locked(Path(args.output)):  # not into a folder a run is writing
        return render_csvs(args.csvs, args.output)


def cmd_merge(args: argparse.Namespace) -> int:
    from .report import merge_csvs

    with outfolder.locked(Path(args.output)):
        return merge_csvs(args.csvs, args.output, args.keep)


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff_command

    with outfolder.locked(Path(args.output)):
        return diff_command(args.old, args.new, args.output)


def cmd_differences(args: argparse.Namespace) -> int:
    from .differences import update_readme

    return update_readme(args.csv, args.readme)


def cmd_schema(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .atomic import atomic_write
    from .caseschema import json_schema

    print("wrote", atomic_write(Path(args.output), json.dumps(json_schema(), indent=2) + "\n"))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the cases and write results.csv and report.html")
    run.add_argument("paths", nargs="*", help=f"case files or folders (default {DEFAULT_CASES}/)")
    run.add_argument("-o", "--output", default=DEFAULT_REPORTS, help="report folder")
    run.add_argument("-a", "--adapters", help="comma-separated adapters, e.g. 'torch, keras' (see `adapters`)")
    run.add_argument("-k", help="keep the cases whose id matches: words (substrings) with and, or, not, "
                     "parentheses, as pytest's -k")
    run.add_argument("--repro", action="store_true", help="also write a repro bundle for every failing pair")
    run.add_argument("--resume", action="store_true",
                     help="keep the pairs an interrupted run (or results.csv) already has; run only the rest")
    run.add_argument("--timeout", default=None, metavar="SECONDS",
                     help="a pair running longer is an error (Timeout) and its worker is replaced "
                          "(default HARNESS_TIMEOUT or 300)")
    run.add_argument("--max-memory", default=None, metavar="SIZE",
                     help="refuse cases needing more (TooLarge), e.g. 4GiB (default HARNESS_MAX_MEMORY or half the RAM)")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="let framework log lines and warnings through (they go to the report's log otherwise)")
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check case files only (imports no framework)")
    validate.add_argument("paths", nargs="*")
    validate.set_defaults(func=cmd_validate)

    listing = sub.add_parser("list", help="print every expanded case id")
    listing.add_argument("paths", nargs="*")
    listing.add_argument("-k", help="keep the ids that match: words with and, or, not, parentheses (as pytest's -k)")
    listing.set_defaults(func=cmd_list)

    repro = sub.add_parser("repro", help="write a repro bundle for one case: case.yaml, data.npz, a script per adapter")
    repro.add_argument("case_id")
    repro.add_argument("paths", nargs="*", help=f"case files or folders (default {DEFAULT_CASES}/)")
    repro.add_argument("-a", "--adapters", help="comma-separated adapters (default: the case's)")
    repro.add_argument("-o", "--output", default=f"{DEFAULT_REPORTS}/repro", help="bundles go in OUTPUT/<case id>/")
    repro.add_argument("--max-memory", default=None, metavar="SIZE",
                       help="refuse a case needing more, as run does (default HARNESS_MAX_MEMORY or half the RAM)")
    repro.set_defaults(func=cmd_repro)

    port = sub.add_parser("port", help="print code that computes one case's reference result in a framework")
    port.add_argument("case_id")
    port.add_argument("paths", nargs="*", help=f"case files or folders (default {DEFAULT_CASES}/)")
    port.add_argument("--to", required=True, help="a registered adapter, e.g. torch, keras, jax")
    port.set_defaults(func=cmd_port)

    fuzzing = sub.add_parser("fuzz", help="find new kinds of divergence and write them as minimal case files")
    fuzzing.add_argument("--time", default="60", metavar="SECONDS", help="how long to search (default 60)")
    fuzzing.add_argument("--seed", type=int, default=0, help="the same seed finds the same cases")
    fuzzing.add_argument("-a", "--adapters", help="comma-separated adapters (default: all)")
    fuzzing.add_argument("-o", "--output", default=f"{DEFAULT_CASES}/found", help="where found cases go")
    fuzzing.set_defaults(func=cmd_fuzz)

    adapters = sub.add_parser("adapters", help="list the registered adapters (imports no framework)")
    adapters.set_defaults(func=cmd_adapters)

    report = sub.add_parser("report", help="render report.html from results CSVs")
    report.add_argument("csvs", nargs="+")
    report.add_argument("-o", "--output", default=DEFAULT_REPORTS)
    report.set_defaults(func=cmd_report)

    merge = sub.add_parser("merge", help="combine per-shard results CSVs into one report")
    merge.add_argument("csvs", nargs="+")
    merge.add_argument("--keep", choices=("first", "last"), default=None,
                       help="a pair that several CSVs hold: keep the first or the last one given (refused otherwise)")
    merge.add_argument("-o", "--output", default=DEFAULT_REPORTS)
    merge.set_defaults(func=cmd_merge)

    diff = sub.add_parser("diff", help="what changed between two results CSVs")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("-o", "--output", default=DEFAULT_REPORTS)
    diff.set_defaults(func=cmd_diff)
    differences = sub.add_parser("differences", help="regenerate the README's 'How the frameworks differ' table")
    differences.add_argument("csv", nargs="?", default=f"{DEFAULT_REPORTS}/results.csv")
    differences.add_argument("--readme", default="README.md")
    differences.set_defaults(func=cmd_differences)

    schema = sub.add_parser("schema", help="write the case-file JSON schema (for editors)")
    schema.add_argument("-o", "--output", default=f"{DEFAULT_CASES}/schema.json")
    schema.set_defaults(func=cmd_schema)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    from .quiet import prepare_environment

    args = parser().parse_args(argv)
    if getattr(args, "verbose", False):
        os.environ["HARNESS_VERBOSE"] = "1"
    prepare_environment()
    try:
        return int(args.func(args))
    except (BadInput, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while loading or writing: what was written stays whole
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
