"""The newcomer's first hour, as a user meets it: subprocesses, exit codes and what they print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

NEW_CASES = """\
cases:
  - id: my-upsample-deconv
    doc: a 2x upsampling transposed convolution
    op: conv_transpose
    in_channels: 3
    input_size: [5, 6]
    out_channels: 2
    kernel_size: 4
    stride: 2
    padding: 1
    adapters: [scipy, onnxruntime, torch]
  - id: my-causal-tcn
    doc: a causal dilated 1-D convolution with its gradients
    in_channels: 4
    input_size: [16]
    out_channels: 4
    kernel_size: 3
    dilation: 2
    padding: causal
    grad: true
    adapters: [scipy, onnxruntime, torch]
"""
SMALL = "cases:\n  - id: small\n    in_channels: 1\n    input_size: 5\n    out_channels: 1\n    kernel_size: 3\n" \
        "    adapters: [scipy]\n"


def harness(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def cases(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "cases").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / "cases" / f"{name}.yaml").write_text(text)
    return tmp_path


def test_a_correct_transposed_case_and_a_grad_case_pass_with_no_expect(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    out = harness(cases(tmp_path, mine=NEW_CASES), "run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[:2] == [
        "0 failing; the frameworks agree on 6 of 9 pairs, differ on 0 (recorded), 3 not applicable",
        "9 pairs = 6 forward + 3 backward, from 2 cases and 3 adapters"]
    page = (tmp_path / "reports" / "report.html").read_text()
    assert "Not applicable: adapter limits (3 pairs)" in page and "no conv_transpose" in page


def test_a_run_with_a_broken_file_says_partial_first_and_names_it(tmp_path: Path) -> None:
    out = harness(cases(tmp_path, good=SMALL, broken="cases:\n  - id: x\n    in_chanels: 1\n"), "run")
    assert out.returncode == 2, out.stdout + out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("PARTIAL: ") and "cases/broken.yaml:3" in first, out.stdout
    page = (tmp_path / "reports" / "report.html").read_text()
    assert 'id="dropped"' in page and "cases/broken.yaml:3" in page and "headline pass" not in page


@pytest.mark.parametrize(("args", "env", "says"), [
    (["run", "--max-memory", "banana"], {}, "error: --max-memory: expected a memory size greater than 0"),
    (["run", "--max-memory=-5GiB"], {}, "error: --max-memory:"),
    (["run", "--max-memory", "0"], {}, "error: --max-memory:"),
    (["run"], {"HARNESS_MAX_MEMORY": "banana"}, "error: HARNESS_MAX_MEMORY: expected a memory size"),
    (["run"], {"HARNESS_TIMEOUT": "xyz"}, "error: HARNESS_TIMEOUT: expected a number of seconds greater than 0"),
    (["run", "--timeout", "-1"], {}, "error: --timeout: expected a number of seconds greater than 0"),
    (["run", "--timeout", "0"], {}, "error: --timeout:"),
    (["run", "--timeout", "nan"], {}, "error: --timeout:"),
    (["run", "--timeout", "inf"], {}, "error: --timeout:"),
    (["fuzz", "--time", "-5"], {}, "error: --time: expected a number of seconds greater than 0"),
    (["run"], {"HARNESS_FRAMEWORKS": "tensorflow"}, "error: HARNESS_FRAMEWORKS: unknown adapter 'tensorflow' "
                                                     "(did you mean 'keras'?)"),
    (["run"], {"HARNESS_FRAMEWORKS": "torch,jaxx"}, "error: HARNESS_FRAMEWORKS: unknown adapter 'jaxx' "
                                                    "(did you mean 'jax'?)"),
    (["run", "-a", "torh"], {}, "error: -a/--adapters: unknown adapter 'torh' (did you mean 'torch'?)"),
])
def test_bad_options_and_variables_get_one_error_line_and_nothing_written(
        tmp_path: Path, args: list[str], env: dict[str, str], says: str) -> None:
    import os

    cases(tmp_path, good=SMALL)
    out = harness(tmp_path, *args, env={**os.environ, **env})
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(says) and len(out.stderr.splitlines()) == 1, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases"]  # no reports/, no journal, no cases/found


def test_pytest_refuses_a_misspelt_framework_up_front(tmp_path: Path) -> None:
    import os

    cases(tmp_path, good=SMALL)
    (tmp_path / "pytest.ini").write_text("[pytest]\nharness_cases = cases\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HARNESS_FRAMEWORKS": "scipyy"})
    assert out.returncode == 4 and "HARNESS_FRAMEWORKS: unknown adapter 'scipyy' (did you mean 'scipy'?)" in out.stderr


BAD_VALUES = """\
cases:
  - id: one
    in_chanels: 1
    input_size: 4
    out_channels: 1
    kernel_size: 3
    expect:
      torch: eror
  - id: two
    in_channels: 1
    input_size: 4
    out_channels: 1
    kernel_size: 3
    padding: sam
    matrix:
      stride: [1, 2]
