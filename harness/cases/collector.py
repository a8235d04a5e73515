"""Where a case file's faults are collected: each once, with its line, in words a user can act on.

`Collector` gathers `Problem`s instead of raising, and turns pydantic's validation errors into
them (the field as the user spelt it, did-you-mean for a misspelt value, a missing field told
once even when a misspelt key was meant as it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ..model.expectation import Expectation
from ..problems import VALUE_CUTOFF, Problem, did_you_mean, shown, unknown_key
from .yamlsource import line_at


class Collector:
    """The problems of one file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []
        self.misspelt: set[tuple[str, str]] = set()  # (where, field a misspelt key was probably meant as)

    def problem(self, line: int, message: str) -> None:
        """Each problem once: a fault in a matrix case is the same fault in every combination."""
        problem = Problem(self.name, line, message)
        if problem not in self.problems:
            self.problems.append(problem)

    def report(self, exc: ValidationError, where_is: Callable[[tuple[Any, ...]], int], where: str, prefix: str = "",
               spelled: dict[str, str] | None = None) -> None:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
            parts = [str(p) for p in loc]
            if parts and spelled:
                parts[0] = spelled.get(parts[0], parts[0])
            name = ".".join(filter(None, [prefix, *parts])) or prefix
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                if not {(where, name), ("defaults", name)} & self.misspelt:  # the misspelt key said it already
                    self.problem(where_is(()), f"{where}: missing required field '{name}'")
            elif err["type"] == "extra_forbidden":
                allowed = tuple(Expectation.model_fields) if prefix.startswith("expect") else ("input", "weights", "rtol", "atol")
                self.problem(where_is(loc), f"{where}: {name.rsplit('.', 1)[0]}: " + unknown_key("key", parts[-1], allowed))
            else:
                got = err.get("input")
                plain = isinstance(got, (str, int, float, bool))
                extra = f" (got {shown(got)})" if plain and "got" not in msg and repr(got) not in msg else ""
                if isinstance(got, str) and err["type"] in ("literal_error", "enum") and "did you mean" not in msg:
                    extra += did_you_mean(got, re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", ""))),
                                          VALUE_CUTOFF)
                self.problem(where_is(loc), f"{where}: {name}: {msg}{extra}")


def line_in(value: Any, line: int, loc: tuple[Any, ...]) -> int:
    return line_at(value, loc, line)
