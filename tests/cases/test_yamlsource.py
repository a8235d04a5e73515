"""Case files are untrusted: a small hostile file is a problem at its line, quickly, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cases.loading import load_cases
from harness.cases.yamlsource import MAX_NODES, YamlProblem, load_yaml

CASE = "{in_channels: 1, out_channels: 1, kernel_size: 1, input_size: 3}"


def alias_bomb(levels: int, width: int = 9) -> str:
    lines = [f"x-a0: &a0 [{', '.join(['1'] * width)}]"]
    lines += [f"x-a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\ncases:\n  - {{id: b, in_channels: 1, out_channels: 1, kernel_size: 1, input_size: *a{levels - 1}}}\n"


def problems_of(tmp_path: Path, text: str, name: str = "c.yaml") -> list[str]:
    (tmp_path / name).write_text(text)
    start = time.monotonic()
    result = load_cases([tmp_path / name])
    assert time.monotonic() - start < 5
    return [f"{p.line}: {p.message}" for p in result.problems]


def test_an_alias_bomb_is_refused_before_it_is_walked(tmp_path: Path) -> None:
    assert len(alias_bomb(9)) < 800 and MAX_NODES < 9**9
    assert problems_of(tmp_path, alias_bomb(9)) == [
        f"6: this value expands to more than {MAX_NODES:,} values (aliases count every time they are used): "
        "not a case file"]


def test_a_value_below_the_budget_gives_a_short_message(tmp_path: Path) -> None:
    """9**5 values are allowed, but the message shows a few, not 59,049 (a 32 MB message before)."""
    [problem] = problems_of(tmp_path, alias_bomb(5))
    assert problem.startswith("7: case 'b': input_size: expected") and len(problem) < 400


@pytest.mark.parametrize(("text", "expected"), [
    ("cases:\n  - id: d\n    in_channels: " + "9" * 5000 + "\n", "3: cannot read this value: Exceeds the limit"),
    ("cases:\n  - id: d\n    doc: " + "[" * 10000 + "]" * 10000 + "\n", "3: the document nests more than 64"),
    ("cases:\n  - id: d\n    doc: {a: {b: &x [1]}}\n    seed: *y\n", "4: YAML syntax: found undefined alias"),
])
def test_values_that_cannot_be_constructed_are_problems_at_their_line(tmp_path: Path, text: str, expected: str) -> None:
    [problem] = problems_of(tmp_path, text)
    assert problem.startswith(expected), problem


def test_a_date_is_text_not_a_crash() -> None:
    assert load_yaml("doc: 2001-13-45\nother: 2001-12-14\n") == {"doc": "2001-13-45", "other": "2001-12-14"}


def test_a_merge_key_is_overridden_by_the_mappings_own_keys(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(f"x-base: &base {CASE}\ncases:\n  - <<: *base\n    id: m\n    kernel_size: 3\n")
    result = load_cases([tmp_path / "m.yaml"])
    assert not result.problems and result.cases[0].kernel_size == (3, 3)
    with pytest.raises(YamlProblem, match="key 'id' is written twice"):
        load_yaml("a: &a {x: 1}\nb:\n  <<: *a\n  id: 1\n  id: 2\n")


def test_a_huge_matrix_is_refused_before_expansion(tmp_path: Path) -> None:
    values = "[" + ", ".join(str(i) for i in range(1, 11)) + "]"
    matrix = "".join(f"      {k}: {values}\n" for k in ("seed", "batch", "kernel_size", "stride", "dilation", "groups"))
    [problem] = problems_of(tmp_path, f"cases:\n  - id: m\n    in_channels: 1\n    out_channels: 1\n    input_size: 3\n"
                                      f"    matrix:\n{matrix}")
    assert problem == "6: case 'm': matrix: 1,000,000 combinations, more than 100,000: split the case or narrow the matrix"


def test_only_regular_files_are_read_and_the_others_still_load(tmp_path: Path) -> None:
    """A FIFO named x.yaml blocked forever; a symlink loop was a traceback."""
    cases = tmp_path / "cases"
    cases.mkdir()
    os.mkfifo(cases / "fifo.yaml")
    (cases / "loop.yaml").symlink_to("loop.yaml")
    (cases / "good.yaml").write_text(f"cases:\n  - {{id: ok, {CASE[1:]}\n")
    out = subprocess.run([sys.executable, "-m", "harness", "validate"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "cases/fifo.yaml:1: not a regular file" in out.stderr and "cases/loop.yaml:1: not a regular file" in out.stderr
    assert [c.id for c in load_cases([cases]).cases] == ["ok"]


def test_a_long_text_used_by_alias_many_times_is_refused(tmp_path: Path) -> None:
    """Few values but 1 GiB of text in the report: a 1 MiB `doc:` shared by 1,000 cases."""
    cases = "".join(f"  - {{id: c{i}, doc: *d, {CASE[1:]}\n" for i in range(1000))
    [problem] = problems_of(tmp_path, f"x-doc: &d {'a' * 2**20}\ncases:\n{cases}")
    assert problem.startswith("3: this value expands to more than 64 MiB of text")
