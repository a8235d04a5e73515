"""Family servers: workers of one framework fork from a server that imported it once; without one they
still start, importing it themselves."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from multiprocessing import forkserver
from pathlib import Path

import pytest
from helpers import alive, make_case

from harness.adapters.registry import adapter_names
from harness.run import families
from harness.run.loop import one_row
from harness.run.prepared import Prepared
from harness.run.workers import LOST_STATUS, Executor


def test_an_adapter_s_family_is_the_framework_it_requires() -> None:
    expected = {"torch": "torch", "torch-functional": "torch", "torch-unfold": "torch", "torch-onnx": "torch",
                "keras-torch": "torch", "keras": "tensorflow", "keras-litert": "tensorflow", "onnx2tf": "tensorflow",
                "jax": "jax", "equinox": "jax", "flax": "jax", "keras-jax": "jax",
                "scipy": None, "onnxruntime": None, "openvino": None}
    assert {name: families.family(name) for name in adapter_names() if name in expected} == \
        {name: module for name, module in expected.items() if name in adapter_names()}


def test_start_order_puts_the_workers_forked_from_here_first_then_family_by_family() -> None:
    names = ["keras", "torch", "scipy", "jax", "onnxruntime", "keras-torch"]
    assert families.start_order(names) == ["scipy", "onnxruntime", "jax", "torch", "keras-torch", "keras"]


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_workers_of_a_family_fork_from_one_server_that_imported_the_framework() -> None:
    pytest.importorskip("torch")
    with Executor(timeout=60) as executor:
        prepared = Prepared(retain=2)
        rows = [one_row(make_case(id=name), name, executor, prepared) for name in ("torch-functional", "torch-unfold")]
        assert [row.status for row in rows] == ["match", "match"]
        servers = {_parent(executor.workers[name].process.pid) for name in ("torch-functional", "torch-unfold")}
        assert len(servers) == 1
        server = servers.pop()
        assert "libtorch" in Path(f"/proc/{server}/maps").read_text()  # torch was imported there, before the fork
        executor.workers["torch-unfold"].process.kill()  # a crash: the next pair gets a new worker, same server
        executor.workers["torch-unfold"].process.join(10)
        assert executor.workers["torch-unfold"].process.exitcode == -9
        assert one_row(make_case(id="again"), "torch-unfold", executor, prepared).status == "match"
        assert _parent(executor.workers["torch-unfold"].process.pid) == server


def test_a_killed_family_server_is_launched_again_with_its_framework() -> None:
    """Its workers die with it (their status lost: server_gone says why); the next pair gets a new server
    that imported torch again, not a bare one."""
    pytest.importorskip("torch")
    with Executor(timeout=60) as executor:
        prepared = Prepared(retain=2)
        assert one_row(make_case(id="first"), "torch-functional", executor, prepared).status == "match"
        server = _parent(executor.workers["torch-functional"].process.pid)
        assert not families.server_gone("torch")
        os.kill(server, signal.SIGKILL)
        executor.workers["torch-functional"].process.join(10)
        assert executor.workers["torch-functional"].process.exitcode == LOST_STATUS  # what _died reads
        assert families.server_gone("torch")
        assert one_row(make_case(id="after"), "torch-functional", executor, prepared).status == "match"
        again = _parent(executor.workers["torch-functional"].process.pid)
        assert again != server and "libtorch" in Path(f"/proc/{again}/maps").read_text()
        assert not families.server_gone("torch")


def test_a_family_server_that_cannot_start_leaves_the_worker_to_import_the_framework(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")

    def refused(module: str) -> None:
        raise OSError(f"no server for {module}")

    monkeypatch.setattr(families, "_server", refused)
    with Executor(timeout=60) as executor:
        executor.start(["torch-functional"])
        row = one_row(make_case(id="alone"), "torch-functional", executor, Prepared(retain=1))
        assert row.status == "match"
        assert not isinstance(executor.workers["torch-functional"].process, families.FamilyProcess)


def test_a_family_server_whose_import_hangs_is_stopped_and_the_worker_starts_without_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A server stuck in its import (tests/sleepy_import.py sleeps a minute): the first worker waits
    SERVER_WAIT, the server is killed, and the worker starts on its own; the next one does not wait again."""
    pytest.importorskip("torch")

    @functools.cache
    def hanging(module: str) -> forkserver.ForkServer:
        server = forkserver.ForkServer()
        server.set_forkserver_preload(["sleepy_import"])
        server.ensure_running()
        return server

    monkeypatch.setattr(families, "_server", hanging)
    monkeypatch.setattr(families, "SERVER_WAIT", 1.0)
    monkeypatch.setattr(families, "HUNG", set())
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))
    start = time.monotonic()
    with Executor(timeout=60) as executor:
        executor.start(["torch-functional"])
        row = one_row(make_case(id="alone"), "torch-functional", executor, Prepared(retain=1))
        assert row.status == "match" and time.monotonic() - start < 50  # not the 60 s the import sleeps
        assert not isinstance(executor.workers["torch-functional"].process, families.FamilyProcess)
        again = time.monotonic()
        executor.start(["torch-unfold"])
        assert time.monotonic() - again < 0.9  # no second SERVER_WAIT
        assert not isinstance(executor.workers["torch-unfold"].process, families.FamilyProcess)
    stuck = hanging("torch")._forkserver_pid
    assert os.waitpid(stuck, 0)[1] == signal.SIGKILL  # killed, not left importing


BUSY_FAMILY_WORKER = """
import time
from harness.run.families import FamilyProcess, _server
process = FamilyProcess(target=time.sleep, args=(60,), daemon=True)
process.family = "torch"
process.start()
print(_server("torch")._forkserver_pid, process.pid, flush=True)
time.sleep(60)
"""


def test_a_family_server_dies_with_the_run_even_while_a_worker_of_it_is_busy() -> None:
    """The stdlib's server waits for every worker holding its pipe; a busy one (here a 60 s sleep) kept it
    alive after kill -9 of the run, and with it the workers whose death signal is tied to it."""
    pytest.importorskip("torch")
    run = subprocess.Popen([sys.executable, "-c", BUSY_FAMILY_WORKER], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    server, worker = map(int, run.stdout.readline().split())
    run.kill()
    run.wait()
    try:
        deadline = time.monotonic() + 10
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)  # the sleeping stand-in has no death signal of its own
