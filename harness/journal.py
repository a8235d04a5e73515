"""Rows reach disk as pairs finish: an append-only JSON-lines journal beside the reports.

An interrupted run (Ctrl-C, SIGTERM, a dead machine) keeps every finished pair there;
`run --resume` reads it (and an earlier results.csv) and runs only the pairs missing. The
journal is removed once a complete results.csv has been written.
"""

from __future__ import annotations

import json
import os
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

    def add(self, row: Row) -> None:
        self.handle.write(json.dumps(row.record(), default=_plain) + "\n")
        self.handle.flush()
        if time.monotonic() - self.synced >= SYNC_EVERY:
            os.fsync(self.handle.fileno())
            self.synced = time.monotonic()

    def close(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def read(folder: Path) -> list[Row]:
    """Rows of an earlier, interrupted run; a torn last line (the machine died mid-write) is skipped."""
    path = folder / NAME
    rows: list[Row] = []
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        rows.append(Row.from_record(record))
    return rows
