"""Converted artifacts memoised per program and operands: a repeat converts nothing, a change converts again,
a failed conversion is never served, and a changed converter invalidates the disk copy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.adapters.artifacts import memoised, tree_fingerprint


class Converter:
    """Counts its calls; its artifact spells the weights it was given."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: Any, w: Any, b: Any) -> bytes:
        self.calls += 1
        kernels = w if isinstance(w, tuple) else (w,)
        return b"".join(np.asarray(k, np.float32).tobytes() for k in kernels) + (b"" if b is None else b"+bias")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_the_same_weights_and_input_shape_convert_once(cache: Path) -> None:
    convert, stages = Converter(), ["run"]
    cached = memoised(convert, "program", "v1", stages)
    x, w = np.zeros((1, 2, 3)), np.arange(4.0)
    first = cached(x, w, None)
    assert cached(np.ones((1, 2, 3)), w.copy(), None) == first  # other input values, same shape: the same artifact
    assert convert.calls == 1 and stages == ["build", "convert"]
    cached(x, w + 1, None)  # other weights
    cached(np.zeros((1, 2, 4)), w, None)  # another input shape
    cached(x, w, np.zeros(2))  # a bias
    cached(x.astype(np.float32), w, None)  # another input dtype
    assert convert.calls == 5


def test_a_second_process_reads_the_artifact_from_disk(cache: Path) -> None:
    x, w = np.zeros((1, 2, 3)), (np.arange(4.0), np.ones(2))  # separable: a pair of kernels
    first = memoised(Converter(), "program", "v1", [])(x, w, None)
    again = Converter()
    assert memoised(again, "program", "v1", [])(x, w, None) == first and again.calls == 0
    for text, salt in (("another program", "v1"), ("program", "v2")):  # another program or converter version
        other = Converter()
        memoised(other, text, salt, [])(x, w, None)
        assert other.calls == 1
    assert len(list((cache / "artifacts").iterdir())) == 3


def test_a_failed_conversion_is_not_memoised(cache: Path) -> None:
    calls = []

    def failing(x: Any, w: Any, b: Any) -> bytes:
        calls.append(1)
        raise RuntimeError("converter refused")

    cached = memoised(failing, "program", "v1", [])
    for _ in range(2):
        with pytest.raises(RuntimeError, match="converter refused"):
            cached(np.zeros(2), np.zeros(2), None)
    assert len(calls) == 2 and not (cache / "artifacts").exists()


def test_without_a_cache_folder_artifacts_stay_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", "/proc/no-such-cache")
    convert = Converter()
    with pytest.warns(UserWarning, match="cannot be made"):
        cached = memoised(convert, "program", "v1", [])
    cached(np.zeros(2), np.zeros(2), None)
    cached(np.zeros(2), np.zeros(2), None)
    assert convert.calls == 1


def test_a_touched_converter_file_changes_the_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "fake_converter"
    (package / "passes").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    inner = package / "passes" / "conv.py"
    inner.write_text("PADS = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = tree_fingerprint(("fake_converter",))
    tree_fingerprint.cache_clear()
    os.utime(inner, ns=(1, os.stat(inner).st_mtime_ns + 10**9))  # a patched file deep in the package
    assert tree_fingerprint(("fake_converter",)) != before
    assert "missing" in tree_fingerprint(("no_such_converter_module",))
    tree_fingerprint.cache_clear()
