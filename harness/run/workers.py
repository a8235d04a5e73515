"""Each adapter in its own worker process: crashes and hangs cost one pair, frameworks run at once.

One long-lived `multiprocessing.Process` per adapter, fed cases through a `Pipe` (the worker
regenerates the operands from the case and its seed) and answering with the `Outcome`; the
parent waits on every pipe and every process sentinel at once with
`multiprocessing.connection.wait`, so it sees a result, a death (segfault, abort, killed for
memory: the pair becomes `Crashed` with the signal) or an overrun (`Timeout`) as each happens,
replaces that one worker and goes on. `concurrent.futures.ProcessPoolExecutor` is the wrong
tool here: one dead worker breaks the whole pool (`BrokenProcessPool`) and fails every
pending pair of every framework.
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
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..adapters.registry import adapter_names, get_adapter
from ..cases.loading import Case
from ..results.outcome import Outcome
from .serve import PARENT_ENDS, Ready, Telemetry, serve

DEFAULT_TIMEOUT = 300.0
STARTUP_TIMEOUT = 600.0  # a worker's framework import and first call; pairs are timed apart from it

def timeout_seconds(value: float | None = None) -> float:
    """--timeout, else HARNESS_TIMEOUT, else 300 s."""
    if value is not None:
        return value
    return float(os.environ.get("HARNESS_TIMEOUT") or DEFAULT_TIMEOUT)


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


@dataclass
class _Worker:
    name: str
    process: Any
    conn: multiprocessing.connection.Connection
    task: tuple[Case, Any] | None = None
    deadline: float = 0.0
    started: float = field(default_factory=time.monotonic)
    startup: float | None = None  # seconds to Ready; None until it came

    @classmethod
    def start(cls, name: str) -> _Worker:
        context = _context()
        parent, child = context.Pipe()
        process = context.Process(target=serve, args=(name, child), name=f"harness-{name}", daemon=True)
        process.start()
        child.close()
        PARENT_ENDS.add(parent)
        return cls(name, process, parent)

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


@dataclass
class Executor:
    """Workers by adapter name, started on first use and kept for the run."""

    timeout: float = field(default_factory=timeout_seconds)
    workers: dict[str, _Worker] = field(default_factory=dict)
    startup: dict[str, float] = field(default_factory=dict)  # each adapter's start-up seconds, first worker
    environment: dict[str, str] = field(default_factory=dict)  # what the workers said of their frameworks
    logs: dict[str, str] = field(default_factory=dict)  # what each adapter's framework printed or warned

    def start(self, names: Iterable[str]) -> None:
        """Start these workers now, so their framework imports overlap whatever the caller does next."""
        for name in names:
            if name not in self.workers:
                self.workers[name] = _Worker.start(name)

    def run(self, tasks: Iterable[tuple[Case, str, Any]]) -> Iterator[tuple[Case, str, Any, Outcome]]:
        """Outcomes of (case, adapter, tag) tasks as they finish; each adapter runs its own in order."""
        pending: dict[str, deque[tuple[Case, Any]]] = {}
        for case, name, tag in tasks:
            pending.setdefault(name, deque()).append((case, tag))
        busy: dict[str, _Worker] = {}
        while pending or busy:
            for name in list(pending):
                if name not in busy:
                    case, tag = pending[name].popleft()
                    if not pending[name]:
                        del pending[name]
                    busy[name] = self._send(name, case, tag)
            yield from self._collect(busy)

    def _send(self, name: str, case: Case, tag: Any) -> _Worker:
        worker = self.workers.get(name)
        if worker is None or not worker.process.is_alive():
            worker = self.workers[name] = _Worker.start(name)
        worker.task = (case, tag)
        worker.deadline = time.monotonic() + self.timeout if worker.startup is not None else \
            worker.started + STARTUP_TIMEOUT
        worker.conn.send(case)
        return worker

    def _collect(self, busy: dict[str, _Worker]) -> Iterator[tuple[Case, str, Any, Outcome]]:
        by_handle: dict[Any, _Worker] = {}
        for worker in busy.values():
            by_handle[worker.conn] = by_handle[worker.process.sentinel] = worker
        wait = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
        ready = multiprocessing.connection.wait(list(by_handle), timeout=wait)
        done: set[str] = set()
        for handle in ready:
            worker = by_handle[handle]
            if worker.name in done:
                continue
            assert worker.task is not None
            case, tag = worker.task
            outcome = self._receive(worker) if handle is worker.conn else None
            if isinstance(outcome, Ready):  # the pair's time starts now
                worker.startup = outcome.seconds
                self.startup.setdefault(worker.name, outcome.seconds)
                worker.deadline = time.monotonic() + self.timeout
                continue
            if isinstance(outcome, Telemetry):  # the outcome follows on the same pipe
                self.environment.update(outcome.environment or {})
                if outcome.log:
                    self.logs[outcome.adapter] = outcome.log
                continue
            if outcome is None:
                outcome = self._died(worker)
            done.add(worker.name)
            yield case, worker.name, tag, outcome
        now = time.monotonic()
        for worker in busy.values():
            if worker.name not in done and worker.deadline <= now:
                assert worker.task is not None
                case, tag = worker.task
                worker.stop(kill=True)
                del self.workers[worker.name]
                done.add(worker.name)
                message = f"no result after {self.timeout:g} s (--timeout, HARNESS_TIMEOUT)" if worker.startup \
                    is not None else f"the {worker.name} worker did not start in {STARTUP_TIMEOUT:g} s (its framework " \
                                     "import or first call hung)"
                yield case, worker.name, tag, Outcome(
                    worker.name, "error", error_type="Timeout",
                    error_message=f"{message}; the worker was stopped and replaced")
        for name in done:
            busy[name].task = None
            del busy[name]

    def _receive(self, worker: _Worker) -> Outcome | Ready | Telemetry | None:
        try:
            message: Outcome | Ready | Telemetry = worker.conn.recv()
            return message
        except (EOFError, OSError):
            return None  # the pipe closed: the worker died while answering

    def _died(self, worker: _Worker) -> Outcome:
        worker.process.join(5)
        code = worker.process.exitcode
        worker.stop(kill=True)
        self.workers.pop(worker.name, None)
        if code is not None and code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with code {code}"
        return Outcome(worker.name, "error", error_type="Crashed",
                       error_message=f"the {worker.name} worker process {how} while running this pair; "
                                     "it was replaced and the run went on")

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.workers.clear()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
