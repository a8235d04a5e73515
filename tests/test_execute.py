"""Workers: a segfault, an abort and a hang cost one pair each; nothing finished is lost."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import install_fake, make_case

from harness import memory
from harness.execute import Executor
from harness.runloop import Prepared, one_row

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
        time.sleep(0.2)
        third = one_row(make_case(id="c"), "scipy", executor, prepared)
        assert third.status == "match" and executor.workers["scipy"].process.pid != pid


@pytest.mark.parametrize(("text", "size"), [("4GiB", 4 * 2**30), ("512MB", 512 * 10**6), ("2e9", 2 * 10**9),
                                            ("1 kib", 1024)])
def test_sizes_parse(text: str, size: int) -> None:
    assert memory.parse_size(text) == size


def test_estimate_counts_the_reference_arrays_by_hand() -> None:
    """2x3x10x10 float32 input, 4x3x3x3 weights, valid: 2x4x8x8 output."""
    case = make_case(batch=2, in_channels=3, out_channels=4, input_size=10, kernel_size=3)
    inputs, weights, outputs = 2 * 3 * 100, 4 * 3 * 9, 2 * 4 * 64
    assert memory.estimate(case) == (inputs + weights) * (4 + 8) + inputs * 16 + outputs * (40 + 4)
    assert memory.estimate(make_case(input_size=12000, in_channels=64)) > 2**36


def test_pytest_reports_a_crash_as_one_failed_item(tmp_path: Path) -> None:
    env = install_fake(tmp_path)
    write(tmp_path, CASES.split("  - id: abort-here")[0])
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "harness.pytest_plugin", "-p", "no:cacheprovider",
                          "--harness-cases", "cases", "cases", "-q"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert "1 failed, 2 passed" in out.stdout, out.stdout
    assert "Crashed: the numpy-engine worker process killed by SIGSEGV" in out.stdout