"""


def test_validate_says_each_problem_once_with_did_you_mean_for_values(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD_VALUES)
    out = harness(tmp_path, "validate", "bad.yaml")
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == len(set(lines)) == 4, out.stderr  # 3 problems and the count
    assert "bad.yaml:3: case 'one': unknown field 'in_chanels' (did you mean 'in_channels'?)" in lines
    assert not [line for line in lines if "missing required field" in line]  # the misspelt key said it
    assert any(line.startswith("bad.yaml:8: ") and "(got 'eror') (did you mean 'error'?)" in line for line in lines)
    assert any(line.startswith("bad.yaml:14: ") and "got 'sam' (did you mean 'same'?)" in line for line in lines)


@pytest.mark.parametrize("command", ["validate", "list"])
def test_an_empty_selection_exits_2(tmp_path: Path, command: str) -> None:
    (tmp_path / "empty").mkdir()
    out = harness(tmp_path, command, "empty")
    assert out.returncode == 2 and out.stderr == "error: no case in empty (no *.yaml or *.yml case file there)\n"
    assert "cases OK" not in out.stdout


EXPECTS_A_RUN = """\
cases:
  - id: deconv-expected-everywhere
    op: conv_transpose
    in_channels: 1
    input_size: [3, 4]
    out_channels: 1
    kernel_size: 2
    adapters: [torch-functional, scipy]
    expect: {scipy: {status: match, reason: "I believe SciPy can"}}
"""  # torch-functional runs first, so scipy's failure text shows its row beside the reference


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "harness.pytest_plugin",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_pytest_collects_a_case_file_named_explicitly(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "my_cases.yaml").write_text(SMALL)
    (tmp_path / "other.yaml").write_text("not: a case file\n")  # not named: left alone
    out = run_pytest(tmp_path, "elsewhere/my_cases.yaml", "-q")
    assert out.returncode == 0 and "1 passed" in out.stdout, out.stdout + out.stderr


def test_pytest_failure_text_reads_cleanly(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    (tmp_path / "c.yaml").write_text(EXPECTS_A_RUN)
    out = run_pytest(tmp_path, "c.yaml", "-q")
    assert out.returncode == 1, out.stdout + out.stderr
    text = out.stdout
    assert "scipy said: " in text and "said: :" not in text
    lines = text.splitlines()
    header = next(line for line in lines if line.strip().startswith("crops"))
    row = next(line for line in lines if line.strip().startswith("torch-functional"))
    reference = next(line for line in lines if line.strip().startswith("reference "))
    ends = [header.index(side) + len(side) for side in ("top", "bottom", "left", "right")]
    for line in (row, reference):  # each value ends under its column's name
        assert all(line[end - 1].isdigit() for end in ends), text


def test_a_skipped_test_says_why_without_asking(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "test_skips.py").write_text("import pytest\n\ndef test_needs_a_browser():\n"
                                            "    pytest.skip('Chromium is not installed')\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-c", str(root / "pyproject.toml"),
                          "--rootdir", str(tmp_path), str(tmp_path / "test_skips.py")],
                         capture_output=True, text=True, timeout=120)
    assert "SKIPPED [1]" in out.stdout and "Chromium is not installed" in out.stdout, out.stdout + out.stderr


def test_workers_get_a_share_of_the_cores_unless_the_user_chose() -> None:
    import json
    import os

    from harness.adapters.registry import adapter_names

    code = "import json\nfrom harness.run.threads import share_cores\nprint(json.dumps(share_cores()))"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**env, "OMP_NUM_THREADS": "3"})
    share = str(max(1, (os.cpu_count() or 1) // (len(adapter_names()) + 1)))
    assert json.loads(out.stdout) == {"OPENBLAS_NUM_THREADS": share, "OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": share}
