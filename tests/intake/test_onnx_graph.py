"""ONNX models in: Conv and ConvTranspose nodes with their attributes, stored weights and inferred shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import onnxruntime as ort
from extracted import close, written
from onnx import TensorProto, helper, numpy_helper

from harness.intake.onnx_graph import extract

RNG = np.random.default_rng(0)


def _weights(name: str, *shape: int) -> Any:
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def _graph_model(tmp_path: Path, batch: int | str = "N", size: int | str = 9) -> Path:
    """x (N, 4, 9, 9) -> SAME_UPPER strided Conv -> grouped dilated Conv with pads -> ConvTranspose with
    output_padding -> ConvTranspose with output_shape; a QLinearConv and a Conv on computed weights beside."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["y1"], name="/stem/Conv", auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Conv", ["y1", "w2"], ["y2"], name="grouped", group=2, dilations=[2, 1],
                         pads=[2, 1, 2, 0]),
        helper.make_node("ConvTranspose", ["y2", "w3", "b3"], ["y3"], name="up", strides=[2, 2],
                         pads=[1, 1, 1, 1], output_padding=[1, 0]),
        helper.make_node("ConvTranspose", ["y3", "w4"], ["y4"], name="", strides=[2, 2], output_shape=[13, 13]),
        helper.make_node("Neg", ["w1"], ["w_neg"], name="neg"),
        helper.make_node("Conv", ["x", "w_neg"], ["y5"], name="computed"),
    ]
    graph = helper.make_graph(
        nodes, "test-graph",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4, size, size])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y4", "y5")],
        [_weights("w1", 6, 4, 3, 3), _weights("b1", 6), _weights("w2", 4, 3, 3, 2), _weights("w3", 4, 3, 3, 3),
         _weights("b3", 3), _weights("w4", 3, 2, 2, 2)])
    path = tmp_path / "graph.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), path)
    return path


def test_nodes_come_out_with_their_attributes(tmp_path: Path) -> None:
    extraction = extract(_graph_model(tmp_path))
    layers = {layer.name: layer.fields for layer in extraction.layers}
    assert list(layers) == ["/stem/Conv", "grouped", "up", "ConvTranspose_3"]
    assert layers["/stem/Conv"] == {
        "op": "conv", "batch": 1, "in_channels": 4, "input_size": [9, 9], "out_channels": 6, "kernel_size": [3, 3],
        "stride": [2, 2], "dilation": [1, 1], "groups": 1, "bias": True, "dtype": "float32", "padding": "same"}
    assert (layers["grouped"]["padding"], layers["grouped"]["groups"], layers["grouped"]["dilation"]) == (
        [[2, 2], [1, 0]], 2, [2, 1])
    assert (layers["up"]["op"], layers["up"]["output_padding"], layers["up"]["out_channels"]) == (
        "conv_transpose", [1, 0], 3)
    # output_shape 13 from a 6x... input: total = 2*(in-1) + 2 - 13, the larger half at the start (not SAME_UPPER)
    size = layers["ConvTranspose_3"]["input_size"][0]
    total = 2 * (size - 1) + 2 - 13
    assert layers["ConvTranspose_3"]["padding"][0] == [total - total // 2, total // 2]
    assert [(u.name, "computed in the graph" in u.why) for u in extraction.unexpressed] == [("computed", True)]


def test_each_case_computes_what_onnx_runtime_computes(tmp_path: Path) -> None:
    """Every node run alone by ONNX Runtime on the case's input, with the graph's own weights."""
    path = _graph_model(tmp_path)
    model = onnx.load(path)
    initializers = {i.name: i for i in model.graph.initializer}
    extraction = extract(path)
    nodes = {n.name or f"{n.op_type}_{i}": n for i, n in enumerate(model.graph.node)}
    for name, (_case, x, want) in written(extraction, tmp_path).items():
        node = nodes[name]
        single = helper.make_graph(
            [helper.make_node(node.op_type, ["x", *node.input[1:]], ["y"], **{
                a.name: helper.get_attribute_value(a) for a in node.attribute})], "one",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [initializers[i] for i in node.input[1:]])
        session = ort.InferenceSession(helper.make_model(single, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
                                       .SerializeToString(), providers=["CPUExecutionProvider"])
        got = session.run(None, {"x": x.astype(np.float32)})[0]
        assert close(got, want), name


def test_open_sizes_need_input_shape(tmp_path: Path) -> None:
    path = _graph_model(tmp_path, size="H")
    extraction = extract(path)
    assert extraction.layers == [] and all("--input-shape" in u.why for u in extraction.unexpressed[:4])
    fixed = extract(path, [(2, 4, 11, 11)])
    assert [(layer.fields["batch"], layer.fields["input_size"]) for layer in fixed.layers][0] == (2, [11, 11])
    with pytest.raises(ValueError, match="the model has 1 data input"):
        extract(path, [(1, 4, 9, 9), (1, 4, 9, 9)])


def test_quantised_convolutions_are_listed(tmp_path: Path) -> None:
    node = helper.make_node("ConvInteger", ["x", "w"], ["y"], name="q")
    graph = helper.make_graph([node], "q", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, None)],
                              [numpy_helper.from_array(np.ones((1, 1, 2, 2), np.uint8), "w")])
    onnx.save(helper.make_model(graph), tmp_path / "q.onnx")
    extraction = extract(tmp_path / "q.onnx")
    assert [(u.name, u.kind) for u in extraction.unexpressed] == [("q", "ONNX ConvInteger")]


def test_a_model_exported_from_torch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    from models import onnx_file, torch_every

    extraction = extract(onnx_file(torch_every(), (1, 3, 12, 12), tmp_path / "every.onnx"))
    kinds = [(layer.kind, layer.fields["op"], len(layer.fields["input_size"])) for layer in extraction.layers]
    assert len(kinds) == 10 and extraction.unexpressed == []
    assert sum(op == "conv_transpose" for _, op, _ in kinds) == 3
    assert sorted(rank for _, _, rank in kinds) == [1, 1, 1, 2, 2, 2, 2, 2, 3, 3]
