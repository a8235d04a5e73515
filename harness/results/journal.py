"""Rows reach disk as pairs finish: an append-only JSON-lines journal beside the reports.

An interrupted run (Ctrl-C, SIGTERM, a dead machine) keeps every finished pair there;
`run --resume` reads it (and an earlier results.csv) and runs only the pairs missing. The
journal is removed once a complete results.csv has been written.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .rows import Row

NAME = "journal.jsonl"
SYNC_EVERY = 1.0  # seconds between fsyncs: every row is flushed, the disk is synced at most once a second


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


class Journal:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / NAME
        self.handle: TextIO = self.path.open("a", encoding="utf-8")
        self.synced = time.monotonic()
        self.failed = False

    def add(self, row: Row) -> None:
        """Append one row; a journal that cannot be written (a full disk) is said once and the run
        goes on with its rows in memory."""
        if self.failed:
            return
        try:
            self.handle.write(json.dumps(row.record(), default=_plain) + "\n")
            self.handle.flush()
            if time.monotonic() - self.synced >= SYNC_EVERY:
                os.fsync(self.handle.fileno())
                self.synced = time.monotonic()
        except OSError as exc:
            self.failed = True
            print(f"warning: cannot write {self.path} ({exc.strerror}); the run goes on, but an interruption "
                  "now keeps nothing", file=sys.stderr)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.flush()
            os.fsync(self.handle.fileno())
        with contextlib.suppress(OSError):
            self.handle.close()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def read(folder: Path) -> tuple[list[Row], int]:
    """Rows of an earlier, interrupted run, and how many lines were not rows: a torn last line (the
    machine died mid-write), bad UTF-8, JSON that is no row (`null`, `[1, 2]`, a row missing a
    required column or with a column of the wrong kind) are skipped, never a crash."""
    path = folder / NAME
    rows: list[Row] = []
    skipped = 0
    if not path.is_file():
        return rows, skipped
    for line in path.read_bytes().splitlines():
        try:
            row = Row.from_record(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, ValueError, TypeError, AttributeError):
            skipped += 1
            continue
        if valid(row):
            rows.append(row)
        else:
            skipped += 1
    return rows, skipped


def valid(row: Row) -> bool:
    """The required columns are there with the right kinds (what from_record cannot check)."""
    texts = (row.case_id, row.file, row.adapter, row.status, row.expected, row.pass_)
    return all(isinstance(t, str) for t in texts) and isinstance(row.passed, bool)
