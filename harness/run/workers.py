"""Each adapter in its own worker process: crashes and hangs cost one pair, frameworks run at once.

One long-lived `multiprocessing.Process` per adapter (serve.py), fed cases through a `Pipe` (the worker
regenerates the operands from the case and its seed) and answering with the `Outcome`; the
parent waits on every pipe and every process sentinel at once with
`multiprocessing.connection.wait`, so it sees a result, a death (segfault, abort, killed for
memory: the pair becomes `Crashed` with the signal) or an overrun (`Timeout`) as each happens,
replaces that one worker and goes on. `concurrent.futures.ProcessPoolExecutor` is the wrong
tool here: one dead worker breaks the whole pool (`BrokenProcessPool`) and fails every
pending pair of every framework. Where a core would idle while one adapter's queue is long (a route's
conversions, on a machine with more cores than busy workers), a second worker of that adapter shares it.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..cases.loading import Case
from ..results.outcome import Outcome
from .families import FamilyProcess, server_gone, start_order
from .serve import Ready, Telemetry, Worker

DEFAULT_TIMEOUT = 300.0
LOST_STATUS = 255  # the exit code a forkserver's Popen gives a worker whose server died before reporting it
STARTUP_TIMEOUT = 600.0  # a worker's framework import and first call; pairs are timed apart from it
HELP_AFTER = 3.0  # a helper worker starts when its adapter's queue would take this many times a start-up


def timeout_seconds(value: float | None = None) -> float:
    """--timeout, else HARNESS_TIMEOUT, else 300 s."""
    if value is not None:
        return value
    return float(os.environ.get("HARNESS_TIMEOUT") or DEFAULT_TIMEOUT)


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as a CI runner's or a container's cgroup sets it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class Executor:
    """Workers by adapter name, started on first use and kept for the run; a helper beside an adapter's
    worker when a core would idle while its queue is long."""

    timeout: float = field(default_factory=timeout_seconds)
    help_after: float = HELP_AFTER  # a helper pays when its queue takes this many times the worker's start-up
    workers: dict[str, Worker] = field(default_factory=dict)
    helpers: dict[str, Worker] = field(default_factory=dict)
    startup: dict[str, float] = field(default_factory=dict)  # each adapter's start-up seconds, first worker
    environment: dict[str, str] = field(default_factory=dict)  # what the workers said of their frameworks
    logs: dict[str, str] = field(default_factory=dict)  # what each adapter's framework printed or warned
    cores: int = field(default_factory=lambda: usable_cores())
    spent: dict[str, tuple[float, int]] = field(default_factory=dict)  # each adapter's pairs: seconds (sent to
    # answered) and count, for the mean a queue's backlog is estimated by
    helped: dict[str, int] = field(default_factory=dict)  # pairs each adapter's helper answered

    def start(self, names: Iterable[str]) -> None:
        """Start these workers now, so their framework imports overlap whatever the caller does next."""
        for name in start_order(name for name in names if name not in self.workers):
            self.workers[name] = Worker.start(name)

    def run(self, tasks: Iterable[tuple[Case, str, Any]], pads: bool = True) -> Iterator[tuple[Case, str, Any, Outcome]]:
        """Outcomes of (case, adapter, tag) tasks as they finish; each adapter's are sent in order, to its
        worker and, once one has started, to its helper. `pads=False`: the pairs' pads go unmeasured."""
        pending: dict[str, deque[tuple[Case, Any]]] = {}
        for case, name, tag in tasks:
            pending.setdefault(name, deque()).append((case, tag))
        busy: list[Worker] = []
        while pending or busy:
            self._dispatch(pending, busy, pads)
            if self._start_helpers(pending, busy):
                self._dispatch(pending, busy, pads)
            yield from self._collect(busy)

    def _dispatch(self, pending: dict[str, deque[tuple[Case, Any]]], busy: list[Worker], pads: bool) -> None:
        """The next task of each adapter to each of its workers that is free."""
        for name in list(pending):
            for slots in (self.workers, self.helpers) if name in self.helpers else (self.workers,):
                helper = slots is self.helpers
                if name in pending and not any(w.name == name and w.helper == helper for w in busy):
                    case, tag = pending[name].popleft()
                    if not pending[name]:
                        del pending[name]
                    busy.append(self._send(slots, name, case, tag, pads))

    def _start_helpers(self, pending: dict[str, deque[tuple[Case, Any]]], busy: list[Worker]) -> bool:
        """A helper for each adapter whose queue left would take `help_after` times its start-up, longest first,
        while fewer workers are busy than there are cores; whether one started."""
        idle, started = self.cores - len(busy), False
        if idle <= 0:
            return False
        for name in sorted(pending, key=lambda n: -self._backlog(n, len(pending[n]))):
            if idle <= 0:
                break
            if name in self.helpers or name not in self.startup:
                continue
            if self._backlog(name, len(pending[name])) >= self.help_after * max(self.startup[name], 0.1):
                self.helpers[name] = Worker.start(name, helper=True)
                idle, started = idle - 1, True
        return started

    def _backlog(self, name: str, queued: int) -> float:
        """Seconds the queue would take one worker, from its pairs so far (unknown before three answered)."""
        seconds, count = self.spent.get(name, (0.0, 0))
        return queued * seconds / count if count >= 3 else 0.0

    def _send(self, slots: dict[str, Worker], name: str, case: Case, tag: Any, pads: bool) -> Worker:
        worker = slots.get(name)
        if worker is None or not worker.process.is_alive():
            worker = slots[name] = Worker.start(name, helper=slots is self.helpers)
        worker.task = (case, tag)
        worker.sent = time.monotonic()
        worker.deadline = worker.sent + self.timeout if worker.startup is not None else \
            worker.started + STARTUP_TIMEOUT
        worker.conn.send((case, pads))
        return worker

    def _forget(self, worker: Worker) -> None:
        slots = self.helpers if worker.helper else self.workers
        if slots.get(worker.name) is worker:
            del slots[worker.name]

    def _collect(self, busy: list[Worker]) -> Iterator[tuple[Case, str, Any, Outcome]]:
        by_handle: dict[Any, Worker] = {}
        for worker in busy:
            by_handle[worker.conn] = by_handle[worker.process.sentinel] = worker
        wait = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        ready = multiprocessing.connection.wait(list(by_handle), timeout=wait)
        done: list[Worker] = []
        for handle in ready:
            worker = by_handle[handle]
            if worker in done:
                continue
            assert worker.task is not None
            case, tag = worker.task
            outcome = self._receive(worker) if handle is worker.conn else None
            if isinstance(outcome, Ready):  # the pair's time starts now
                worker.startup = outcome.seconds
                self.startup.setdefault(worker.name, outcome.seconds)
                worker.sent = time.monotonic()
                worker.deadline = worker.sent + self.timeout
                continue
            if isinstance(outcome, Telemetry):  # the outcome follows on the same pipe
                self.environment.update(outcome.environment or {})
                if outcome.log:
                    self.logs[outcome.adapter] = outcome.log
                continue
            if outcome is None:
                outcome = self._died(worker)
            else:
                seconds, count = self.spent.get(worker.name, (0.0, 0))
                self.spent[worker.name] = (seconds + time.monotonic() - worker.sent, count + 1)
                if worker.helper:
                    self.helped[worker.name] = self.helped.get(worker.name, 0) + 1
            done.append(worker)
            yield case, worker.name, tag, outcome
        now = time.monotonic()
        for worker in busy:
            if worker not in done and worker.deadline <= now:
                assert worker.task is not None
                case, tag = worker.task
                worker.stop(kill=True)
                self._forget(worker)
                done.append(worker)
                message = f"no result after {self.timeout:g} s (--timeout, HARNESS_TIMEOUT)" if worker.startup \
                    is not None else f"the {worker.name} worker did not start in {STARTUP_TIMEOUT:g} s (its framework " \
                                     "import or first call hung)"
                yield case, worker.name, tag, Outcome(
                    worker.name, "error", error_type="Timeout",
                    error_message=f"{message}; the worker was stopped and replaced")
        for worker in done:
            worker.task = None
            busy.remove(worker)

    def _receive(self, worker: Worker) -> Outcome | Ready | Telemetry | None:
        try:
            message: Outcome | Ready | Telemetry = worker.conn.recv()
            return message
        except (EOFError, OSError):
            return None  # the pipe closed: the worker died while answering

    def _died(self, worker: Worker) -> Outcome:
        worker.process.join(5)
        code = worker.process.exitcode
        worker.stop(kill=True)
        self._forget(worker)
        if code is not None and code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        elif code == LOST_STATUS and isinstance(worker.process, FamilyProcess) and server_gone(worker.process.family):
            how = f"was killed with the {worker.process.family} server that forked it"
        else:
            how = f"exited with code {code}"
        return Outcome(worker.name, "error", error_type="Crashed",
                       error_message=f"the {worker.name} worker process {how} while running this pair; "
                                     "it was replaced and the run went on")

    def close(self) -> None:
        for worker in [*self.workers.values(), *self.helpers.values()]:
            worker.stop()
        self.workers.clear()
        self.helpers.clear()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
