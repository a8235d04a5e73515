"""Framework errors told in one line: trailers and source locations dropped, the informative part kept."""

from __future__ import annotations

from harness.adapters.errors import MAX_MESSAGE, describe_error

OPENVINO = ("Exception from src/inference/src/cpp/core.cpp:105:\nCheck 'false' failed at "
            "src/frontends/common_translators/src/unconverted_ops_report.cpp:151:\nFrontEnd API failed with "
            "OpConversionFailure: Model wasn't fully converted. Failed operations detailed log:\n-- Conv-21 with a "
            "message: While validating ONNX node '<Node(Conv): Y>': Check 'data.get_partial_shape().rank()."
            "is_static()' failed at src/frontends/onnx/frontend/src/op/conv.cpp:38:\nFrontEnd API failed with "
            "GeneralFailure: The input data tensor's rank has to be known (static)\n-- Pad-21 with a message: "
            "While validating ONNX node '<Node(Pad): Xp>': Exception from "
            "src/frontends/onnx/frontend/src/op/pad.cpp:32:\nUnsupported padding mode: [wrap]\n\nSummary:\n"
            "-- Conversion is failed for: Conv-21, Pad-21\n")


def test_openvino_source_lines_are_dropped_so_the_reason_fits() -> None:
    kind, message = describe_error(RuntimeError(OPENVINO))
    assert kind == "RuntimeError" and len(message) <= MAX_MESSAGE and "src/" not in message
    assert message.startswith("FrontEnd API failed with OpConversionFailure: Model wasn't fully converted.")
    assert "Check 'data.get_partial_shape().rank().is_static()' failed: FrontEnd API" in message
    assert "Unsupported padding mode: [wrap]" in message and message.endswith("Conv-21, Pad-21")


def test_other_messages_are_only_joined_onto_one_line() -> None:
    torch_like = "Given groups=1, weight of size [4, 3, 3, 3]\n(Triggered internally at /pytorch/aten/src/x.cpp:12.)"
    assert describe_error(ValueError(torch_like))[1] == " ".join(torch_like.split())
