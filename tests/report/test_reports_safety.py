"""What a user meets in report, merge and diff: spreadsheet-saved CSVs, hostile cells, overlapping
shards, subset runs, exit codes; and -k's expressions."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rows import sample_rows

from harness.cases.keyword import keyword_test
from harness.problems import BadInput
from harness.report import write as report
from harness.results import csv_codec as results_csv
from harness.results.rows import Row

ENV = {"python": "3.11"}


def harness(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def rewrite(path: Path, change: dict[str, str]) -> None:
    """Re-save a CSV the way a spreadsheet would, with some cells replaced."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update({k: v.format(**row) for k, v in change.items()})
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_spreadsheet_saved_passed_column_reads_case_insensitively(tmp_path: Path) -> None:
    report.write_reports(sample_rows(), tmp_path, ENV)
    text = (tmp_path / "results.csv").read_text().replace(",true,", ",TRUE,").replace(",false,", ",FALSE,")
    (tmp_path / "results.csv").write_text(text)
    assert ",FALSE," in text and ",TRUE," in text
    out = harness(tmp_path, "merge", "results.csv", "-o", "m")
    assert out.returncode == 1 and out.stdout.startswith("2 failing;"), out.stdout + out.stderr
    merged = (tmp_path / "m" / "results.csv").read_text()
    assert ",false," in merged and ",true," in merged


def test_a_passed_cell_that_is_not_a_boolean_is_refused(tmp_path: Path) -> None:
    report.write_reports(sample_rows(), tmp_path, ENV)
    rewrite(tmp_path / "results.csv", {"passed": "yes"})
    out = harness(tmp_path, "report", "results.csv", "-o", "r")
    assert out.returncode == 2 and out.stderr.strip() == "error: results.csv:2: column passed: expected true or false, got 'yes'"
    assert not (tmp_path / "r").exists()


HOSTILE = "<!--<script>alert(1)</script>"


