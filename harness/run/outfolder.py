"""The output folder of a run: checked before any work, and locked while the run writes to it.

Two runs writing into one folder lose rows: one deletes the journal the other appends to, and
`--resume` afterwards reads the wrong run's rows. The run holds an exclusive `flock` on
`DIR/.lock` (released by the kernel however the run ends, `kill -9` included); a second run
gets one line naming the first one's pid and exit 2, and touches nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ..problems import BadInput

LOCK = ".lock"


def usable(folder: Path) -> None:
    """A folder the run can create and write in, or one clear line (BadInput) before any work."""
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"-o {folder}: is a file, not a folder; name a folder for the reports")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"-o {folder}: cannot create the folder ({exc.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"-o {folder}: cannot write in this folder (permission denied)")


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the folder for this run; BadInput when another run holds it. A folder made here for a
    command that then fails (bad input found later) is removed again: nothing is left written. Only
    the run holding the lock cleans up, so a run refused here never removes another run's lock."""
    created = not folder.exists()
    usable(folder)
    try:
        handle = open(folder / LOCK, "a+", encoding="utf-8")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise BadInput(f"-o {folder}: cannot write in this folder ({exc.strerror})") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise BadInput(f"another run (pid {holder}) is writing to {folder}/; wait for it, or give this one "
                           "another -o") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        except BaseException:
            if created:
                with contextlib.suppress(OSError):
                    (folder / LOCK).unlink(missing_ok=True)
                    folder.rmdir()  # only if nothing else was written there
            raise
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
