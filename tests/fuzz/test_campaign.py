"""The campaign finds a hidden fault, shrinks it, writes a case file that validates and passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import install_fake

from harness.fuzz import campaign as campaign_module
from harness.fuzz.campaign import Campaign, round_severity
from harness.results.rows import Row


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



def test_shrinking_asks_only_the_adapters_of_the_find_and_the_shrunk_case_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new kind in numpy-engine: the next steps (hypothesis shrinking) run numpy-engine alone; the shrunk case
    then runs in the rest (its expect: records every adapter), not in numpy-engine again."""
    asked: list[tuple[list[str] | None, frozenset[tuple[str, str]]]] = []

    def rows_probing_differences(cases, adapters, executor, done):  # type: ignore[no-untyped-def]
        asked.append((adapters, done))
        names = adapters or ["numpy-engine", "scipy"]
        return {case.id: [Row(case_id=case.id, file="f", adapter=name, status="mismatch" if name == "numpy-engine"
                              else "match", expected="match", passed=name != "numpy-engine", ref_shape="1x1x2x2",
                              mismatch_on="values" if name == "numpy-engine" else None)
                          for name in names if (case.id, name) not in done] for case in cases}

    monkeypatch.setattr(campaign_module, "rows_probing_differences", rows_probing_differences)
    monkeypatch.setattr(campaign_module, "target", lambda *args, **kwargs: None)  # hypothesis' steering, not tested here
    campaign = Campaign(None, tmp_path, tmp_path, set(), None, deadline=float("inf"))  # type: ignore[arg-type]
    fields = {"in_channels": 1, "out_channels": 1, "input_size": [3, 3], "kernel_size": [2, 2]}
    with pytest.raises(campaign_module.NewKind):
        campaign.check([fields])
    assert campaign.focus == ["numpy-engine"] and asked[0][0] is None
    with pytest.raises(campaign_module.NewKind):
        campaign.check([{**fields, "input_size": [2, 2]}])
    assert asked[1][0] == ["numpy-engine"]
    assert campaign.last is not None
    rows = campaign.complete(campaign.last[0])
    assert campaign.focus is None and asked[2][0] is None
    assert {row.adapter for row in rows} == {"numpy-engine", "scipy"} and len(rows) == 2
    assert asked[2][1] == {(campaign.last[0].id, "numpy-engine")}  # not run again


def test_the_gradients_of_a_wrong_forward_pass_are_not_a_find_of_their_own(tmp_path: Path) -> None:
    """flax's strided 'same' reflect pads the wrong side (recorded): its gradients differ as a consequence, as a refused
    forward pass' backward repeats the refusal; a backward mismatch over a forward that matches is still a find."""
    campaign = Campaign(None, tmp_path, tmp_path, set(), None, deadline=float("inf"))  # type: ignore[arg-type]

    def row(pass_: str, status: str, mismatch_on: str | None, case_id: str = "c") -> Row:
        return Row(case_id=case_id, file="f", adapter="flax", pass_=pass_, status=status, expected="match",
                   passed=status == "match", ref_shape="1x1x1", mismatch_on=mismatch_on)

    consequence = [row("forward", "mismatch", "values"), row("backward", "mismatch", "dx;dw")]
    assert [r.pass_ for r in campaign.new(consequence)] == ["forward"]
    campaign.level = 4  # a round that takes every severity
    refused = [row("forward", "error", None, "e"), row("backward", "error", None, "e")]  # onnx2tf's SAME_LOWER refusal
    assert [r.pass_ for r in campaign.new(refused)] == ["forward"]
    alone = [row("forward", "match", None, "d"), row("backward", "mismatch", "dx;dw", "d")]
    assert [r.pass_ for r in campaign.new(alone)] == ["backward"]