def test_cells_cannot_run_script_in_any_page(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[0].doc = HOSTILE
    rows[1].error_message = "<img src=x onerror=alert(2)>"
    report.write_reports(rows, tmp_path / "a", ENV)
    page = (tmp_path / "a" / "report.html").read_text()
    data = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and HOSTILE in json.loads(data)["strings"]  # the JSON block holds the text, escaped
    assert page.count("<script") == 2  # the data block and the page's own script, nothing else
    changed = [dataclasses.replace(r) for r in rows]
    changed[1].status = "<script>alert(3)</script>"
    report.write_reports(changed, tmp_path / "b", ENV)
    out = harness(tmp_path, "diff", "a/results.csv", "b/results.csv", "-o", "d")
    assert out.returncode == 1, out.stderr
    diff_page = (tmp_path / "d" / "diff.html").read_text()
    assert "<script>" not in diff_page and "&lt;script&gt;alert(3)" in diff_page


def test_formula_cells_are_neutralised_and_read_back_as_written(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[0].error_message = "=HYPERLINK(\"http://x\")"
    rows[1].doc = "+1 and more"
    rows[2].reason = "'quoted already"
    rows[3].case = "@SUM(A1)"
    report.write_reports(rows, tmp_path, ENV)
    with open(tmp_path / "results.csv", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]  # no cell a spreadsheet would evaluate
    back = results_csv.read_csvs([tmp_path / "results.csv"]).astype(object)
    assert back.loc[0, "error_message"] == "=HYPERLINK(\"http://x\")" and back.loc[1, "doc"] == "+1 and more"
    assert back.loc[2, "reason"] == "'quoted already" and back.loc[3, "case"] == "@SUM(A1)"
    assert back.loc[2, "err_bound_ratio"] == rows[2].err_bound_ratio  # numbers stay numbers


def test_merge_refuses_overlapping_rows_unless_told_which_wins(tmp_path: Path) -> None:
    rows = sample_rows()
    report.write_reports(rows[:3], tmp_path / "a", ENV)
    later = [dataclasses.replace(r, status="match", passed=True, verdict="agree") for r in rows[1:]]
    report.write_reports(later, tmp_path / "b", ENV)
    out = harness(tmp_path, "merge", "a/results.csv", "b/results.csv", "-o", "m")
    assert out.returncode == 2 and "2 pair(s) appear more than once" in out.stderr and "--keep" in out.stderr
    assert len(out.stderr.splitlines()) == 1 and not (tmp_path / "m").exists()
    out = harness(tmp_path, "merge", "a/results.csv", "b/results.csv", "-o", "m", "--keep", "last")
    merged = results_csv.read_csvs([tmp_path / "m" / "results.csv"])
    assert out.returncode == 1 and len(merged) == 5 and merged.loc[merged["adapter"] == "jax", "status"].tolist() == [
        "match", "match"]
    harness(tmp_path, "merge", "a/results.csv", "b/results.csv", "-o", "m", "--keep", "first")
    merged = results_csv.read_csvs([tmp_path / "m" / "results.csv"])
    assert merged.loc[merged["case_id"] == "sample-same", "status"].tolist() == ["error", "match", "mismatch"]


def test_diff_names_the_pass_says_what_changed_and_sums_up(tmp_path: Path) -> None:
    rows = sample_rows()
    back = [dataclasses.replace(r, pass_="backward") for r in rows[:3]]
    report.write_reports(rows + back, tmp_path / "a", ENV)
    changed = [dataclasses.replace(r) for r in rows + back]
    changed[1].status, changed[1].passed = "mismatch", False
    changed[2].err_bound_ratio = 99.0
    report.write_reports(changed, tmp_path / "b", ENV)
    out = harness(tmp_path, "diff", "a/results.csv", "b/results.csv", "-o", "d")
    assert out.returncode == 1
    with open(tmp_path / "d" / "diff.csv", newline="") as handle:
        diff = list(csv.DictReader(handle))
    assert all(d["pass"] in ("forward", "backward") for d in diff)
    assert {"status: match -> mismatch", "now fails"} <= {d["what"] for d in diff}
    assert any(d["what"].startswith("err_bound_ratio (|y - ref| / bound):") for d in diff)
    assert out.stdout.splitlines()[-2].startswith("diff of 8 and 8 pairs: 1 now fail, 0 now pass, 1 changed status")


def test_diff_of_a_subset_run_says_the_runs_cover_different_cases(tmp_path: Path) -> None:
    rows = sample_rows()
    many = rows + [dataclasses.replace(r, case_id=f"{r.case_id}-{i}") for i in range(50) for r in rows]
    report.write_reports(many, tmp_path / "full", ENV)
    report.write_reports(rows, tmp_path / "part", ENV)
    out = harness(tmp_path, "diff", "full/results.csv", "part/results.csv", "-o", "d")
    assert out.returncode == 1
    assert "the runs cover different cases: 100 only in the old run, 0 only in the new" in out.stdout
    assert len(out.stdout.splitlines()) <= 3  # a summary, not 250 "removed" lines
    same = harness(tmp_path, "diff", "part/results.csv", "part/results.csv", "-o", "d")
    assert same.returncode == 0 and "0 now fail" in same.stdout


@pytest.mark.parametrize(("expression", "kept"), [
    ("same", ["a-same[stride=1]", "a-same[stride=2]"]),
    ("valid or stride=2", ["a-same[stride=2]", "b-valid[stride=1]", "b-valid[stride=2]"]),
    ("same and not stride=2", ["a-same[stride=1]"]),
    ("not (same or valid)", ["c-full"]),
    ("SAME", ["a-same[stride=1]", "a-same[stride=2]"]),
])
def test_k_takes_pytest_expressions(expression: str, kept: list[str]) -> None:
    ids = ["a-same[stride=1]", "a-same[stride=2]", "b-valid[stride=1]", "b-valid[stride=2]", "c-full"]
    test = keyword_test(expression)
    assert [i for i in ids if test(i)] == kept


@pytest.mark.parametrize("expression", ["", "a and", "(a or b", "a b", "or a", "not"])
def test_a_bad_k_expression_is_bad_input(expression: str) -> None:
    with pytest.raises(BadInput, match="^-k "):
        keyword_test(expression)


def test_k_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(
        "cases:\n  - id: a\n    in_channels: 1\n    input_size: 4\n    out_channels: 1\n    kernel_size: 1\n"
        "    matrix:\n      stride: [1, 2]\n  - id: b\n    in_channels: 1\n    input_size: 4\n    out_channels: 1\n"
        "    kernel_size: 1\n")
    out = harness(tmp_path, "list", "-k", "a[stride=1] or b")
    assert out.returncode == 0 and out.stdout.split() == ["a[stride=1]", "b"]
    bad = harness(tmp_path, "run", "-k", "a or")
    assert bad.returncode == 2 and bad.stderr.startswith("error: -k 'a or': the expression ends too early")
    assert not (tmp_path / "reports").exists()


def test_rows_read_back_from_csv_keep_their_verdict(tmp_path: Path) -> None:
    report.write_reports(sample_rows(), tmp_path, ENV)
    back = results_csv.read_csvs([tmp_path / "results.csv"])
    assert back["verdict"].tolist() == [r.verdict for r in sample_rows()]
    assert Row.from_record(back.astype(object).iloc[3].to_dict()).verdict == "not applicable"
