"""A worker process, both sides: the parent's handle (`Worker`: started clean, fed one case at a time,
stopped) and the worker's loop (`serve`: die with the parent, set the framework up once, answer every case).

Workers of one framework family are forked from that family's server (families.py), which imported the
framework once.

A worker closes the parent's pipe ends it inherited and asks Linux to kill it when the parent
dies, ignores Ctrl-C (the parent decides when a run stops), reports `Ready` after a warm-up case
(so pairs are timed from there), then runs each case it is sent through `pair.run_adapter`.
`Executor` (workers.py) decides which worker runs what.
"""

from __future__ import annotations

import functools
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..adapters.registry import adapter_names, get_adapter
from ..cases.loading import Case
from ..results.outcome import Outcome
from . import families

# The parent's ends of the live workers' pipes. A forked worker inherits copies of all of them,
# its own pipe's included, and must close them: while any copy is open, no worker sees end-of-file
# when the parent dies (`kill -9`), and each would wait on its pipe forever.
PARENT_ENDS: set[multiprocessing.connection.Connection] = set()
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Close the inherited parent ends, and ask Linux for SIGKILL when the parent dies
    (`prctl(PR_SET_PDEATHSIG)`), so no worker outlives the run or the pytest-xdist worker that
    started it; where the parent is already gone, leave now."""
    for end in list(PARENT_ENDS):
        end.close()
    PARENT_ENDS.clear()
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # orphaned before the request took effect
            os._exit(0)


def serve(name: str, conn: multiprocessing.connection.Connection) -> None:
    """The worker: set its framework up once, then run every case it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the run stops
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: a TERM ends a worker quietly
    die_with_parent()
    from ..quiet import prepare_environment

    prepare_environment()
    try:
        conn.send(Ready(warm_up(name)))
        converse(name, conn)
    except (EOFError, BrokenPipeError, ConnectionResetError):  # the parent is gone (killed): end quietly
        return


def converse(name: str, conn: multiprocessing.connection.Connection) -> None:
    """Run each (case, measure pads) the parent sends, until it sends None or hangs up."""
    from ..model.data import make_tensors
    from ..quiet import log_text
    from ..results.environment import framework_environment
    from .pair import run_adapter

    told, logged = False, ""
    while True:
        task = conn.recv()
        if task is None:
            return
        case, pads = task
        try:
            outcome = run_adapter(name, case, make_tensors(case, case.seed), pads)
        except Exception as exc:  # regenerating the operands failed: the pair says so
            outcome = Outcome(name, "error", error_type=type(exc).__name__, error_message=f"in the worker: {exc}")
        environment = None if told else framework_environment(name)
        told = told or bool(environment)
        log = log_text()
        if environment or log != logged:  # news of the framework first, then the pair's outcome
            conn.send(Telemetry(name, environment or None, log if log != logged else None))
            logged = log
        conn.send(outcome)


@dataclass(frozen=True)
class Telemetry:
    """What a worker says of its framework, apart from any pair: its versions and precision switches
    (once, after its first pair), and what it printed or warned so far (when that changed)."""

    adapter: str
    environment: dict[str, str] | None = None
    log: str | None = None


@dataclass(frozen=True)
class Ready:
    """A worker's first message: its framework is imported and has run one small case; pairs are
    timed (and their --timeout counted) from here, start-up is reported apart."""

    seconds: float


WARM_UP = {"id": "warm-up", "in_channels": 1, "input_size": [4, 4], "out_channels": 1, "kernel_size": 2}


def warm_up(name: str) -> float:
    """Import the framework and run one tiny case (first-call costs: backend start, a first compile);
    whatever goes wrong here, the pairs say it again."""
    from ..model.data import make_tensors
    from .pair import run_adapter

    start = time.perf_counter()
    try:
        case = Case.model_validate({**WARM_UP, "seed": 0})
        run_adapter(name, case, make_tensors(case, 0))
    except Exception:
        pass
    return round(time.perf_counter() - start, 3)


@functools.cache
def _framework_modules() -> frozenset[str]:
    """What the registered adapters import (their `requires`): the registry, not a list kept here."""
    return frozenset(module for name in adapter_names() for module in get_adapter(name).requires)


def _context() -> Any:
    """fork when this process is clean (one thread, no framework imported: the command line), which
    starts a worker in milliseconds; else forkserver, a clean server process that forks the workers,
    because forking a process that runs JAX's or TensorFlow's threads (a pytest process) can deadlock."""
    if sys.platform != "linux":
        return multiprocessing.get_context("spawn")
    if threading.active_count() == 1 and not any(m in sys.modules for m in _framework_modules()):
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["harness.run.pair"])
    return context


def _started(name: str, child: multiprocessing.connection.Connection) -> Any:
    """The worker's process, started: forked from its family's server where it has one (families.py), else
    from `_context()`."""
    arguments: dict[str, Any] = {"target": serve, "args": (name, child), "name": f"harness-{name}", "daemon": True}
    process = families.started(name, arguments)
    if process is None:
        process = _context().Process(**arguments)
        process.start()
    return process


@dataclass(eq=False)
class Worker:
    name: str
    process: Any
    conn: multiprocessing.connection.Connection
    helper: bool = False  # a second worker for an adapter with a long queue left (Executor.run)
    task: tuple[Case, Any] | None = None
    deadline: float = 0.0
    sent: float = 0.0
    started: float = field(default_factory=time.monotonic)
    startup: float | None = None  # seconds to Ready; None until it came

    @classmethod
    def start(cls, name: str, helper: bool = False) -> Worker:
        parent, child = multiprocessing.Pipe()
        process = _started(name, child)
        child.close()
        PARENT_ENDS.add(parent)
        return cls(name, process, parent, helper)

    def stop(self, kill: bool = False) -> None:
        try:
            if not kill and self.process.is_alive():
                self.conn.send(None)
        except OSError:
            pass
        self.process.join(0 if kill else 2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        PARENT_ENDS.discard(self.conn)
        self.conn.close()
