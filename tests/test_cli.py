"""The command line: validate and list exit codes and output; no framework imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.cases.json_schema import json_schema
from harness.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOOD = "cases:\n  - id: one\n    in_channels: 1\n    input_size: 4\n    out_channels: 1\n    kernel_size: 3\n    matrix:\n      stride: [1, 2]\n"


def test_validate_shipped_cases(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["validate"]) == 0
    assert "cases OK" in capsys.readouterr().out


def test_validate_reports_file_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(GOOD.replace("kernel_size: 3", "kernel_size: three"))
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bad.yaml'}:6: case 'one': kernel_size: expected a non-negative integer" in err


def test_list_prints_expanded_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    assert main(["list", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == ["one[stride=1]", "one[stride=2]"]
    assert main(["list", str(tmp_path), "-k", "=2"]) == 0
    assert capsys.readouterr().out.split() == ["one[stride=2]"]


def test_list_with_a_broken_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text("cases: [")
    assert main(["list", str(tmp_path)]) == 2
    out = capsys.readouterr()
    assert out.out.split() == ["one[stride=1]", "one[stride=2]"] and "bad.yaml:1: YAML syntax" in out.err


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_committed_schema_is_current() -> None:
    committed = json.loads((ROOT / "cases" / "schema.json").read_text())
    assert committed == json.loads(json.dumps(json_schema())), "run: python -m harness schema"


@pytest.mark.parametrize("command", [["validate"], ["list"]])
def test_validate_and_list_import_no_framework(command: list[str]) -> None:
    code = textwrap.dedent(f"""
        import sys, contextlib, io
        from harness.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            rc = main({command!r})
        loaded = sorted(m for m in ("torch", "tensorflow", "keras", "jax", "jaxlib") if m in sys.modules)
        print(rc, loaded)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 []"


# --- bad input: one clear line, exit 2, nothing written ----------------------------------

def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_a_folder_without_cases_gets_exit_2_and_no_reports(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "run")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: no cases/ folder in") and len(out.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["report", "{bad}"], ["diff", "{bad}", "{bad}"], ["merge", "{bad}"],
                                     ["report", "{missing}"], ["run", "{missing}"], ["validate", "{missing}"]])
def test_bad_files_get_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\na,1\n")
    args = [c.format(bad=bad, missing=tmp_path / "missing.csv") for c in command]
    out = run_cli(tmp_path, *args, "-o", str(tmp_path / "out")) if command[0] != "validate" else run_cli(tmp_path, *args)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_an_empty_selection_keeps_the_earlier_report(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text("cases:\n  - id: one\n    in_channels: 1\n    input_size: 4\n"
                                              "    out_channels: 1\n    kernel_size: 1\n    adapters: [scipy]\n")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "results.csv").write_text("earlier")
    out = run_cli(tmp_path, "run", "-k", "no-such-id")
    assert out.returncode == 2 and "keeps no case" in out.stderr
    out = run_cli(tmp_path, "run", "-a", "torch")
    assert out.returncode == 2 and "no case selected" in out.stderr
    assert (tmp_path / "reports" / "results.csv").read_text() == "earlier"
    out = run_cli(tmp_path, "run", "-a", " scipy , torch")  # spaces around names are fine
    assert out.returncode == 0 and out.stdout.startswith("0 failing; the frameworks agree on 1 of 1 pairs"), out.stdout + out.stderr


def test_diff_exits_1_when_a_verdict_changed(tmp_path: Path) -> None:
    header = "case_id,adapter,status,expected,passed\n"
    (tmp_path / "a.csv").write_text(header + "c,jax,match,match,true\nd,jax,error,error,true\n")
    (tmp_path / "b.csv").write_text(header + "c,jax,match,match,true\nd,jax,match,error,false\n")
    assert run_cli(tmp_path, "diff", "a.csv", "a.csv", "-o", "d").returncode == 0
    out = run_cli(tmp_path, "diff", "a.csv", "b.csv", "-o", "d")
    assert out.returncode == 1 and "now fails" in out.stdout and "status: error -> match" in out.stdout


def test_a_clean_run_is_quiet_and_says_0_failing(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(
        "cases:\n  - id: half\n    in_channels: 2\n    input_size: 5\n    out_channels: 2\n    kernel_size: 3\n"
        "    dtype: float16\n    adapters: [keras, jax]\n")
    out = run_cli(tmp_path, "run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[:2] == [
        "0 failing; the frameworks agree on 2 of 2 pairs, differ on 0 (recorded), 0 not applicable",
        "2 pairs = 2 forward + 0 backward, from 1 case and 2 adapters"]
    assert out.stderr == "", out.stderr  # no absl, oneDNN or TensorFlow line
    assert 'id="log"' in (tmp_path / "reports" / "report.html").read_text()  # they went to the report


def test_an_interrupt_while_loading_is_exit_130_without_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from harness import cli, commands

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "load_cases", interrupted)
    assert cli.main(["validate", "cases"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_port_prints_torch_initialisers_for_keras_and_refuses_an_unknown_source(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(GOOD)
    out = run_cli(tmp_path, "port", "one[stride=2]", "--to", "keras")
    assert out.returncode == 0 and "def kernel_initializer(shape, dtype=None):" in out.stdout
    assert "U(±1/sqrt(fan_in))" in out.stdout
    out = run_cli(tmp_path, "port", "one[stride=2]", "--to", "keras", "--init-from", "flx")
    assert (out.returncode, out.stdout) == (2, "") and "Traceback" not in out.stderr
    assert out.stderr.strip() == "error: --init-from: expected one of torch, keras, flax, equinox, got 'flx' (did you mean 'flax'?)"


def test_the_case_library_is_found_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fuzz and model from an empty folder know what the shipped library records; a folder's own wins."""
    from harness.commands import shipped

    monkeypatch.chdir(tmp_path)
    assert shipped("cases") == Path(__file__).resolve().parents[1] / "cases"
    (tmp_path / "cases").mkdir()
    assert shipped("cases") == Path("cases")
    assert shipped("no-such-thing") == Path("no-such-thing")
