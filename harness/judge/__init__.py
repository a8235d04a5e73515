"""Judging an outcome against the truth: the row, the diagnosis of a mismatch, the verdict."""
