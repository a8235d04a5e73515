"""What a run produced: outcomes, rows, the journal, the results-CSV codec, the environment block."""
