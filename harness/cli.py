"""The command line: run, validate, list, repro, port, fuzz, report, merge, diff and the rest.

Exit codes (SPEC section 5): 0 all good, 1 some pair failed, 2 bad usage or case files.
`validate` and `list` import no framework; the other commands (commands.py) import what they
need only once they are chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .commands import (
    DEFAULT_CASES,
    DEFAULT_REPORTS,
    cmd_adapters,
    cmd_diff,
    cmd_differences,
    cmd_fuzz,
    cmd_list,
    cmd_merge,
    cmd_model,
    cmd_port,
    cmd_report,
    cmd_repro,
    cmd_run,
    cmd_schema,
    cmd_validate,
)
from .problems import BadInput


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

    model = sub.add_parser("model", help="every convolution of a torch, Keras or ONNX model as a case with its real "
                           "weights, run layer by layer (docs/models.md)")
    model.add_argument("source", help="a model file (.onnx, .keras, .h5, .pt2), or package.module:factory (or file.py:factory) "
                                      "returning a torch.nn.Module or a Keras model")
    model.add_argument("--input-shape", action="append", metavar="N,C,H,W",
                       help="a model input's full shape in the model's own layout, once per input (a torch module "
                            "needs it; Keras and ONNX only where a size is not fixed)")
    model.add_argument("-o", "--output", default=f"{DEFAULT_REPORTS}/model", help="report folder")
    model.add_argument("-a", "--adapters", help="comma-separated adapters (default: all)")
    model.add_argument("--write-cases", metavar="FILE.yaml",
                       help="write the cases here (their .npz beside it) to keep them; default OUTPUT/<model>.yaml")
    model.add_argument("--inputs", metavar="FILE.npz",
                       help="captured activations: an array per layer, keyed by the layer's name in the model, in "
                            "the model's layout; the other layers' inputs are drawn from their seed")
    model.add_argument("--resume", action="store_true",
                       help="keep the pairs an interrupted model run already has (same layers, same weights)")
    model.add_argument("--timeout", default=None, metavar="SECONDS", help="as run's")
    model.add_argument("--max-memory", default=None, metavar="SIZE", help="as run's")
    model.add_argument("--repro", action="store_true", help="also write a repro bundle for every failing pair")
    model.add_argument("-v", "--verbose", action="store_true", help="as run's")
    model.set_defaults(func=cmd_model)

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
    port.add_argument("--init-from", default="torch", metavar="FRAMEWORK",
                      help="end with initialisers that give the layer this framework's defaults: torch (default), "
                           "keras, flax or equinox")
    port.set_defaults(func=cmd_port)

    fuzzing = sub.add_parser("fuzz", help="find new kinds of divergence and write them as minimal case files")
    fuzzing.add_argument("--time", default="60", metavar="SECONDS", help="how long to search (default 60)")
    fuzzing.add_argument("--seed", type=int, default=0, help="the same seed finds the same cases")
    fuzzing.add_argument("-a", "--adapters", help="comma-separated adapters (default: all)")
    fuzzing.add_argument("-o", "--output", default=f"{DEFAULT_CASES}/found", help="where found cases go")
    fuzzing.add_argument("--from", dest="start", nargs="+", metavar="PATH",
                         help="search the neighbours of these cases (files or folders): a few fields changed")
    fuzzing.add_argument("--allow-empty", action="store_true",
                         help="draw sizes from 0, not 1 (empty tensors: refusals more than wrong values)")
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
