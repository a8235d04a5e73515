"""What the fuzzer counts as a find, how bad, and the words and patterns it writes."""

from __future__ import annotations

import re

import pytest

from harness.fuzz.kinds import covered, describe, gist, kind_of, pinned, reportable, severity
from harness.results.rows import Row

ORT = ("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Non-zero status code returned while running Conv node. "
       "Name:'' Status Message: Dilation not supported for AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER.")
KERAS = ("Exception encountered when calling Conv2D.call().\n\n{{function_node __wrapped__Conv2D_device_/job:localhost/"
         "replica:0/task:0/device:CPU:0}} The Conv2D op currently only supports the NHWC tensor format on the CPU. "
         "The op was given the format: NCHW [Op:Conv2D] name:")


def row(**fields) -> Row:
    return Row(**{"case_id": "c", "file": "f", "adapter": "keras", "status": "mismatch", "expected": "match",
                  "passed": False, "ref_shape": "1x5x5", **fields})


def test_the_informative_part_is_pinned_at_a_word_boundary() -> None:
    assert gist(ORT) == "Dilation not supported for AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER."
    for message in (ORT, KERAS):
        pattern = pinned(message)
        assert pattern is not None and re.search(pattern, message), pattern
        assert not pattern.endswith(("\\", " ")) and "Exception encountered" not in pattern
    assert pinned(KERAS) == "The Conv2D op currently only supports the NHWC tensor"
    assert pinned("bad (1, 2) here") == r"bad \(1, 2\) here"  # integers (sizes, counts) are the rule
    data = "Expected tensor [[[[ 0.92531764 -0.74309354]]]] with dtype tf.float32, but got dtype tf.float64."
    pattern = pinned(data)
    assert pattern == r"Expected tensor \[\[\[\[ [-+.0-9e]+ [-+.0-9e]+\]\]\]\] with dtype"
    assert re.search(pattern, data) and re.search(pattern, data.replace("0.92531764", "-1.5e-07"))
    assert gist("got 3 channels") == gist("got 14 channels") == "got # channels"  # one kind, not one per number
    ort = "[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : Could not find an implementation for Conv(11) node with name "
    assert gist(ort + "'node_Conv_9'") == gist(ort + "'node_conv2d'") == (
        "Could not find an implementation for Conv(#) node with name '…'")  # the exporter's node names differ


@pytest.mark.parametrize(("fields", "expected"), [
    ({"mismatch_on": "values", "diagnosis": "bias"}, 0),
    ({"mismatch_on": "db", "pass_": "backward", "diagnosis": "unexplained"}, 0),
    ({"mismatch_on": "dtype;values", "diagnosis": "precision"}, 1),
    ({"mismatch_on": "shape"}, 2),
    ({"status": "error", "error_type": "ValueError", "error_message": "no"}, 3),
    ({"mismatch_on": "values", "ref_shape": "0x5x5"}, 4),  # an empty tensor
    ({"status": "match", "expected": "error", "ref_shape": None}, 4),  # an output for an invalid configuration
])
def test_severity_ranks_silent_wrong_values_first(fields: dict, expected: int) -> None:
    assert severity(row(**fields)) == expected


def test_declared_limits_and_expected_pairs_are_never_finds() -> None:
    assert not reportable(row(status="unsupported", error_message="Keras has no SeparableConv3D"))
    assert not reportable(row(passed=True))
    assert reportable(row(mismatch_on="values"))
    assert kind_of(row(status="error", error_message="got 3")) == kind_of(row(status="error", error_message="got 4"))


def test_a_find_is_described_in_words() -> None:
    assert describe(row(mismatch_on="values", err_bound_ratio=9.88e5, diagnosis="bias",
                        diagnosis_detail="the bias is added along the last spatial axis instead of the channels")) == (
        "keras (forward) computes values out of bound (9.88e+05 times the bound); diagnosis bias: the bias is added "
        "along the last spatial axis instead of the channels")
    assert describe(row(mismatch_on="shape", out_shape="1x1x2")) == "keras (forward) returns shape 1x1x2, the reference 1x5x5"
    assert describe(row(status="error", error_type="ValueError", error_message="x " * 100)).endswith("x")


def test_a_backward_value_bug_is_severity_0() -> None:
    """A real backward row carries the forward output's shape, so a gradient out of bound on a non-empty
    case ranks with the forward value bugs (not as 'other')."""
    pytest.importorskip("torch")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "adapters"))
    from battery import backward_row

    row = backward_row("torch", {"input_size": 4})
    assert row.pass_ == "backward" and row.ref_shape == "1x3x2x2"
    assert severity(Row(**{**vars(row), "status": "mismatch", "mismatch_on": "db", "passed": False})) == 0


def test_a_kind_with_fewer_things_mismatched_is_the_report_already_filed() -> None:
    """Keras on JAX computes float64 in float32: recorded with a bias (dx;dw;db), a bias-less find (dx;dw) is that
    report; one mismatching more than recorded, or another status or diagnosis, is not."""
    recorded = kind_of(row(adapter="keras-jax", pass_="backward", mismatch_on="dx;dw;db", diagnosis="precision"))
    assert covered(kind_of(row(adapter="keras-jax", pass_="backward", mismatch_on="dx;dw", diagnosis="precision")),
                   {recorded})
    for other in ({"mismatch_on": "dx;dw;db;dpw"}, {"diagnosis": "shift"}, {"pass_": "forward"}, {"adapter": "jax"}):
        fields = {"adapter": "keras-jax", "pass_": "backward", "mismatch_on": "dx;dw", "diagnosis": "precision", **other}
        assert not covered(kind_of(row(**fields)), {recorded}), other
    assert not covered(kind_of(row(mismatch_on="")), {kind_of(row(mismatch_on="values"))})


def test_a_wrong_shape_nothing_could_diagnose_is_the_wrong_shape_already_filed() -> None:
    """Keras' 'same' transposed rule (in-1)*s + k%2 + output_padding, recorded as a shift: at in = 1, k = 2 it
    leaves an empty output, which no crop explains (no diagnosis): the same report, not a new one."""
    recorded = kind_of(row(adapter="keras-jax", mismatch_on="shape", diagnosis="shift", out_shape="1x1x4"))
    emptied = kind_of(row(adapter="keras-jax", mismatch_on="shape", diagnosis="unexplained", out_shape="1x1x0"))
    assert emptied[5] == "empty output" and covered(emptied, {recorded})
    assert not covered(kind_of(row(adapter="keras-jax", mismatch_on="shape", diagnosis="unexplained",
                                   out_shape="1x1x4")), {recorded})  # an output to diagnose, and a new diagnosis
    assert kind_of(row(mismatch_on="shape", diagnosis="unexplained", out_shape="0x3x5", ref_shape="0x2x3"))[5] == (
        "unexplained")  # an empty batch: the reference is empty too
    assert not covered(kind_of(row(adapter="keras-jax", mismatch_on="values")), {recorded})
    assert not covered(kind_of(row(adapter="keras", mismatch_on="shape")), {recorded})
