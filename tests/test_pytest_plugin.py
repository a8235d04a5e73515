"""The case matrix as pytest items: ids, collection errors, readable failures, reports, xdist."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.adapters.registry import adapter_names

pytest_plugins = ["pytester"]

CASES = """\
cases:
  - id: small
    in_channels: 1
    input_size: 5
    out_channels: 2
    kernel_size: 3
    adapters: [jax]
    matrix:
      padding: [valid, same]
  - id: recorded-wrongly
    doc: says jax errors, but jax computes it
    in_channels: 1
    input_size: [4, 7]
    out_channels: 1
    kernel_size: [2, 3]
    stride: 2
    padding: same
    adapters: [jax]
    expect: {jax: {status: error, reason: "an outdated record"}}
"""


def write_cases(folder: Path, text: str = CASES, name: str = "mine.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def run_pytest(cwd: Path, *args: str, cases: str = "cases") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "harness.pytest_plugin", "-p", "no:cacheprovider",
                           "--rootdir", str(cwd), "--harness-cases", cases, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_collection_ids_and_no_framework_imported(tmp_path: Path) -> None:
    write_cases(tmp_path / "cases", CASES.replace("adapters: [jax]\n    matrix", "matrix"))
    code = textwrap.dedent("""
        import sys, pytest
        rc = pytest.main(["-p", "harness.pytest_plugin", "-p", "no:cacheprovider", "--harness-cases", "cases",
                          "--collect-only", "-q", "cases"])
        print("FRAMEWORKS", sorted(m for m in ("torch", "tensorflow", "keras", "jax") if m in sys.modules), rc)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    ids = [line for line in out.stdout.splitlines() if "::" in line]
    names = adapter_names()
    assert ids[: len(names) + 1] == [f"cases/mine.yaml::small[padding=valid]::{a}" for a in names] + [
        f"cases/mine.yaml::small[padding=same]::{names[0]}"]
    assert "FRAMEWORKS [] 0" in out.stdout


