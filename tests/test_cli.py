"""The command line: validate and list exit codes and output; no framework imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.cli import main
from harness.schema import json_schema

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
