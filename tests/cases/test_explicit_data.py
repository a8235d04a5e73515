"""Explicit data: a case's own arrays, inline or from an .npz beside the case file, checked at their line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from harness.cases.loading import load_cases
from harness.export.repro import write_bundle
from harness.model.data import make_tensors
from harness.truth.reference import reference

INLINE = """\
cases:
  - id: inline
    in_channels: 1
    out_channels: 1
    input_size: [4]
    kernel_size: 2
    layout: channels_first
    data:
      input: [[[0, 1, 2, 3]]]
      weights: [[[1, -1]]]
      bias: [0.5]
"""

NPZ = """\
cases:
  - id: from-npz
    in_channels: 2
    out_channels: 3
    input_size: [5, 4]
    kernel_size: 3
    padding: same
    data: {input: arrays/x.npz:x, weights: arrays/x.npz:w, bias: arrays/x.npz:b}
"""


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "c.yaml").write_text(textwrap.dedent(text))
    return folder / "c.yaml"


def npz_arrays(folder: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    arrays = {"x": rng.standard_normal((1, 2, 5, 4)), "w": rng.standard_normal((3, 2, 3, 3)), "b": np.arange(3.0)}
    (folder / "arrays").mkdir(parents=True, exist_ok=True)
    np.savez(folder / "arrays" / "x.npz", **arrays)
    return arrays


def test_inline_arrays_are_the_operands_and_the_reference_is_computed_by_hand(tmp_path: Path) -> None:
    result = load_cases([write(tmp_path, INLINE)])
    assert not result.problems, result.problems
    (case,) = result.cases
    t = make_tensors(case, case.seed)
    assert t.input.tolist() == [[[0.0, 1.0, 2.0, 3.0]]] and t.weights.tolist() == [[[1.0, -1.0]]]
    assert t.bias is not None and t.bias.tolist() == [0.5]
    out = reference(case, t).out
    assert out is not None and out.tolist() == [[[-0.5, -0.5, -0.5]]]  # x[i] - x[i+1] + 0.5


def test_an_npz_beside_the_case_file_is_read_from_any_folder(tmp_path: Path) -> None:
    arrays = npz_arrays(tmp_path / "cases")
    path = write(tmp_path / "cases", NPZ)
    (case,) = load_cases([path]).cases
    t = make_tensors(case, case.seed)
    assert np.array_equal(t.input, arrays["x"].astype(np.float32)) and np.array_equal(t.bias, arrays["b"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "-a", "torch,jax", "-o", "r"],
                         cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr  # the workers found the file too


@pytest.mark.parametrize(("data", "line", "message"), [
    ("{input: arrays/missing.npz:x}", 8, "data.input: no file arrays/missing.npz"),
    ("{input: arrays/x.npz:nope}", 8, "data.input: arrays/x.npz has no array 'nope' (it has x, w, b)"),
    ("{input: arrays/x.npz:w}", 8, "data.input: expected shape 1x2x5x4 for this case, got 3x2x3x3"),
    ("{weights: [[1, 2]]}", 8, "data.weights: expected shape 3x2x3x3 for this case, got 1x2"),
    ("{weights: [[1, true]]}", 8, "data.weights: an inline array holds numbers and lists only, got True"),
    ("{pointwise: [[1]]}", 8, "data.pointwise: only op: separable has a pointwise kernel; this case is op: conv"),
    ("{input: normall}", 8, "data.input: expected one of normal, uniform, integers, ones, arange, FILE.npz:KEY or "
                            "an inline list, got 'normall' (did you mean 'normal'?)"),
])
def test_what_is_wrong_with_an_array_is_said_at_its_line(tmp_path: Path, data: str, line: int, message: str) -> None:
    npz_arrays(tmp_path)
    path = write(tmp_path, NPZ.replace("data: {input: arrays/x.npz:x, weights: arrays/x.npz:w, bias: arrays/x.npz:b}",
                                       f"data: {data}"))
    problems = [str(p) for p in load_cases([path]).problems]
    assert any(f":{line}: case 'from-npz': {message}" in p for p in problems), problems


def test_separable_takes_its_two_kernels_inline_and_computes_them_by_hand(tmp_path: Path) -> None:
    """Depthwise [1, -1] per channel (multiplier 1), pointwise [2, 3]: y = 2 (x0[i] - x0[i+1]) + 3 (x1[i] - x1[i+1]) + 0.5."""
    text = INLINE.replace("in_channels: 1", "in_channels: 2").replace("id: inline", "id: sep\n    op: separable").replace(
        "      input: [[[0, 1, 2, 3]]]\n      weights: [[[1, -1]]]",
        "      input: [[[0, 1, 2, 3], [0, 2, 4, 6]]]\n      weights: [[[1, -1]], [[1, -1]]]\n      pointwise: [[[2], [3]]]")
    result = load_cases([write(tmp_path, text)])
    assert not result.problems, result.problems
    (case,) = result.cases
    out = reference(case, make_tensors(case, case.seed)).out
    assert out is not None and out.tolist() == [[[-7.5, -7.5, -7.5]]]  # 2 * -1 + 3 * -2 + 0.5
    wrong = write(tmp_path / "wrong", text.replace("pointwise: [[[2], [3]]]", "pointwise: [[2, 3]]"))
    problems = [str(p) for p in load_cases([wrong]).problems]
    assert any("data.pointwise: expected shape 1x2x1 for this case, got 1x2" in p for p in problems), problems


def test_a_bias_array_for_a_case_without_bias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, INLINE.replace("    data:", "    bias: false\n    data:"))
    problems = [str(p) for p in load_cases([path]).problems]
    assert any("data.bias: this case has bias: false" in p for p in problems), problems


def test_a_repro_bundle_carries_the_arrays_and_its_case_reads_them_back(tmp_path: Path) -> None:
    npz_arrays(tmp_path / "cases")
    (case,) = load_cases([write(tmp_path / "cases", NPZ)]).cases
    write_bundle(case, ["jax"], tmp_path / "bundle")
    text = (tmp_path / "bundle" / "case.yaml").read_text()
    assert "data.npz:input" in text and "x.npz" not in text  # the arrays travel in the bundle, not as a path here
    (again,) = load_cases([tmp_path / "bundle" / "case.yaml"]).cases
    first, second = make_tensors(case, case.seed), make_tensors(again, again.seed)
    assert np.array_equal(first.input, second.input) and np.array_equal(first.weights, second.weights)
    assert first.bias is not None and second.bias is not None and np.array_equal(first.bias, second.bias)


def test_rewritten_arrays_change_what_resume_keeps(tmp_path: Path) -> None:
    """A row stays true only while its case computes the same: the .npz's contents count, not only its name."""
    from harness.judge.judge import fingerprint

    npz_arrays(tmp_path)
    path = write(tmp_path, NPZ)
    (before,) = load_cases([path]).cases
    stored = fingerprint(before)  # what a row of the earlier run holds
    np.savez(tmp_path / "arrays" / "x.npz", x=np.ones((1, 2, 5, 4)), w=np.ones((3, 2, 3, 3)), b=np.zeros(3))
    (after,) = load_cases([path]).cases
    assert before.data == after.data and stored != fingerprint(after)
    (inline,) = load_cases([write(tmp_path / "inline", INLINE)]).cases
    assert fingerprint(inline) == fingerprint(inline.model_copy())  # no files: as before
