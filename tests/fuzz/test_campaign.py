"""The campaign finds a hidden fault, shrinks it, writes a case file that validates and passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from helpers import install_fake, make_case

from harness.fuzz.campaign import Campaign, round_severity
from harness.run.workers import Executor


def test_a_hidden_fault_is_found_shrunk_and_written(tmp_path: Path) -> None:
    env = install_fake(tmp_path)
    out = subprocess.run([sys.executable, "-m", "harness", "fuzz", "--time", "20", "--seed", "3", "-a", "numpy-engine",
                          "-o", "found"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    found = {}
    for path in sorted((tmp_path / "found").glob("*.yaml")):
        (case,) = yaml.safe_load(path.read_text())["cases"]
        found[path.name] = case
    wrong = [c for c in found.values() if "computes values out of bound" in c["doc"]]  # the doc says it in words
    assert wrong, found
    case = wrong[0]
    strides = case.get("stride", [1])
    assert 3 in (strides if isinstance(strides, list) else [strides])  # the hidden condition
    assert case.get("batch", 1) <= 1 and case["in_channels"] <= 2 and case["out_channels"] <= 2
    assert max(case["input_size"]) <= 4 and max(case["kernel_size"]) <= 2  # shrunk
    assert all("TODO" in e[next(iter(e))]["reason"] for e in case["expect"])  # a reason to fill in
    validate = subprocess.run([sys.executable, "-m", "harness", "validate", "found"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
    assert validate.returncode == 0, validate.stderr
    rerun = subprocess.run([sys.executable, "-m", "harness", "run", "found", "-o", "r"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout  # the written expectations hold
    assert (tmp_path / "reports" / "repro").is_dir()


def test_rounds_look_for_wrong_values_every_other_round() -> None:
    assert [round_severity(n) for n in range(10)] == [0, 1, 0, 2, 0, 3, 0, 4, 0, 1]


def test_fuzz_from_searches_the_neighbours_of_a_case(tmp_path: Path) -> None:
    """`--from`: a case just beside the hidden condition (stride 2, not 3): its neighbours reach it."""
    env = install_fake(tmp_path)
    (tmp_path / "base.yaml").write_text("cases:\n  - id: base\n    in_channels: 2\n    out_channels: 2\n"
                                        "    input_size: [7, 7]\n    kernel_size: 2\n    stride: [2, 1]\n")
    out = subprocess.run([sys.executable, "-m", "harness", "fuzz", "--from", "base.yaml", "--time", "10", "-a",
                          "numpy-engine", "-o", "found"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[wrong values] numpy-engine (forward) computes values out of bound" in out.stdout, out.stdout
    missing = subprocess.run([sys.executable, "-m", "harness", "fuzz", "--from", "nowhere.yaml", "--time", "1"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no such file or folder: nowhere.yaml" in missing.stderr


def test_only_the_pairs_that_differ_have_their_pads_measured(tmp_path: Path) -> None:
    """The first look runs without the probe; a pair that computed something else is run again with it, so its
    diagnosis reads the pads: SciPy's 'same' with a 2x4 kernel pads (1, 2) before where the reference pads (0, 1)
    (a shift); torch's matches and is measured no further."""
    case = make_case(id="even-same", op="convolve", input_size=[7, 8], kernel_size=[2, 4], padding="same")
    with Executor(timeout=60) as executor:
        campaign = Campaign(["scipy", "torch"], tmp_path, tmp_path, set(), executor, deadline=float("inf"))
        rows = {row.adapter: row for row in campaign.rows([case])[case.id]}
        assert executor.pads  # measured again for every later caller
    assert rows["scipy"].status == "mismatch" and rows["scipy"].diagnosis == "shift"
    scipy = rows["scipy"]
    assert (scipy.pad_top, scipy.pad_left, scipy.ref_pad_top, scipy.ref_pad_left) == (1, 2, 0, 1)
    assert rows["torch"].status == "match" and rows["torch"].pad_top is None
