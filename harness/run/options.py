"""Every option and environment variable a command reads, checked before any work starts.

A bad value is one `error:` line naming the option (or variable) and what it accepts, exit 2,
and nothing is loaded, run or written. Imports no framework: the adapter registry is read from
entry points only.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable

from ..problems import BadInput

DURATION_HINT = "a number of seconds greater than 0, e.g. 300"


def duration(text: str | float | None, name: str) -> float | None:
    """A finite number of seconds > 0, or BadInput naming the option; None stays None."""
    if text is None:
        return None
    try:
        value = float(str(text).strip().lower().removesuffix("s"))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise BadInput(f"{name}: expected {DURATION_HINT}, got {str(text)!r}")
    return value


def size(text: str | None, name: str) -> int | None:
    """A memory size > 0 such as 4GiB, 512MB or 2e9 (bytes), or BadInput naming the option."""
    from .memory import parse_size

    if text is None:
        return None
    try:
        value = parse_size(str(text))
    except (ValueError, OverflowError):
        value = 0
    if value <= 0:
        raise BadInput(f"{name}: expected a memory size greater than 0 such as 4GiB, 512MB or 2e9 (bytes), "
                       f"got {str(text)!r}")
    return value


def adapter_list(names: Iterable[str], name: str) -> list[str]:
    """Registered adapter names, or BadInput with a did-you-mean for each unknown one."""
    from ..adapters.registry import adapter_names, get_adapter

    known = adapter_names()
    names = list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        hints = []
        for n in unknown:
            close = difflib.get_close_matches(n, known, n=1, cutoff=0.5) or [
                a for a in known if n.lower() in get_adapter(a).requires][:1]  # a framework's name: its adapter
            hints.append(f"'{n}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise BadInput(f"{name}: unknown adapter {', '.join(hints)}; registered: {', '.join(known)}")
    return names


def environment_options() -> None:
    """HARNESS_TIMEOUT, HARNESS_MAX_MEMORY, HARNESS_FRAMEWORKS and HARNESS_DEVICE, when set, are valid
    (the device: its spelling, and for cuda an NVIDIA GPU on this machine; once, not once per pair)."""
    from ..adapters.device import check_device
    from ..adapters.registry import split_names

    try:
        check_device()
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    env = os.environ
    if env.get("HARNESS_TIMEOUT", "").strip():
        duration(env["HARNESS_TIMEOUT"], "HARNESS_TIMEOUT")
    if env.get("HARNESS_MAX_MEMORY", "").strip():
        size(env["HARNESS_MAX_MEMORY"], "HARNESS_MAX_MEMORY")
    adapter_list(split_names(env.get("HARNESS_FRAMEWORKS")), "HARNESS_FRAMEWORKS")
