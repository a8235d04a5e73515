"""What a user reads: results.csv and report.html, the differences table, diffs between runs, pytest failures."""
