"""Workers: a segfault, an abort and a hang cost one pair each; nothing finished is lost."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import alive, children_of, descendants_of, install_fake, make_case

from harness.adapters.registry import get_adapter
from harness.run import memory, workers
from harness.run.loop import one_row
from harness.run.prepared import Prepared
from harness.run.workers import Executor

CASES = """
defaults:
  in_channels: 2
  input_size: 6
  out_channels: 3
  kernel_size: 3
  adapters: [numpy-engine]
cases:
  - id: before
  - id: segv-here
  - id: next-one
  - id: abort-here
  - id: hang-here
  - id: last-one
  - id: huge
    input_size: 12000
    in_channels: 64
"""


def write(tmp_path: Path, text: str = CASES) -> None:
    (tmp_path / "cases").mkdir(exist_ok=True)
    (tmp_path / "cases" / "c.yaml").write_text(text)


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {r["case_id"]: r for r in csv.DictReader(handle)}


def test_crashes_hangs_and_huge_cases_cost_one_pair_each(tmp_path: Path) -> None:
    env = install_fake(tmp_path)
    write(tmp_path)
    out = subprocess.run([sys.executable, "-m", "harness", "run", "--timeout", "3", "--max-memory", "2GiB"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    rows = rows_of(tmp_path / "reports" / "results.csv")
    assert [rows[c]["status"] for c in ("before", "next-one", "last-one")] == ["match"] * 3
    assert (rows["segv-here"]["error_type"], rows["abort-here"]["error_type"], rows["hang-here"]["error_type"]) == (
        "Crashed", "Crashed", "Timeout")
    assert "killed by SIGSEGV" in rows["segv-here"]["error_message"]
    assert "killed by SIGABRT" in rows["abort-here"]["error_message"]
    assert rows["huge"]["error_type"] == "TooLarge" and "GiB" in rows["huge"]["error_message"]
    assert "Traceback" not in out.stderr


def test_an_interrupted_run_keeps_its_rows_and_resume_finishes_it(tmp_path: Path) -> None:
    env = install_fake(tmp_path)
    write(tmp_path, "defaults:\n  in_channels: 1\n  input_size: 5\n  out_channels: 1\n  kernel_size: 3\n"
                    "  adapters: [numpy-engine]\ncases:\n  - id: slow\n    matrix:\n      seed: [1, 2, 3, 4, 5, 6, 7, 8]\n")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = tmp_path / "reports" / "journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 2):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    said, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    kept = [json.loads(line)["case_id"] for line in journal.read_text().splitlines()]
    assert 2 <= len(kept) < 8 and "--resume" in err
    assert said.startswith(f"INTERRUPTED: {len(kept)} of 8 pairs ran"), said  # the summary says so first
    assert "INTERRUPTED" in (tmp_path / "reports" / "report.html").read_text()
    assert len(rows_of(tmp_path / "reports" / "results.csv")) == len(kept)  # a partial report, marked so on stderr
    out = subprocess.run([sys.executable, "-m", "harness", "run", "--resume"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"({len(kept)} kept from the earlier run)" in out.stdout
    assert len(rows_of(tmp_path / "reports" / "results.csv")) == 8 and not journal.exists()


def test_a_worker_is_reused_and_replaced_after_a_crash() -> None:
    with Executor(timeout=30) as executor:
        prepared = Prepared(retain=2)
        first = one_row(make_case(id="a"), "scipy", executor, prepared)
        pid = executor.workers["scipy"].process.pid
        second = one_row(make_case(id="b"), "scipy", executor, prepared)
        assert executor.workers["scipy"].process.pid == pid  # the same worker, set up once
        assert first.status == second.status == "match"
        executor.workers["scipy"].process.kill()
        executor.workers["scipy"].process.join(10)  # dead for sure, however loaded the machine
        third = one_row(make_case(id="c"), "scipy", executor, prepared)
        assert third.status == "match" and executor.workers["scipy"].process.pid != pid


@pytest.mark.parametrize(("cores", "helped"), [(2, True), (1, False)])
def test_a_helper_worker_shares_a_long_queue_only_when_a_core_is_idle(
        monkeypatch: pytest.MonkeyPatch, cores: int, helped: bool) -> None:
    """help_after=0 makes any queue long enough: with a second core idle a second scipy worker starts and the
    two share the queue; with one core, none does. Every outcome comes back once either way."""
    monkeypatch.setattr(workers, "usable_cores", lambda: cores)
    cases = [make_case(id=f"case-{i}") for i in range(8)]
    with Executor(timeout=60, help_after=0.0) as executor:
        outcomes = {tag: outcome.status for _, _, tag, outcome in executor.run([(c, "scipy", c.id) for c in cases])}
        assert ("scipy" in executor.helpers) == helped
        if helped:
            assert executor.helpers["scipy"].process.pid != executor.workers["scipy"].process.pid
            assert 0 < executor.helped["scipy"] < len(cases)  # both workers answered some
    assert outcomes == {c.id: "ran" for c in cases}


@pytest.mark.parametrize(("text", "size"), [("4GiB", 4 * 2**30), ("512MB", 512 * 10**6), ("2e9", 2 * 10**9),
                                            ("1 kib", 1024)])
def test_sizes_parse(text: str, size: int) -> None:
    assert memory.parse_size(text) == size


def test_estimate_counts_the_reference_arrays_by_hand() -> None:
    """2x3x10x10 float32 input, 4x3x3x3 weights, valid: 2x4x8x8 output."""
    case = make_case(batch=2, in_channels=3, out_channels=4, input_size=10, kernel_size=3)
    inputs, weights, outputs = 2 * 3 * 100, 4 * 3 * 9, 2 * 4 * 64
    columns = 2 * 64 * (3 * 9) * 4  # batch x output positions x window, float32
    forward = (inputs + weights) * (4 + 8) + inputs * 16 + outputs * (56 + 4) + columns
    probe = (inputs + weights + outputs) * 16
    assert memory.estimate(case) == forward + probe
    assert memory.estimate(make_case(input_size=12000, in_channels=64)) > 2**36


def test_estimate_counts_the_probe_of_an_empty_batch_and_the_backward_pass() -> None:
    """A batch of 0 is probed with one item (it was estimated at the weights alone); `grad` adds the
    cotangent, the gradients and their copies (the backward pass took 2.7x the forward estimate)."""
    empty = make_case(batch=0, in_channels=16, input_size=4000, out_channels=1, kernel_size=1)
    assert memory.estimate(empty) >= 16 * 4000 * 4000 * 8 * 2
    case = make_case(batch=2, in_channels=3, out_channels=4, input_size=10, kernel_size=3, padding=1)
    inputs, weights, outputs, padded = 2 * 3 * 100, 4 * 3 * 9, 2 * 4 * 100, 2 * 3 * 144
    backward = outputs * (4 + 16) + inputs * 56 + weights * 40 + padded * 32 + (inputs + weights) * (4 + 16)
    assert memory.estimate(case.model_copy(update={"grad": True})) - memory.estimate(case) == backward


def test_repro_is_refused_for_a_case_over_the_memory_limit(tmp_path: Path) -> None:
    """repro prepared a case with no guard: a MemoryError traceback for a 26.8 GiB case."""
    write(tmp_path, "cases:\n  - {id: huge, in_channels: 64, input_size: 12000, out_channels: 1, kernel_size: 1}\n")
    out = subprocess.run([sys.executable, "-m", "harness", "repro", "huge", "--max-memory", "1GiB"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith("error: huge: no bundle written: the case needs about")
    assert len(out.stderr.splitlines()) == 1 and not (tmp_path / "reports").exists()


def test_pytest_reports_a_crash_as_one_failed_item(tmp_path: Path) -> None:
    env = install_fake(tmp_path)
    write(tmp_path, CASES.split("  - id: abort-here")[0])
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "harness.pytest_plugin", "-p", "no:cacheprovider",
                          "--harness-cases", "cases", "cases", "-q"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert "1 failed, 2 passed" in out.stdout, out.stdout
    assert "Crashed: the numpy-engine worker process killed by SIGSEGV" in out.stdout


# Real adapters whose frameworks the parent never imports, so the workers are forked directly
# (the path that inherits every pipe end); the fake engine's numpy already rules fork out.
MANY = ("defaults:\n  in_channels: 2\n  input_size: [24, 24]\n  out_channels: 2\n  kernel_size: 3\n"
        "  adapters: [scipy, onnxruntime]\ncases:\n  - id: many\n    matrix:\n      seed: [" + ", ".join(map(str, range(400)))
        + "]\n")


def _wait_for(predicate: Callable[[], object], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


@pytest.mark.parametrize("adapters", ["scipy, onnxruntime", "torch-functional, jax"])
def test_no_worker_outlives_a_killed_run(tmp_path: Path, adapters: str) -> None:
    """kill -9 of `harness run`: every worker is gone 5 s later (none blocks on an inherited pipe), and none
    prints a traceback on its way out (a send to the dead parent is a quiet end). Workers forked from the
    run (scipy, onnxruntime) or from their family's server (torch, JAX), with the servers themselves."""
    for name in adapters.split(", "):
        pytest.importorskip(get_adapter(name).requires[0])
    write(tmp_path, MANY.replace("scipy, onnxruntime", adapters))
    errors = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=errors)
    journal = tmp_path / "reports" / "journal.jsonl"
    _wait_for(lambda: journal.exists() and journal.read_text().count("\n") >= 2)
    workers = descendants_of(proc.pid)
    assert len(workers) >= 2
    proc.kill()
    proc.wait()
    time.sleep(5)
    assert [pid for pid in workers if alive(pid)] == []
    errors.close()
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


