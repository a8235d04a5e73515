"""Files written whole or not at all: a full disk or an interrupt never leaves half a report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str | bytes) -> Path:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    return atomic_write_all({path: text})[0]


def atomic_write_all(files: dict[Path, str | bytes]) -> list[Path]:
    """Every file written to a temporary beside it first, then all renamed: a full disk or an
    interrupt while writing leaves the earlier files as they were, never a new results.csv
    beside an old report.html."""
    umask = os.umask(0)
    os.umask(umask)
    temps: dict[Path, str] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temps[path] = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.chmod(temps[path], 0o666 & ~umask)  # mkstemp makes 0600; a report is meant to be shared
            if isinstance(text, bytes):
                with os.fdopen(fd, "wb") as binary:
                    binary.write(text)
            else:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
        for path, tmp in temps.items():
            os.replace(tmp, path)
    except BaseException:
        for tmp in temps.values():
            Path(tmp).unlink(missing_ok=True)
        raise
    return list(files)
