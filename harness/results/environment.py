"""The environment block of a report: versions, CPU, threads, precision switches.

Only frameworks that this process has already set up are asked, so rendering a report
imports nothing new.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from collections.abc import Sequence

import numpy as np

from ..adapters.registry import adapter_names, get_adapter
from ..quiet import log_text

LOG_KEY = "framework log"  # what frameworks printed or warned, kept off the terminal


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(argv: Sequence[str]) -> dict[str, str]:
    env = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m harness", *argv[1:]]) if argv and argv[0].endswith("__main__.py") else " ".join(argv),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu count": str(os.cpu_count()),
        "device": os.environ.get("HARNESS_DEVICE", "cpu"),
    }
    for name in adapter_names():
        env.update(framework_environment(name))
    log = log_text()
    if log:
        env[LOG_KEY] = log
    return env


def framework_environment(name: str) -> dict[str, str]:
    """Version and precision switches of one adapter, if this process has set it up."""
    adapter = get_adapter(name)
    if not adapter.ready:
        return {}
    return {name: adapter.version(), **adapter.precision_flags()}
