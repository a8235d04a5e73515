"""Converted artifacts memoised by configuration: a route's `convert` runs once per program and operands.

The key is the program's text, the input's shape and dtype, the weights' and bias' bytes, and the route's fingerprint (its
versions and the modification times of the converters' installed files). Artifacts live in memory for the
process and on disk under the cache folder (cache.py), so the probe, the diagnosis and a second run
convert nothing again. A conversion that raises is not memoised: it fails again, the same way.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .cache import cache_dir

Convert = Callable[[Any, Any, Any], bytes]
MEMORY = 256  # artifacts a process keeps in memory (the library's probes and diagnoses reuse a few each)


@functools.cache
def tree_fingerprint(modules: tuple[str, ...]) -> str:
    """The installed modules' files: their folder, count and newest modification time (found, not imported)."""
    parts = []
    for module in modules:
        spec = importlib.util.find_spec(module)
        origin = spec.origin if spec is not None else None
        if origin is None:
            parts.append(f"{module}:missing")
            continue
        count, newest, stack = 0, 0, [os.path.dirname(origin)]
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.name.endswith(".py"):
                        count, newest = count + 1, max(newest, entry.stat().st_mtime_ns)
        parts.append(f"{module}:{os.path.dirname(origin)}:{count}:{newest}")
    return ";".join(parts)


def _operands(digest: Any, value: Any, values: bool = True) -> None:
    if isinstance(value, (tuple, list)):  # separable: (depthwise, pointwise)
        for part in value:
            _operands(digest, part)
        return
    if value is None:
        digest.update(b"none")
        return
    array = np.ascontiguousarray(value)
    digest.update(f"{array.shape}{array.dtype.str}".encode())
    if values:
        digest.update(array.tobytes())


def memoised(convert: Convert, text: str, salt: str, stages: list[str]) -> Convert:
    """`convert` answering a repeated (text, operands) from memory or disk; `stages` then reads as if it ran."""
    memory: dict[str, bytes] = {}
    folder = cache_dir()
    store = None if folder is None else folder / "artifacts"

    def cached(x: Any, w: Any, b: Any) -> bytes:
        digest = hashlib.sha256(salt.encode() + b"\0" + text.encode())
        _operands(digest, x, values=False)  # the artifact takes the input's shape and dtype, not its values
        for value in (w, b):
            _operands(digest, value)
        key = digest.hexdigest()
        path = None if store is None else store / key
        found = memory.get(key)
        if found is None and path is not None and path.is_file():
            found = path.read_bytes()
        if found is not None:
            stages[:] = ["build", "convert"]
            memory[key] = found
            return found
        artifact = convert(x, w, b)
        if len(memory) >= MEMORY:
            memory.pop(next(iter(memory)))
        memory[key] = artifact
        if path is not None:
            _save(path, artifact)
        return artifact

    return cached


def _save(path: Path, artifact: bytes) -> None:
    """Atomically (a parallel worker may read it); a cache that cannot be written is no cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(artifact)
        os.replace(partial, path)
    except OSError:
        pass
