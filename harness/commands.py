"""What each command of the command line does (cli.py parses): each imports what it needs when chosen."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cases.keyword import keyword_test
from .cases.loading import LoadResult, case_files, load_cases
from .problems import BadInput, did_you_mean
from .run import options, outfolder

DEFAULT_CASES = "cases"
DEFAULT_REPORTS = "reports"
LIBRARY_RESULTS = f"{DEFAULT_REPORTS}/results.csv"  # what the README's first command writes


def shipped(relative: str) -> Path:
    """A path of the case library: here, else in the checkout the harness was installed from, so that
    `fuzz` and `model` run from any folder know what the library already records."""
    here = Path(relative)
    there = Path(__file__).resolve().parents[1] / relative
    return here if here.exists() or not there.exists() else there


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


def cmd_model(args: argparse.Namespace) -> int:
    from .intake.command import model_command

    options.environment_options()
    timeout = options.duration(args.timeout, "--timeout")
    options.size(args.max_memory, "--max-memory")
    return model_command(args.source, args.input_shape or [], args.output, _adapters_option(args.adapters),
                         args.write_cases, args.inputs, sys.argv, timeout, args.max_memory, args.repro,
                         shipped(LIBRARY_RESULTS), args.resume)


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
    from .run.loop import run_command

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
    from .cases.loading import adapters_for
    from .export.repro import bundle_folder, write_bundle
    from .run import memory

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
    from .adapters.defaults import RULES
    from .adapters.errors import Unsupported
    from .adapters.registry import get_adapter
    from .export.script import port_program

    options.adapter_list([args.to], "--to")
    if args.init_from not in RULES:
        raise BadInput(f"--init-from: expected one of {', '.join(RULES)}, got {args.init_from!r}"
                       + did_you_mean(args.init_from, tuple(RULES)))
    case = _one_case(args)
    try:
        print(port_program(case, get_adapter(args.to), args.init_from), end="")
    except Unsupported as exc:
        raise BadInput(f"{case.id} cannot be written for {args.to}: {exc}") from None
    return 0


def cmd_fuzz(args: argparse.Namespace) -> int:
    from .fuzz.campaign import fuzz
    from .fuzz.strategy import base_fields

    options.environment_options()
    seconds = options.duration(args.time, "--time")
    assert seconds is not None
    only = _adapters_option(args.adapters)
    bases: tuple[dict[str, object], ...] = ()
    if args.start is not None:  # fuzz --from: neighbours of these cases
        result = _load(args.start)
        _nothing_selected(result, args.start)
        if result.problems:
            return 2
        bases = tuple(base_fields(case) for case in result.cases)
    with outfolder.locked(Path(args.output)):  # two fuzzers would write the same found-N files
        search = fuzz(seconds, args.seed, only, Path(args.output), [str(shipped(DEFAULT_CASES))],
                      Path(DEFAULT_REPORTS) / "repro", shipped(LIBRARY_RESULTS), allow_empty=args.allow_empty,
                      bases=bases)
    print(search)
    return 0


def cmd_adapters(args: argparse.Namespace) -> int:
    from .adapters.registry import adapter_names, get_adapter

    for name in adapter_names():
        adapter = get_adapter(name)
        state = "installed" if adapter.available() else "not installed (" + ", ".join(adapter.requires) + ")"
        print(f"{name:<20} {state}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report.write import render_csvs

    with outfolder.locked(Path(args.output)):  # not into a folder a run is writing
        return render_csvs(args.csvs, args.output)


def cmd_merge(args: argparse.Namespace) -> int:
    from .report.write import merge_csvs

    with outfolder.locked(Path(args.output)):
        return merge_csvs(args.csvs, args.output, args.keep)


def cmd_diff(args: argparse.Namespace) -> int:
    from .report.changes import diff_command

    with outfolder.locked(Path(args.output)):
        return diff_command(args.old, args.new, args.output)


def cmd_differences(args: argparse.Namespace) -> int:
    from .report.readme_table import update_readme

    return update_readme(args.csv, args.readme)


def cmd_schema(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .atomic import atomic_write
    from .cases.json_schema import json_schema

    print("wrote", atomic_write(Path(args.output), json.dumps(json_schema(), indent=2) + "\n"))
    return 0
