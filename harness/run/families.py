"""Workers that share their framework's import: one server per family (multiprocessing's forkserver, one
instance each) imports the framework once and forks every worker of the family, so five torch workers pay
for one torch import, not five: a first look at one case on every adapter is mostly imports.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing.connection
import multiprocessing.context
import os
import select
import signal
import sys
from collections.abc import Iterable, Iterator, Sequence
from multiprocessing import forkserver, popen_forkserver
from typing import Any

from ..adapters.registry import get_adapter

# The frameworks whose import a family of workers shares: an adapter's family is the one of these its
# `requires` names. A family's server (multiprocessing's forkserver, one per family, Linux only) imports it
# once and forks each worker of the family from there. Only these: TensorFlow's import brings Keras in on
# TensorFlow, so Keras on JAX or torch (which require keras and their backend) must import Keras itself.
# Quickest import first: workers start in this order, each family's first one waiting for its server.
FAMILIES = ("jax", "torch", "tensorflow")
SERVER_WAIT = 120.0  # for a family server's import and its first fork
FAMILY_VARIABLE = "HARNESS_FAMILY_SERVER"  # the framework a server preloads (preload.py), in its environment only
HUNG: set[str] = set()  # families whose server did not fork in SERVER_WAIT: their workers start without one


def family(name: str) -> str | None:
    if sys.platform != "linux":
        return None
    return next((module for module in FAMILIES if module in get_adapter(name).requires), None)


def start_order(names: Iterable[str]) -> list[str]:
    """These adapters' family servers started (their imports run side by side from now), and the order to
    start their workers in: those forked from this process first, then family by family."""
    of = {name: family(name) for name in names}
    for module in FAMILIES:
        if module in of.values() and module not in HUNG:
            with contextlib.suppress(OSError):  # its workers then start without it (_started)
                _server(module)
    rank: dict[str | None, int] = {None: -1, **{module: index for index, module in enumerate(FAMILIES)}}
    return sorted(of, key=lambda name: rank[of[name]])


@contextlib.contextmanager
def _family_environment(module: str) -> Iterator[None]:
    """FAMILY_VARIABLE set while a server is launched (first, or again after it died), for its environment only."""
    os.environ[FAMILY_VARIABLE] = module
    try:
        yield
    finally:
        del os.environ[FAMILY_VARIABLE]


@functools.cache
def _server(module: str) -> forkserver.ForkServer:
    """The family's server, started with its first worker, with the environment this process has then (the
    thread shares and framework switches are set before any worker starts)."""
    server = forkserver.ForkServer()
    server.set_forkserver_preload(["harness.run.preload"])
    with _family_environment(module):
        server.ensure_running()
    return server


class _FamilyPopen(popen_forkserver.Popen):
    """The stdlib's forkserver launch, through the process' family server instead of the module's single one
    (`_launch` asks the module-level `connect_to_new_process`, which launches the server again if it died),
    waiting at most SERVER_WAIT for its fork: a server whose import hangs is stopped, its family marked HUNG."""

    def _launch(self, process_obj: Any) -> None:
        module = process_obj.family
        server = _server(module)
        connect, read_signed = forkserver.connect_to_new_process, forkserver.read_signed

        def connected(fds: Sequence[int]) -> tuple[int, int]:
            with _family_environment(module):
                return server.connect_to_new_process(fds)

        def forked_pid(fd: int) -> int:
            if not multiprocessing.connection.wait([fd], timeout=SERVER_WAIT):
                HUNG.add(module)
                os.kill(server._forkserver_pid, signal.SIGKILL)  # type: ignore[attr-defined]
                raise OSError(f"the {module} server did not fork a worker in {SERVER_WAIT:g} s")
            return int(read_signed(fd))

        forkserver.connect_to_new_process, forkserver.read_signed = connected, forked_pid
        try:
            super()._launch(process_obj)  # type: ignore[misc]  # typeshed omits Popen._launch
        finally:
            forkserver.connect_to_new_process, forkserver.read_signed = connect, read_signed


class FamilyProcess(multiprocessing.context.ForkServerProcess):
    """A worker forked from its family's server (`family`: the framework it imported)."""

    family = ""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _FamilyPopen(process_obj)


def server_gone(module: str, wait: float = 2.0) -> bool:
    """Whether the family's server has ended, or does within `wait` s (a big process takes a moment to exit;
    its workers die with it, their exit status lost): a pidfd turns readable when the process ends."""
    try:
        handle = os.pidfd_open(_server(module)._forkserver_pid)  # type: ignore[attr-defined]
    except OSError:  # reaped already
        return True
    try:
        return bool(select.select([handle], [], [], wait)[0])
    finally:
        os.close(handle)


def started(name: str, arguments: dict[str, Any]) -> Any | None:
    """The worker's process (Process `arguments`), started from its family's server; None where it has no
    family (or is not on Linux), or its server cannot start or fork: the worker then imports its framework itself."""
    module = family(name)
    if module is None or module in HUNG:
        return None
    try:
        process = FamilyProcess(**arguments)
        process.family = module
        process.start()
        return process
    except (OSError, EOFError):
        return None
