"""results.csv columns and types, atomic writes, the HTML report's content, report/merge/diff commands."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
from pathlib import Path

import pytest
from rows import sample_rows

from harness import atomic
from harness.cli import main
from harness.report import write as report
from harness.report.html import render_html
from harness.results import csv_codec as results_csv
from harness.results.rows import COLUMNS

ENV = {"python": "3.11", "date": "today"}


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


SPEC_COLUMNS = (  # the documented results.csv contract (docs/reports.md), in this order
    "case_id, file, adapter, status, expected, passed, mismatch_on, realization, dtype, ref_shape, out_shape, "
    "pad_top, pad_bottom, pad_left, pad_right, ref_pad_top, ref_pad_bottom, ref_pad_left, ref_pad_right, "
    "pad_asymmetric, param_count, expected_param_count, max_abs_err, max_rel_err, err_bound_ratio, error_type, "
    "error_message, reason, seconds, framework_version, op, rank, pad_front, pad_back, ref_pad_front, ref_pad_back, "
    "pass, precision, strict_err_bound_ratio, device, dx_err_bound_ratio, dw_err_bound_ratio, dpw_err_bound_ratio, db_err_bound_ratio"
).split(", ")


def test_the_documented_columns_come_first_in_order() -> None:
    assert COLUMNS[: len(SPEC_COLUMNS)] == tuple(SPEC_COLUMNS)


def test_csv_has_the_spec_columns_in_order_and_plain_values(tmp_path: Path) -> None:
    report.write_reports(sample_rows(), tmp_path, ENV)
    rows = read_rows(tmp_path / "results.csv")
    assert list(rows[0])[: len(COLUMNS)] == list(COLUMNS)
    torch, keras, jax = rows[:3]
    assert (torch["status"], torch["passed"], torch["pad_top"], torch["out_shape"]) == ("error", "false", "", "")
    assert torch["ref_shape"] == "1x3x4x4" and torch["ref_pad_top"] == "1" and torch["ref_pad_bottom"] == "2"
    assert (keras["status"], keras["passed"], keras["pad_bottom"], keras["pad_asymmetric"]) == ("match", "true", "2", "true")
    assert keras["param_count"] == keras["expected_param_count"] == str(3 * (4 * 4 * 2 + 1))
    assert (jax["status"], jax["mismatch_on"]) == ("mismatch", "values") and float(jax["err_bound_ratio"]) > 1
    assert jax["worst_index"] == "0x1x2x2" and jax["diff_map"]


def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "results.csv"
    atomic.atomic_write(target, "old")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic.atomic_write(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_html_is_self_contained_and_answers_first() -> None:
    page = render_html(results_csv.frame(sample_rows()), ENV)
    assert page.startswith("<!doctype html>") and page.endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched at view time
    assert ("<b>2 failing; the frameworks agree on 2 of 5 pairs, differ on 0 (recorded), 1 not applicable</b>"
            in page)
    assert "5 pairs = 5 forward + 0 backward, from 2 cases and 3 adapters" in page
    order = [page.index(f'id="{part}"') for part in ("verdict", "failing", "differences", "limits", "statuses",
                                                     "environment", "cases")]
    assert order == sorted(order)
    assert '<details id="environment">' in page  # collapsed
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))
    strings = data["strings"]
    cases = [dict(zip(data["case_fields"], c)) for c in data["cases"]]
    rows = [{**cases[r[0]], **dict(zip(data["row_fields"], r[1:]))} for r in data["rows"]]
    assert [strings[c["case_id"]] for c in cases] == ["sample-same", "sample-circular"]  # failing cases first
    assert len(rows) == 5 and {strings[r["adapter"]] for r in rows} == {"torch", "keras", "jax"}
    assert "padding='same' is not supported for strided convolutions" in strings
    assert any(r.get("diff_map") is not None for r in rows)  # the value mismatch carries its heat map


def test_page_size_grows_slowly_with_the_number_of_pairs() -> None:
    """1,500 pairs (more than the shipped library's 1,428) stay well under the 600 kB budget."""
    base = sample_rows()
    rows = [dataclasses.replace(r, case_id=f"{r.case_id}-{i}") for i in range(300) for r in base]
    size = len(render_html(results_csv.frame(rows), ENV).encode())
    assert size < 600_000, size


def test_a_run_with_no_cases_writes_a_report_that_says_so(tmp_path: Path) -> None:
    report.write_reports([], tmp_path, ENV)
    assert "No cases ran" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "results.csv").read_text().strip() == ",".join(COLUMNS)


