"""A deadline for the harness's own float64 work in the parent (reference, gradients, diagnosis).

The frameworks run in workers that can be killed at --timeout; the reference runs in the parent,
so it checks the clock itself, once per kernel tap (each tap is one BLAS call over a batch
chunk, so an overrun is seen within one call) and raises `Overrun`, which makes the case's rows
a `Timeout` instead of holding the run for minutes.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator

_until = math.inf
_seconds = math.inf


class Overrun(Exception):
    """The harness's own computation ran past --timeout."""


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Let the enclosed computation run for at most `seconds` (nested: the inner one holds inside)."""
    global _until, _seconds
    saved = _until, _seconds
    _until, _seconds = time.monotonic() + seconds, seconds
    try:
        yield
    finally:
        _until, _seconds = saved


def check() -> None:
    if time.monotonic() > _until:
        raise Overrun(f"the harness's float64 computation ran past --timeout {_seconds:g} s")
