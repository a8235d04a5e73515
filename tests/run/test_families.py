"""Family servers: workers of one framework fork from a server that imported it once; without one they
still start, importing it themselves."""

from __future__ import annotations

import functools
import os
import signal
import time
from multiprocessing import forkserver
from pathlib import Path

import pytest
from helpers import make_case

from harness.adapters.registry import adapter_names
from harness.run import families
from harness.run.loop import one_row
from harness.run.prepared import Prepared
from harness.run.workers import Executor


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
    SERVER_WAIT, the server is killed, and the worker starts on its own; the run never waits on it again."""
    pytest.importorskip("torch")

    @functools.cache
    def hanging(module: str) -> forkserver.ForkServer:
        server = forkserver.ForkServer()
        server.set_forkserver_preload(["sleepy_import"])
        server.ensure_running()
        return server

    monkeypatch.setattr(families, "_server", hanging)
    monkeypatch.setattr(families, "SERVER_WAIT", 1.0)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))
    start = time.monotonic()
    with Executor(timeout=60) as executor:
        executor.start(["torch-functional"])
        row = one_row(make_case(id="alone"), "torch-functional", executor, Prepared(retain=1))
        assert row.status == "match" and time.monotonic() - start < 30
        assert not isinstance(executor.workers["torch-functional"].process, families.FamilyProcess)
    stuck = hanging("torch")._forkserver_pid
    assert os.waitpid(stuck, 0)[1] == signal.SIGKILL  # killed, not left importing
