"""Case files -> validated, expanded `Case` objects (SPEC section 2).

The loader never stops at the first fault: every problem of a file is collected as a
`Problem` with its line, and a broken file never prevents the other files from loading.
Expansion order is the order written under `matrix:`, so ids are stable across runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..adapters.registry import adapter_names
from ..model.schema import Case
from ..problems import Problem
from .casefile import DocumentReader, format_value, stable_seed
from .yamlsource import MAX_BYTES, YamlProblem, load_yaml

__all__ = ["Case", "LoadResult", "adapters_for", "case_files", "format_value", "load_cases", "load_file",
           "stable_seed"]


@dataclass
class LoadResult:
    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def adapters_for(case: Case, only: Sequence[str] | None = None) -> list[str]:
    """The adapters a case runs in: its own list or all, narrowed by `-a`."""
    names = case.adapters or adapter_names()
    return [n for n in names if only is None or n in only]


def case_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every case file named or found (any depth) under the given paths, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the working folder; a symlink loop
        return str(path)


def load_cases(paths: Iterable[str | os.PathLike[str]]) -> LoadResult:
    """Load every file; duplicate ids across files are reported with both places."""
    result = LoadResult()
    seen: dict[str, Case] = {}
    for path in case_files(paths):
        cases, problems = load_file(path)
        result.problems += problems
        for case in cases:
            first = seen.setdefault(case.id, case)
            if first is case:
                result.cases.append(case)
            else:
                result.problems.append(Problem(case.file, case.line, (
                    f"id: duplicate case id '{case.id}' (first at {first.file}:{first.line})")))
    return result


def load_file(path: Path) -> tuple[list[Case], list[Problem]]:
    name = display_path(path)
    try:
        if path.is_symlink() and not path.exists() or path.exists() and not path.is_file():
            # a FIFO would block the read forever; a looping or broken link is no file either
            return [], [Problem(name, 1, "not a regular file (a pipe, a device, a broken or looping link): not read")]
        if path.stat().st_size > MAX_BYTES:
            return [], [Problem(name, 1, f"the file is larger than {MAX_BYTES // 2**20} MiB: not a case file")]
        text = path.read_text(encoding="utf-8")
        doc = load_yaml(text)
    except YamlProblem as exc:  # libyaml may point one past the last line at end of input
        return [], [Problem(name, max(1, min(exc.line, len(text.splitlines()))), exc.message)]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(name, 1, f"cannot read the file: {exc}")]
    try:
        cases, problems = DocumentReader(name).read(doc)
    except Exception as exc:  # a harness bug on a strange document: this file's problem, the others still load
        return [], [Problem(name, 1, f"could not read the cases ({type(exc).__name__}: {exc})")]
    return ([] if problems else cases), problems  # a broken file runs nothing, like a collection error


