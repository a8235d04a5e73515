"""The README's generated "How the frameworks differ" table, and the shipped cases' reasons."""

from __future__ import annotations

from pathlib import Path

from rows import sample_rows

from harness.cases.loading import load_cases
from harness.report import write as report
from harness.report.readme_table import END, START, differences_table, update_readme
from harness.results import csv_codec as results_csv

ROOT = Path(__file__).resolve().parents[2]


def test_table_groups_recorded_divergences() -> None:
    rows = sample_rows()
    rows[0].reason = "torch refuses strided same. More text."
    rows[3].reason = "keras has no circular pad mode."
    table = differences_table(results_csv.frame(rows))
    lines = table.splitlines()
    assert lines[0] == "| framework | status | what happens | cases | example |"
    assert lines[2] == "| keras | unsupported | keras has no circular pad mode. | 1 | `sample-circular` |"  # registry order
    assert lines[3] == "| torch | error | torch refuses strided same. | 1 | `sample-same` |"
    assert len([line for line in lines if line.startswith("| ") and "---" not in line]) == 3  # header + 2 rows


def test_update_readme_replaces_only_between_markers(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[0].reason = "a reason."
    report.write_reports(rows, tmp_path, {})
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold table\n{END}\noutro\n")
    assert update_readme(str(tmp_path / "results.csv"), str(readme)) == 0
    text = readme.read_text()
    assert text.startswith(f"intro\n{START}\n| framework") and text.endswith(f"{END}\noutro\n") and "old table" not in text
    readme.write_text("no markers")
    assert update_readme(str(tmp_path / "results.csv"), str(readme)) == 2


def test_readme_holds_a_generated_table() -> None:
    text = (ROOT / "README.md").read_text()
    table = text.split(START, 1)[1].split(END, 1)[0]
    assert "| framework | status | what happens | cases | example |" in table


def test_every_shipped_divergence_has_a_reason_and_every_case_a_doc() -> None:
    result = load_cases([ROOT / "cases"])
    assert result.problems == [] and len(result.cases) >= 150
    for case in result.cases:
        assert case.doc, f"{case.file}:{case.line}: {case.id} has no doc"
        for adapter, expectation in case.expect.items():
            if expectation.status != "match":
                assert expectation.reason, f"{case.file}:{case.line}: {case.id} [{adapter}] has no reason"
