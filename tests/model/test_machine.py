"""`when: {cpu: ...}`: expectations that depend on this machine's CPU, decided without a framework."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cases.loading import load_cases
from harness.model import machine

CASE = """cases:
  - id: c
    in_channels: 1
    out_channels: 1
    kernel_size: 1
    input_size: 3
    dtype: bfloat16
    expect:
      - when: {dtype: bfloat16, cpu: {avx512f: false}}
        keras: {status: error, reason: no oneDNN bfloat16 without AVX512F}
"""


@pytest.mark.parametrize(("flags", "expected"), [({"avx2", "fma"}, "error"), ({"avx2", "avx512f"}, "match")])
def test_a_cpu_condition_holds_by_the_flags_of_this_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        flags: set[str], expected: str) -> None:
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset(flags))
    (tmp_path / "c.yaml").write_text(CASE)
    [case] = load_cases([tmp_path / "c.yaml"]).cases
    rule = case.expect.get("keras")
    assert (rule.status if rule else "match") == expected


def test_the_flags_are_read_from_proc_cpuinfo() -> None:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    line = next((x for x in text.splitlines() if x.split(":")[0].strip() in ("flags", "Features")), ":")
    assert machine.cpu_flags() == frozenset(line.split(":", 1)[1].split())


@pytest.mark.parametrize("value", ["avx512f", "{avx512f: yes-please}", "{}"])
def test_a_malformed_cpu_condition_is_a_problem_at_its_line(tmp_path: Path, value: str) -> None:
    (tmp_path / "c.yaml").write_text(CASE.replace("{avx512f: false}", value))
    problems = [str(p) for p in load_cases([tmp_path / "c.yaml"]).problems]
    assert len(problems) == 1 and ":9: case 'c': expect[0].when.cpu: expected a mapping of CPU flags" in problems[0]
