"""Keras 3's own layer tests for Conv, ConvTranspose, DepthwiseConv and SeparableConv, translated into
cases with their exact configurations, and run through the harness.

The tests are read from the installed keras package (`keras/src/layers/convolutional/*_test.py`): every
`@parameterized.parameters` dict of a `test_<kind><n>d[_transpose][_basic]` method is a case (its input
shape, in the test's data_format, from the dict or, for the correctness tests, from the
`np.random.normal(size=[...])` that draws the input: the second of two when the test draws a
channels_first input apart). Two checks per configuration:
- shape tests (`_basic`): the reference's output shape is Keras' `expected_output_shape`;
- correctness tests: the float64 reference equals Keras' own NumPy implementation (`np_conv1d` & co. of
  the same files) on the same arrays, and the `keras` adapter's row is `match` exactly where the Keras
  layer itself agrees with that implementation (so the verdict agrees with a direct call and the peer).
Where Keras' rule is not the reference's, `DIFFERENT` says why, and the test checks they do differ.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytest.importorskip("absl")
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # marks of Keras' own suite

from helpers import make_case  # noqa: E402

from harness.judge.judge import judge  # noqa: E402
from harness.model.data import Tensors  # noqa: E402
from harness.run.pair import run_adapter  # noqa: E402
from harness.truth.bounds import error_bound  # noqa: E402
from harness.truth.reference import reference  # noqa: E402

FILES = ("conv_test", "conv_transpose_test", "depthwise_conv_test", "separable_conv_test")
METHOD = re.compile(r"test_(?P<kind>conv|depthwise_conv|separable_conv)(?P<rank>\d)d(?P<transpose>_transpose)?"
                    r"(?P<basic>_basic)?")
# configurations where Keras' rule is not the reference's: (method, index) -> why
SAME_EVEN = ("'same' with an even kernel and output_padding: Keras sizes it (in-1)*s + k%2 + op "
             "(keras-team/keras#15666), the adjoint of 'same' (in-1)*s + 1 + op (cases/transposed.yaml)")
VALID_WIDE = ("'valid' with a stride larger than the kernel and output_padding=None: Keras gives in*s, the "
              "reference the full (in-1)*s + k (cases/ops_and_ranks.yaml, tensorflow/tensorflow#50168)")
DIFFERENT = {
    ("test_conv1d_transpose", 1): SAME_EVEN, ("test_conv3d_transpose", 1): SAME_EVEN,
    ("test_conv1d_transpose_basic", 1): SAME_EVEN, ("test_conv2d_transpose_basic", 1): SAME_EVEN,
    ("test_conv3d_transpose_basic", 1): SAME_EVEN,
    ("test_conv2d_transpose", 3): VALID_WIDE, ("test_conv2d_transpose_basic", 3): VALID_WIDE,
}


def configurations() -> list[tuple[str, int, dict[str, Any], tuple[int, ...]]]:
    """(method, index, parameters, channels-last input shape) for every parameterized conv test."""
    root = Path(keras.__file__).parent / "src" / "layers" / "convolutional"
    found = []
    for name in FILES:
        for cls in (n for n in ast.parse((root / f"{name}.py").read_text()).body if isinstance(n, ast.ClassDef)):
            for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and METHOD.fullmatch(n.name)):
                drawn = [ast.literal_eval(k.value) for k in ast.walk(fn) if isinstance(k, ast.keyword)
                         and k.arg == "size" and isinstance(k.value, ast.List)]
                for dec in fn.decorator_list:
                    if isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parameters":
                        for index, arg in enumerate(dec.args):
                            params = ast.literal_eval(arg)
                            first = params["data_format"] == "channels_first" and len(drawn) > 1
                            shape = params.get("input_shape") or drawn[1 if first else 0]
                            found.append((fn.name, index, params, tuple(shape)))
    return found


CONFIGURATIONS = configurations()


def per_axis(value: Any, rank: int) -> list[int]:
    return list(value) if isinstance(value, (tuple, list)) else [value] * rank


def case_of(method: str, params: dict[str, Any], shape: tuple[int, ...]) -> Any:
    """The case a Keras layer with these arguments is, on an input of `shape` (in the test's data_format)."""
    kind, rank = METHOD.fullmatch(method)["kind"], int(METHOD.fullmatch(method)["rank"])  # type: ignore[index]
    first = params["data_format"] == "channels_first"
    channels, spatial = (shape[1], shape[2:]) if first else (shape[-1], shape[1:-1])
    multiplier = params.get("depth_multiplier", 1)
    fields: dict[str, Any] = {
        "id": "keras", "batch": shape[0], "in_channels": channels, "input_size": list(spatial), "dtype": "float64",
        "kernel_size": per_axis(params["kernel_size"], rank), "stride": per_axis(params["strides"], rank),
        "dilation": per_axis(params["dilation_rate"], rank), "padding": params["padding"],
        "layout": params["data_format"], "groups": params.get("groups", 1),
        "out_channels": params.get("filters", channels * multiplier)}
    if kind == "depthwise_conv":
        fields.update(groups=channels, out_channels=channels * multiplier)
    elif kind == "separable_conv":
        fields.update(op="separable", depth_multiplier=multiplier)
    if METHOD.fullmatch(method)["transpose"]:  # type: ignore[index]
        op = params.get("output_padding")
        fields.update(op="conv_transpose", output_padding=None if op is None else per_axis(op, rank))
    return make_case(**fields)


def test_every_conv_test_of_keras_is_read() -> None:
    assert len(CONFIGURATIONS) >= 70
    assert {METHOD.fullmatch(m)["kind"] for m, *_ in CONFIGURATIONS} == {"conv", "depthwise_conv", "separable_conv"}


@pytest.mark.parametrize(("method", "index", "params", "shape"),
                         [c for c in CONFIGURATIONS if METHOD.fullmatch(c[0])["basic"]],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_shape_tests_give_the_references_shape(method: str, index: int, params: dict, shape: tuple) -> None:
    case = case_of(method, params, shape)
    out = reference(case, Tensors(np.zeros((case.batch, case.in_channels, *case.input_size)), *neutral_zeros(case))).out
    expected = tuple(params["output_shape"])
    if params["data_format"] == "channels_last":
        expected = (expected[0], expected[-1], *expected[1:-1])
    assert out is not None and (out.shape == expected) != ((method, index) in DIFFERENT), (out.shape, expected)


def neutral_zeros(case: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    from harness.model.ops import pointwise_shape, weight_shape

    pointwise = pointwise_shape(case)
    return np.zeros(weight_shape(case)), np.zeros(case.out_channels), None if pointwise is None else np.zeros(pointwise)


def keras_operands(case: Any, method: str, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], Tensors]:
    """Arrays as the Keras test draws them (layer layouts), and the same arrays as the case's operands."""
    kind, nd = METHOD.fullmatch(method)["kind"], case.rank + 2  # type: ignore[index]
    last = case.layout == "channels_last"
    x = rng.standard_normal((case.batch, *case.input_size, case.in_channels) if last else
                            (case.batch, case.in_channels, *case.input_size))
    neutral_x = np.moveaxis(x, -1, 1) if last else x
    k = case.kernel_size
    if kind == "conv" and case.op == "conv_transpose":
        kernel = rng.standard_normal((*k, case.out_channels, case.in_channels))  # HWOI
        neutral_w = np.transpose(kernel, (nd - 1, nd - 2, *range(nd - 2)))
    elif kind == "conv":
        kernel = rng.standard_normal((*k, case.in_channels // case.groups, case.out_channels))  # HWIO
        neutral_w = np.transpose(kernel, (nd - 1, nd - 2, *range(nd - 2)))
    else:
        m = case.out_channels // case.in_channels if kind == "depthwise_conv" else case.depth_multiplier
        kernel = rng.standard_normal((*k, case.in_channels, m))  # HW C M: channel c*m + j
        neutral_w = np.moveaxis(kernel, (-2, -1), (0, 1)).reshape(case.in_channels * m, 1, *k)
    arrays = {"x": x, "kernel": kernel, "bias": rng.standard_normal(case.out_channels)}
    pointwise = None
    if kind == "separable_conv":
        arrays["pointwise"] = rng.standard_normal((*(1,) * case.rank, case.in_channels * case.depth_multiplier,
                                                   case.out_channels))
        pointwise = np.transpose(arrays["pointwise"], (nd - 1, nd - 2, *range(nd - 2)))
    return arrays, Tensors(neutral_x, np.ascontiguousarray(neutral_w), arrays["bias"], pointwise)


def peer_expected(method: str, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Keras' own NumPy implementation of the test, as the test calls it (in the layer's layout)."""
    kind, rank = METHOD.fullmatch(method)["kind"], METHOD.fullmatch(method)["rank"]  # type: ignore[index]
    conv = importlib.import_module("keras.src.layers.convolutional.conv_test")
    depthwise = importlib.import_module("keras.src.layers.convolutional.depthwise_conv_test")
    common = {"strides": params["strides"], "padding": params["padding"], "data_format": params["data_format"],
              "dilation_rate": params["dilation_rate"]}
    if METHOD.fullmatch(method)["transpose"]:  # type: ignore[index]
        module = importlib.import_module("keras.src.layers.convolutional.conv_transpose_test")
        return getattr(module, f"np_conv{rank}d_transpose")(
            arrays["x"], arrays["kernel"], arrays["bias"], params["strides"], params["padding"],
            params["output_padding"], params["data_format"], params["dilation_rate"])
    if kind == "conv":
        return getattr(conv, f"np_conv{rank}d")(arrays["x"], arrays["kernel"], arrays["bias"], groups=params["groups"],
                                                 **common)
    if kind == "depthwise_conv":
        return getattr(depthwise, f"np_depthwise_conv{rank}d")(arrays["x"], arrays["kernel"], arrays["bias"], **common)
    middle = np.zeros(arrays["kernel"].shape[-2] * arrays["kernel"].shape[-1])
    z = getattr(depthwise, f"np_depthwise_conv{rank}d")(arrays["x"], arrays["kernel"], middle, **common)
    return getattr(conv, f"np_conv{rank}d")(z, arrays["pointwise"], arrays["bias"], strides=1, padding=params["padding"],
                                             data_format=params["data_format"], dilation_rate=1, groups=1)


@pytest.mark.parametrize(("method", "index", "params", "shape"),
                         [c for c in CONFIGURATIONS if not METHOD.fullmatch(c[0])["basic"]],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_correctness_tests_agree_with_the_reference_and_the_verdict(method: str, index: int, params: dict,
                                                                     shape: tuple) -> None:
    case = case_of(method, params, shape)
    arrays, tensors = keras_operands(case, method, np.random.default_rng(index))
    expected = peer_expected(method, params, arrays)
    expected = np.moveaxis(expected, -1, 1) if case.layout == "channels_last" else expected
    ref = reference(case, tensors)
    agrees = ref.out is not None and ref.out.shape == expected.shape and np.allclose(ref.out, expected, rtol=1e-10,
                                                                                     atol=1e-10)
    assert agrees != ((method, index) in DIFFERENT), (method, index, DIFFERENT.get((method, index)))
    single = case.model_copy(update={"dtype": "float32"})
    as32 = Tensors(*(None if a is None else a.astype(np.float32) for a in (tensors.input, tensors.weights,
                                                                           tensors.bias, tensors.pointwise)))
    outcome = run_adapter("keras", single, as32)
    row = judge(single, reference(single, as32), outcome, error_bound(single, reference(single, as32)))
    if outcome.status == "error":  # TensorFlow's CPU kernels take NHWC only: the direct call raises the same
        assert params["data_format"] == "channels_first" and "NHWC" in (outcome.error_message or ""), row
        return
    layer_agrees = outcome.output is not None and outcome.output.values.shape == expected.shape and np.allclose(
        outcome.output.values, expected, rtol=1e-4, atol=1e-4)
    assert layer_agrees, (method, index, row)
    assert (row.status == "match") == agrees, row
