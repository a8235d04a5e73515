"""Running cases: failures are isolated, missing frameworks skip or fail, exit codes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from helpers import make_case

from harness.adapters.registry import adapter_names, get_adapter
from harness.cases.loading import adapters_for, load_cases
from harness.results.outcome import Outcome
from harness.results.rows import COLUMNS
from harness.run import loop as runloop
from harness.run import pair as runner


class Boom(Exception):
    pass


def test_a_framework_raising_anything_becomes_an_error_row(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = get_adapter("jax")
    monkeypatch.setattr(type(adapter), "available", classmethod(lambda cls: True))
    monkeypatch.setattr(adapter, "ensure_setup", lambda: None)
    monkeypatch.setattr(adapter, "version", lambda: "jax test")
    monkeypatch.setattr(adapter, "device_name", lambda: "cpu")

    def explode(conv, plan=None):
        raise Boom("kaboom")

    monkeypatch.setattr(adapter, "realise", explode)
    rows = runner.run_case(make_case(), only=["jax"])
    assert [(r.status, r.error_type, r.error_message) for r in rows] == [("error", "Boom", "kaboom")]


def test_a_broken_install_is_an_error_for_its_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = get_adapter("keras")
    monkeypatch.setattr(type(adapter), "available", classmethod(lambda cls: True))
    monkeypatch.setattr(adapter, "_ready", False)

    def broken() -> None:
        raise ImportError("libfoo.so: cannot open shared object file")

    monkeypatch.setattr(adapter, "setup", broken)
    (row,) = runner.run_case(make_case(), only=["keras"])
    assert row.status == "error" and "setting up keras: libfoo.so" in row.error_message


def test_missing_framework_skips_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = get_adapter("torch")
    monkeypatch.setattr(type(adapter), "available", classmethod(lambda cls: False))
    monkeypatch.delenv("HARNESS_FRAMEWORKS", raising=False)
    (row,) = runner.run_case(make_case(), only=["torch"])
    assert row.status == "skipped" and row.passed and row.error_message == "torch is not installed"
    monkeypatch.setenv("HARNESS_FRAMEWORKS", "torch,keras")
    (row,) = runner.run_case(make_case(), only=["torch"])
    assert row.status == "error" and not row.passed and "HARNESS_FRAMEWORKS" in row.error_message


def test_adapters_for_respects_case_and_option() -> None:
    assert adapters_for(make_case()) == list(adapter_names())
    assert {"torch", "torch-functional", "keras", "jax", "scipy", "onnxruntime"} <= set(adapter_names())
    assert adapters_for(make_case(adapters=["jax", "torch"]), ["torch"]) == ["torch"]


def test_run_command_writes_the_spec_columns_and_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jax")
    (tmp_path / "c.yaml").write_text(
        "cases:\n  - id: ok\n    in_channels: 1\n    input_size: 5\n    out_channels: 2\n    kernel_size: 3\n"
        "  - id: recorded-wrongly\n    in_channels: 1\n    input_size: 5\n    out_channels: 2\n    kernel_size: 3\n"
        "    expect: {jax: error}\n")
    loaded = load_cases([tmp_path])
    out = tmp_path / "out"
    assert runloop.run_command(loaded, str(out), ["jax"], argv=["harness", "run"]) == 1
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[: len(COLUMNS)] == list(COLUMNS)
    assert [(r["case_id"], r["status"], r["expected"], r["passed"]) for r in rows] == [
        ("ok", "match", "match", "true"), ("recorded-wrongly", "match", "error", "false")]
    assert rows[0]["ref_shape"] == "1x2x3x3" and rows[0]["pad_top"] == "0" and rows[0]["param_count"] == "20"
    assert (out / "report.html").exists()
    loaded.cases = loaded.cases[:1]
    assert runloop.run_command(loaded, str(out), ["jax"], argv=["harness", "run"]) == 0
    assert runloop.run_command(loaded, str(out), ["tensorflow"], argv=["harness", "run"]) == 2


def test_a_failure_while_judging_one_pair_becomes_that_pairs_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnosis raising (a harness bug) is a failing HarnessError row, never the end of the run."""
    from harness.judge import judge as compare
    from harness.results.outcome import Output
    from harness.run.prepared import Prepared

    def broken(*args: object) -> None:
        raise ValueError("negative dimensions are not allowed")

    monkeypatch.setattr(compare, "diagnose", broken)
    case = make_case(id="judged", grad=True)
    prepared = Prepared()
    prepared.remaining[case.id] = 1
    wrong = Outcome("scipy", "ran", output=Output(np.zeros((1, 3, 4)), "float32"), param_count=21,
                    backward=Outcome("scipy", "unsupported", error_message="no gradients"))
    forward, backward = prepared.rows(case, wrong)
    assert (forward.status, forward.error_type, forward.passed) == ("error", "HarnessError", False)
    assert "negative dimensions are not allowed" in (forward.error_message or "")
    assert backward.pass_ == "backward" and backward.status == "unsupported"


def test_the_reference_is_covered_by_the_timeout() -> None:
    """The float64 reference runs in the parent: it stops at the deadline (it took 112 s under --timeout 5)."""
    import time

    from harness.run.prepared import Prepared

    case = make_case(id="big", batch=8, in_channels=32, input_size=160, out_channels=32, kernel_size=7, grad=True)
    start = time.monotonic()
    made = Prepared(timeout=0.3).get(case)
    assert isinstance(made, Outcome) and made.error_type == "Timeout", made
    assert "ran past --timeout 0.3 s" in (made.error_message or "") and time.monotonic() - start < 3