def test_a_failure_that_does_not_replay_ends_the_round_with_its_find(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """hypothesis replays the smallest failing example; where a worse kind met while shrinking has raised the bar
    since, that example no longer fails (hypothesis' FlakyFailure): the round keeps its last failure, no traceback."""
    calls: list[list[dict]] = []
    failed: list[str] = []

    def check(self: Campaign, batch: list[dict]) -> None:  # fails once, never again
        calls.append(batch)
        self.run(batch)
        key = json.dumps(batch[0], sort_keys=True)
        if not failed and key in self.seen:  # (past the deadline a case is not run)
            failed.append(key)
            self.last = self.seen[key]
            raise campaign_module.NewKind("first")

    def rows_probing_differences(cases, adapters, executor, done):  # type: ignore[no-untyped-def]
        return {case.id: [Row(case_id=case.id, file="f", adapter="numpy-engine", status="mismatch", expected="match",
                              passed=False, ref_shape="1x1x2x2", mismatch_on="values")] for case in cases}

    monkeypatch.setattr(Campaign, "check", check)
    monkeypatch.setattr(campaign_module, "rows_probing_differences", rows_probing_differences)
    search = campaign_module.fuzz(3.0, 0, ["numpy-engine"], tmp_path / "found", [], tmp_path / "repro")
    assert [found.severity for found in search.found] == [0] and failed and len(calls) > 2
    assert search.pairs == search.cases >= 1  # one pair per case tried: the throughput line counts them


def test_a_recorded_divergence_met_again_is_named_not_new(tmp_path: Path) -> None:
    """The library's Keras bias bug met by the search: not written, but named with its case in the summary."""
    from harness.fuzz.kinds import kind_of
    from harness.fuzz.summary import Search

    def row(case_id: str, mismatch_on: str) -> Row:
        return Row(case_id=case_id, file="fuzz", adapter="keras", status="mismatch", expected="match", passed=False,
                   ref_shape="1x3x3", mismatch_on=mismatch_on, diagnosis="bias")

    library = {kind_of(row("c", "values")): "cases/dtypes_layouts.yaml: keras-bias-on-the-last-axis[op=conv]"}
    campaign = Campaign(None, tmp_path, tmp_path, library, None, deadline=float("inf"))  # type: ignore[arg-type]
    campaign.note_recorded([row("a", "values"), row("b", "values"), row("b", "shape")])
    assert campaign.new([row("a", "values")]) == []  # never new
    (case, (worst, what, count)), = campaign.met.items()
    assert case == library[kind_of(row("c", "values"))] and count == 2 and what.startswith("keras (forward) computes values")
    assert worst == 0
    others = {f"cases/e.yaml: e{n}": (3, "torch (forward) raises ValueError: no", 50) for n in range(12)}
    text = str(Search([], {**others, **campaign.met}, cases=10, pairs=40, seconds=4.0, spent={"keras": 3.0, "torch": 1.0}))
    lines = text.splitlines()
    assert lines[1] == "13 divergence(s) the case library records, met again, worst first (not new; the case explains it):"
    assert "keras-bias-on-the-last-axis" in lines[2] and "[wrong values] (2 pairs)" in lines[2]  # worst first, not most met
    assert lines[-2] == "  and 3 more"
    assert text.endswith("10 cases, 40 pairs in 4 s: 2.5 cases/s, 10.0 pairs/s; the workers' time: keras 75%, torch 25%")


def test_finds_rank_by_severity_then_by_how_far_out_of_bound(tmp_path: Path) -> None:
    """torch's float16 transposed forward (11 times the bound) above its backward dw (1.02 times), both a lower
    precision's; a wrong value no precision explains above both, an error (no finite ratio) last."""
    from harness.fuzz.summary import Found

    def row(ratio: float | None, diagnosis: str, status: str = "mismatch") -> Row:
        return Row(case_id="c", file="f", adapter="torch", status=status, expected="match", passed=False,
                   ref_shape="1x1x2x4", mismatch_on="values" if status == "mismatch" else None, err_bound_ratio=ratio,
                   diagnosis=diagnosis)

    finds = [Found.of(tmp_path / name, r) for name, r in [
        ("dw", row(1.02, "precision")), ("error", row(None, "", "error")), ("forward", row(11.0, "precision")),
        ("bias", row(3.0, "bias")), ("inf", row(float("inf"), "unexplained"))]]
    assert [f.path.name for f in sorted(finds, key=Found.rank)] == ["bias", "inf", "forward", "dw", "error"]
