"""results.csv read back as written: ids and texts stay strings, whatever they look like."""

from __future__ import annotations

from pathlib import Path

from harness.results.csv_codec import csv_text, frame, read_csv
from harness.results.rows import Row


def test_ids_that_look_like_numbers_stay_as_written(tmp_path: Path) -> None:
    rows = [Row(case_id=i, file="f.yaml", adapter="torch", status="match", expected="match", passed=True)
            for i in ("0", "007", "1e5")]
    path = tmp_path / "results.csv"
    path.write_text(csv_text(frame(rows)))
    assert list(read_csv(path)["case_id"]) == ["0", "007", "1e5"]
