"""The output folder: one run at a time, checked before work; --resume keeps only rows that still hold."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import install_fake

from harness.results.journal import Journal
from harness.run.resume import csv_rows

SLOW = ("defaults:\n  in_channels: 1\n  input_size: 5\n  out_channels: 1\n  kernel_size: 3\n"
        "  adapters: [numpy-engine]\ncases:\n  - id: slow\n    matrix:\n      seed: [1, 2, 3, 4, 5, 6]\n")
FLIPPED = ("cases:\n  - id: flip\n    in_channels: 1\n    input_size: 5\n    out_channels: 1\n    kernel_size: 3\n"
           "    adapters: [numpy-engine]\n    expect: {numpy-engine: mismatch}\n")


def setup(tmp_path: Path, text: str) -> dict[str, str]:
    env = install_fake(tmp_path)
    (tmp_path / "cases").mkdir(exist_ok=True)
    (tmp_path / "cases" / "c.yaml").write_text(text)
    return env


def run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "run", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_second_run_into_the_same_folder_is_refused_and_the_first_loses_nothing(tmp_path: Path) -> None:
    env = setup(tmp_path, SLOW)
    first = subprocess.Popen([sys.executable, "-m", "harness", "run"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = tmp_path / "reports" / "journal.jsonl"
    deadline = time.monotonic() + 60
    while not (journal.exists() and journal.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = run(tmp_path, env)
    assert second.returncode == 2, second.stderr
    assert second.stderr == f"error: another run (pid {first.pid}) is writing to reports/; wait for it, or give " \
                            "this one another -o\n"
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    rows = (tmp_path / "reports" / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 6


def test_an_output_that_is_a_file_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    env = setup(tmp_path, SLOW)
    (tmp_path / "taken").write_text("not a folder")
    for target, said in (("taken", "is a file, not a folder"), ("taken/sub", "cannot create the folder")):
        out = run(tmp_path, env, "-o", target)
        assert out.returncode == 2 and out.stderr == f"error: -o {target}: {said}" + (
            "; name a folder for the reports\n" if target == "taken" else " (Not a directory)\n"), out.stderr
    assert (tmp_path / "taken").read_text() == "not a folder"


def test_resume_skips_journal_lines_that_are_not_rows(tmp_path: Path) -> None:
    env = setup(tmp_path, SLOW)
    assert run(tmp_path, env).returncode == 0
    reports = tmp_path / "reports"
    rows = csv_rows(reports / "results.csv")[:2]
    (reports / "results.csv").unlink()
    (reports / "journal.jsonl").write_bytes(b"[1, 2, 3]\nnull\n\xff\xfe not utf-8\n{\"case_id\": 3}\n")
    log = Journal(reports)
    for row in rows:
        log.add(row)
    log.handle.write('{"torn')
    log.close()
    out = run(tmp_path, env, "--resume")
    assert out.returncode == 0, out.stderr
    assert "(2 kept from the earlier run)" in out.stdout and "5 line(s)" in out.stderr and "Traceback" not in out.stderr


def test_resume_judges_kept_rows_against_the_case_as_it_is_now(tmp_path: Path) -> None:
    """A removed `expect:` fails the kept row (it passed before); a changed field runs the pair again."""
    env = setup(tmp_path, FLIPPED)
    assert run(tmp_path, env).returncode == 0
    (tmp_path / "cases" / "c.yaml").write_text(FLIPPED.replace("    expect: {numpy-engine: mismatch}\n", ""))
    out = run(tmp_path, env, "--resume")
    assert out.returncode == 1 and "(1 kept from the earlier run)" in out.stdout, out.stdout + out.stderr
    (tmp_path / "cases" / "c.yaml").write_text(FLIPPED.replace("kernel_size: 3", "kernel_size: 2"))
    out = run(tmp_path, env, "--resume")
    assert out.returncode == 0 and "kept from the earlier run" not in out.stdout, out.stdout + out.stderr
    assert "1 earlier row(s) are of cases changed since; they run again" in out.stderr


def test_report_merge_and_diff_do_not_write_into_a_folder_a_run_holds(tmp_path: Path) -> None:
    from harness.run.outfolder import locked

    env = setup(tmp_path, SLOW)
    assert run(tmp_path, env, "-o", "first").returncode == 0
    csv = str(tmp_path / "first" / "results.csv")
    with locked(tmp_path / "busy"):
        for command in (["report", csv], ["merge", csv], ["diff", csv, csv]):
            out = subprocess.run([sys.executable, "-m", "harness", *command, "-o", "busy"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 2 and "is writing to busy/" in out.stderr, (command, out.stderr)
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == [".lock"]


def test_a_run_refused_at_the_lock_never_removes_the_holders_lock(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs into a new folder: the one that loses the race must leave the winner's lock file."""
    import fcntl

    from harness.problems import BadInput
    from harness.run import outfolder

    held = []
    real = outfolder.usable

    def other_run_wins(folder: Path) -> None:  # between our look for the folder and our lock
        real(folder)
        handle = open(folder / outfolder.LOCK, "a+")  # noqa: SIM115 (closed below)
        fcntl.flock(handle, fcntl.LOCK_EX)
        held.append(handle)

    monkeypatch.setattr(outfolder, "usable", other_run_wins)
    folder = tmp_path / "new"
    with pytest.raises(BadInput, match="is writing to"), outfolder.locked(folder):
        pass
    assert (folder / outfolder.LOCK).exists()
    held[0].close()