def test_report_and_merge_from_csvs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = sample_rows()
    report.write_reports(rows[:3], tmp_path / "a", ENV)
    report.write_reports(rows[3:], tmp_path / "b", ENV)
    assert main(["report", str(tmp_path / "a" / "results.csv"), "-o", str(tmp_path / "r")]) == 0
    assert "sample-same" in (tmp_path / "r" / "report.html").read_text()
    code = main(["merge", str(tmp_path / "a" / "results.csv"), str(tmp_path / "b" / "results.csv"), "-o", str(tmp_path / "m")])
    assert code == 1  # the merged runs hold failing pairs
    merged = read_rows(tmp_path / "m" / "results.csv")
    assert [(r["case_id"], r["adapter"]) for r in merged] == [(r.case_id, r.adapter) for r in rows]
    whole = tmp_path / "whole"
    report.write_reports(rows, whole, ENV)
    assert [{k: r[k] for k in COLUMNS} for r in merged] == [{k: r[k] for k in COLUMNS} for r in read_rows(whole / "results.csv")]


def test_diff_lists_changed_added_and_removed_pairs(tmp_path: Path) -> None:
    rows = sample_rows()
    report.write_reports(rows[:4], tmp_path / "old", ENV)
    changed = [dataclasses.replace(r) for r in rows[1:]]
    changed[0].status, changed[0].pad_bottom = "mismatch", 1
    report.write_reports(changed, tmp_path / "new", ENV)
    assert main(["diff", str(tmp_path / "old" / "results.csv"), str(tmp_path / "new" / "results.csv"), "-o", str(tmp_path / "d")]) == 1
    diff = read_rows(tmp_path / "d" / "diff.csv")
    summary = {(d["case_id"], d["adapter"], d["change"], d["field"]) for d in diff}
    assert ("sample-same", "torch", "removed", "") in summary
    assert ("sample-circular", "jax", "added", "") in summary
    assert ("sample-same", "keras", "changed", "status") in summary and ("sample-same", "keras", "changed", "pad_bottom") in summary
    assert "What changed" in (tmp_path / "d" / "diff.html").read_text()


def test_a_failed_write_leaves_every_earlier_file_as_it_was(tmp_path: Path) -> None:
    """Both reports are written to temporaries first: no new results.csv beside an old report.html."""
    from harness.atomic import atomic_write_all

    (tmp_path / "results.csv").write_text("old")
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(OSError):
        atomic_write_all({tmp_path / "results.csv": "new", tmp_path / "blocker" / "report.html": "new"})
    assert (tmp_path / "results.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "results.csv"]  # no temporaries left


def test_a_full_disk_at_the_report_is_one_line_and_keeps_the_journal(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from harness.cases.loading import load_cases
    from harness.report import html
    from harness.run.loop import run_command

    (tmp_path / "c.yaml").write_text("cases:\n  - {id: a, in_channels: 1, out_channels: 1, kernel_size: 1, "
                                     "input_size: 3, adapters: [scipy]}\n")

    def full(*args: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(html, "render_html", full)
    code = run_command(load_cases([tmp_path / "c.yaml"]), str(tmp_path / "out"), None, argv=["harness"])
    assert code == 2 and not (tmp_path / "out" / "results.csv").exists()
    assert (tmp_path / "out" / "journal.jsonl").read_text().count("\n") == 1


def test_first_screen_groups_one_cause_into_one_row_and_keeps_limits_apart() -> None:
    rows = sample_rows()
    recorded = dataclasses.replace(rows[0], expected="error", passed=True, verdict="differ",
                                   reason="torch refuses strided same. A long story follows here.")
    twins = [dataclasses.replace(recorded, case_id=f"twin-{i}", adapter=a, reason=f"Wording {i}.")
             for i, a in enumerate(("torch", "torch-functional", "torch"))]
    page = render_html(results_csv.frame([*rows[1:], recorded, *twins]), ENV)
    table = page[page.index('id="differences"'):page.index('id="limits"')]
    assert table.count("<tr><td>") == 1 and "torch, torch-functional" in table  # one cause, one row
    assert "<summary>torch refuses strided same.</summary>" in table and "A long story follows here." in table
    assert "<p>Wording 1.</p>" in table  # every wording of the cause, in full
    assert "…" not in table  # the full text is there, on demand
    limits = page[page.index('id="limits"'):page.index('id="statuses"')]
    assert "keras has no pad mode" in limits and "keras has no pad mode" not in table
    failing = page[page.index('id="failing"'):page.index('id="differences"')]
    assert "<th>pass</th>" in failing and "forward" in failing
