"""What is wrong with a case file, said as `path:line: message`."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass


class BadInput(Exception):
    """Input a command cannot use (a missing folder, a file that is not a results CSV): the
    command line prints the message as one line and exits 2, never a traceback."""


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class _Shown(reprlib.Repr):
    """A value as a message shows it: short however large or deep it is (an alias bomb, a huge list)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxlist, self.maxdict, self.maxstring, self.maxother = 2, 5, 5, 60, 60

    def repr_LineList(self, value: list[object], level: int) -> str:  # yamlsource's list with lines
        return self.repr_list(value, level)

    def repr_LineDict(self, value: dict[object, object], level: int) -> str:
        return self.repr_dict(value, level)


def shown(value: object) -> str:
    """repr() of a value written in a case file, cut to a readable length."""
    return _Shown().repr(value)


def closest(value: object, allowed: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The allowed spelling closest to a misspelt one, if any is close."""
    close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(value: object, allowed: Iterable[str], cutoff: float = 0.6) -> str:
    """' (did you mean 'x'?)' when a close spelling exists, else ''."""
    close = closest(value, allowed, cutoff)
    return f" (did you mean '{close}'?)" if close else ""


def unknown_key(kind: str, key: object, allowed: Iterable[str]) -> str:
    """'unknown key' message with a did-you-mean hint when a close spelling exists."""
    return f"unknown {kind} '{key}'{did_you_mean(key, allowed)}"


VALUE_CUTOFF = 0.85  # for a value only a typo's distance (sam, eror, float33): 'deconv' is not 'conv'

