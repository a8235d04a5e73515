"""Explicit data read where the case file is: each array found, loaded and checked against the case.

A `FILE.npz:KEY` is resolved against the case file's folder and stored as an absolute path, so
workers (any current directory) load the same file; its array must exist, be numeric and have the
operand's shape for this case (after the matrix: a matrix over sizes needs arrays of each shape).
"""

from __future__ import annotations

import functools
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..model.datasource import NPZ_KEY, is_kind
from ..model.ops import input_shape, pointwise_shape, weight_shape
from ..model.schema import Conv


def shapes(conv: Conv) -> dict[str, tuple[int, ...] | None]:
    """Each operand's shape for this case; None for the pointwise kernel of a one-kernel op."""
    return {"input": input_shape(conv), "weights": weight_shape(conv), "pointwise": pointwise_shape(conv),
            "bias": (conv.out_channels,)}


def _load(source: str, folder: Path) -> tuple[str, np.ndarray]:
    """(the source with an absolute path, its array), or ValueError saying what is wrong."""
    match = NPZ_KEY.fullmatch(source)
    assert match is not None
    path = (folder / match["path"]).resolve()
    if not path.is_file():
        raise ValueError(f"no file {match['path']} (looked for {path})")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if match["key"] not in archive.files:
                raise ValueError(f"{match['path']} has no array {match['key']!r} (it has {', '.join(archive.files)})")
            array = np.asarray(archive[match["key"]])
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{match['path']} is not an .npz archive ({type(exc).__name__})") from None
    return f"{path}:{match['key']}", array


def read_explicit(conv: Conv, folder: Path) -> tuple[Conv, list[tuple[str, str]]]:
    """The case with its npz paths made absolute, and (operand, problem) for each array that is wrong."""
    problems: list[tuple[str, str]] = []
    resolved: dict[str, Any] = {}
    for name, shape in shapes(conv).items():
        source = getattr(conv.data, name)
        if source is None or is_kind(source):
            continue
        if name == "bias" and not conv.bias:
            problems.append((name, "this case has bias: false; remove data.bias or set bias: true"))
            continue
        if shape is None:
            problems.append((name, f"only op: separable has a pointwise kernel; this case is op: {conv.op}"))
            continue
        try:
            if isinstance(source, str):
                resolved[name], array = _load(source, folder)
            else:
                array = np.asarray(source, dtype=np.float64)
        except ValueError as exc:
            problems.append((name, str(exc)))
            continue
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
            problems.append((name, f"expected real numbers, got an array of {array.dtype}"))
        elif array.shape != shape:
            shown = "x".join(map(str, array.shape)) or "a scalar"
            problems.append((name, f"expected shape {'x'.join(map(str, shape))} for this case, got {shown}"))
    if resolved:
        conv = conv.model_copy(update={"data": conv.data.model_copy(update=resolved)})
    return conv, problems


@functools.cache
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    """One file's content digest, read once per (path, mtime, size): a model's weights are megabytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def data_digest(conv: Conv) -> str:
    """What the case's `.npz` files hold, so a row of a case whose arrays changed (a model retrained, an
    archive rewritten) is never kept by --resume; '' for a case with no array files."""
    digests = []
    for name in shapes(conv):
        match = NPZ_KEY.fullmatch(source) if isinstance(source := getattr(conv.data, name), str) else None
        if match is not None and Path(match["path"]).is_file():
            stat = Path(match["path"]).stat()
            digests.append(_file_digest(match["path"], stat.st_mtime_ns, stat.st_size))
    return ",".join(digests)