def test_only_configured_folders_are_collected(tmp_path: Path) -> None:
    write_cases(tmp_path / "elsewhere")
    write_cases(tmp_path / "cases")
    out = run_pytest(tmp_path, "--collect-only", "-q", "elsewhere", "cases", cases="elsewhere")
    assert "elsewhere/mine.yaml::recorded-wrongly::jax" in out.stdout and "cases/mine.yaml" not in out.stdout
    (tmp_path / "pytest.ini").write_text("[pytest]\nharness_cases = cases\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "."],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "cases/mine.yaml::recorded-wrongly::jax" in out.stdout and "elsewhere/" not in out.stdout


def test_an_unrelated_project_is_left_alone(tmp_path: Path) -> None:
    """The installed plugin (pytest11 entry point) collects none of another project's YAML files and
    keeps pytest's own rule that a collection error stops the run."""
    write_cases(tmp_path / "tests" / "data", CASES, "scenarios.yaml")
    (tmp_path / "tests" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert "1 passed" in out.stdout and "scenarios.yaml" not in out.stdout and out.returncode == 0, out.stdout
    (tmp_path / "tests" / "test_broken.py").write_text("import nothing_of_that_name\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert "Interrupted: 1 error during collection" in out.stdout and "1 passed" not in out.stdout


def test_broken_file_is_one_collection_error_and_others_run(tmp_path: Path) -> None:
    write_cases(tmp_path / "cases", CASES.split("  - id: recorded-wrongly")[0])
    write_cases(tmp_path / "cases", "cases:\n  - id: bad\n    in_channels: 1\n    input_size: 5\n    out_channels: 1\n"
                "    kernel_size: 3\n    stride: two\n", "broken.yaml")
    out = run_pytest(tmp_path, "cases", "-q")
    assert "cases/broken.yaml:7: case 'bad': stride: expected a non-negative integer" in out.stdout
    assert "2 passed, 1 error" in out.stdout and "Traceback" not in out.stdout


def test_failure_is_readable_and_expected_divergence_passes(tmp_path: Path) -> None:
    write_cases(tmp_path / "cases")
    out = run_pytest(tmp_path, "cases", "-q")
    assert "1 failed, 2 passed" in out.stdout
    text = out.stdout
    assert "cases/mine.yaml:10: recorded-wrongly [jax]" in text
    assert "status: match, expected: error  -> now matches: update the case" in text
    assert "recorded reason: an outdated record" in text
    assert "    reference      0      0      1      1" in text  # SAME k=2x3 s=2 on 4x7
    assert "Traceback" not in text and "harness/" not in text


def test_a_failure_text_starts_no_other_framework(tmp_path: Path) -> None:
    """Only rows this process computed appear: the torch row is not computed for the jax item's text."""
    write_cases(tmp_path / "cases", CASES.replace("adapters: [jax]", "adapters: [jax, torch]"))
    out = run_pytest(tmp_path, "cases", "-q", "-k", "recorded-wrongly and jax")
    assert "1 failed" in out.stdout and "recorded-wrongly [jax]" in out.stdout, out.stdout
    assert "    jax " in out.stdout and "    torch " not in out.stdout, out.stdout


def test_k_selects_by_case_id_and_adapter(tmp_path: Path) -> None:
    write_cases(tmp_path / "cases")
    out = run_pytest(tmp_path, "cases", "-q", "-k", "small and jax", "--collect-only")
    assert [line for line in out.stdout.splitlines() if "::" in line] == [
        "cases/mine.yaml::small[padding=valid]::jax", "cases/mine.yaml::small[padding=same]::jax"]


def test_missing_framework_skips_or_fails_when_required(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.adapters.registry import get_adapter

    monkeypatch.setattr(type(get_adapter("jax")), "available", classmethod(lambda cls: False))
    pytester.makefile(".yaml", mine=CASES.split("  - id: recorded-wrongly")[0])
    monkeypatch.delenv("HARNESS_FRAMEWORKS", raising=False)
    result = pytester.runpytest_inprocess("-p", "harness.pytest_plugin", "-p", "no:hypothesispytest", "--harness-cases", ".", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*jax is not installed*"])
    monkeypatch.setenv("HARNESS_FRAMEWORKS", "jax")
    result = pytester.runpytest_inprocess("-p", "harness.pytest_plugin", "-p", "no:hypothesispytest", "--harness-cases", ".")
    result.assert_outcomes(failed=2)


def read_report(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(handle)]


def test_harness_report_serial_and_xdist_agree(tmp_path: Path) -> None:
    write_cases(tmp_path / "cases", CASES.replace("adapters: [jax]", "adapters: [jax, torch]"))
    run_pytest(tmp_path, "cases", "-q", "--harness-report", "serial")
    out = run_pytest(tmp_path, "cases", "-q", "-n", "2", "--dist", "loadgroup", "--harness-report", "parallel")
    assert "2 failed, 4 passed" in out.stdout, out.stdout
    serial, parallel = read_report(tmp_path / "serial"), read_report(tmp_path / "parallel")
    assert len(serial) == 6 and serial == parallel
    page = (tmp_path / "parallel" / "report.html").read_text()
    assert "jax convolution precision" in page and "torch.backends.cudnn.allow_tf32" in page  # from the workers


def test_loadgroup_sends_each_framework_to_one_worker(tmp_path: Path) -> None:
    write_cases(tmp_path / "cases", CASES.replace("adapters: [jax]", "adapters: [jax, torch]"))
    out = run_pytest(tmp_path, "cases", "-v", "-n", "2", "--dist", "loadgroup")
    workers: dict[str, set[str]] = {}
    for line in out.stdout.splitlines():
        if line.startswith("[gw") and "@" in line:
            worker, group = line.split()[0], line.rsplit("@", 1)[1].strip()
            workers.setdefault(group, set()).add(worker)
    assert set(workers) == {"jax", "torch"} and all(len(w) == 1 for w in workers.values()), out.stdout


def test_grad_cases_add_backward_items(tmp_path: Path) -> None:
    write_cases(tmp_path / "cases", "cases:\n  - id: g\n    in_channels: 1\n    input_size: 5\n    out_channels: 2\n"
                                   "    kernel_size: 3\n    grad: true\n    adapters: [jax]\n")
    out = run_pytest(tmp_path, "cases", "-v")
    assert "cases/mine.yaml::g::jax PASSED" in out.stdout and "cases/mine.yaml::g::jax::backward PASSED" in out.stdout
    assert "2 passed" in out.stdout


def test_init_cases_add_init_items(tmp_path: Path) -> None:
    """An init item per adapter: torch's module draws match torch's default; keras' do not, as recorded."""
    pytest.importorskip("torch")
    write_cases(tmp_path / "cases", "cases:\n  - id: i\n    in_channels: 2\n    input_size: 5\n    out_channels: 3\n"
                                   "    kernel_size: 3\n    init: true\n    adapters: [torch, jax]\n")
    out = run_pytest(tmp_path, "cases", "-v")
    assert "cases/mine.yaml::i::torch::init PASSED" in out.stdout
    assert "cases/mine.yaml::i::jax::init PASSED" in out.stdout  # not applicable: no layer of its own
    assert "4 passed" in out.stdout