def test_a_killed_xdist_worker_fails_its_items_and_the_run_ends(tmp_path: Path) -> None:
    write(tmp_path, MANY)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "harness.pytest_plugin", "-p", "no:cacheprovider",
                             "--harness-cases", "cases", "cases", "-q", "-n", "2"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for(lambda: any(children_of(w) for w in children_of(proc.pid)))  # an xdist worker started its worker
    victim = next(w for w in children_of(proc.pid) if children_of(w))
    grandchildren = children_of(victim)
    os.kill(victim, signal.SIGKILL)
    out, _ = proc.communicate(timeout=120)  # hung forever before: the orphans held the xdist worker's pipes
    assert "crashed while running" in out and "failed" in out, out
    time.sleep(1)
    assert [pid for pid in grandchildren if alive(pid)] == []


def test_the_timeout_counts_from_when_the_framework_is_ready(tmp_path: Path) -> None:
    """A 3 s framework import under --timeout 1: every pair matches (the first one timed out before),
    and the start-up is reported apart, in the environment block."""
    env = {**install_fake(tmp_path), "FAKE_ENGINE_SETUP_SECONDS": "3"}
    write(tmp_path, SLOW_SETUP)
    out = subprocess.run([sys.executable, "-m", "harness", "run", "--timeout", "1"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = rows_of(tmp_path / "reports" / "results.csv")
    assert {r["status"] for r in rows.values()} == {"match"} and max(float(r["seconds"]) for r in rows.values()) < 1
    assert re.search(r"numpy-engine start-up</th><td>3\.\d s", (tmp_path / "reports" / "report.html").read_text())


def test_what_a_worker_says_of_its_framework_reaches_the_report(tmp_path: Path) -> None:
    """Versions and printed lines travel apart from the outcomes (Telemetry) and land in the environment block."""
    env = install_fake(tmp_path)
    write(tmp_path, SLOW_SETUP.replace("id: b", "id: warns"))
    out = subprocess.run([sys.executable, "-m", "harness", "run"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "chatter" not in out.stdout + out.stderr  # kept off the terminal
    page = (tmp_path / "reports" / "report.html").read_text()
    assert re.search(r"numpy-engine</th><td>numpy-engine \d", page) and "a framework&#x27;s own chatter" in page, page


SLOW_SETUP = ("defaults:\n  in_channels: 1\n  input_size: 5\n  out_channels: 1\n  kernel_size: 3\n"
              "  adapters: [numpy-engine]\ncases:\n  - id: a\n  - id: b\n")


def test_a_double_sigterm_ends_the_run_quietly(tmp_path: Path) -> None:
    """Workers inherited the parent's SIGTERM handler and printed KeyboardInterrupt tracebacks."""
    write(tmp_path, MANY)  # forked workers: they are the ones that inherit the parent's handler
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = tmp_path / "reports" / "journal.jsonl"
    _wait_for(lambda: journal.exists() and journal.read_text())
    workers = children_of(proc.pid)
    proc.send_signal(signal.SIGTERM)
    for pid in workers:  # as a shell's `kill` of the whole process group would
        os.kill(pid, signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
