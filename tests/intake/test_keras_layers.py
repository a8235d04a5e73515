"""Keras models in: every convolution layer kind and both data formats, with the layers' own weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("keras")

import keras
from extracted import close, written
from models import KERAS_LAYERS, keras_every

from harness.intake.casewriter import case_fields, configuration
from harness.intake.keras_layers import extract


@pytest.fixture(scope="module")
def every() -> tuple[Any, Any]:
    keras.utils.set_random_seed(0)
    model = keras_every()
    return model, extract(model, model.name, "models:keras_every")


def test_every_layer_kind_comes_out(every: tuple[Any, Any]) -> None:
    _, extraction = every
    assert {layer.name: layer.kind for layer in extraction.layers} == KERAS_LAYERS
    assert extraction.unexpressed == []


def test_fields_are_the_layers_config(every: tuple[Any, Any]) -> None:
    layers = {layer.name: layer.fields for layer in every[1].layers}
    assert layers["dw"] == {
        "batch": 1, "in_channels": 4, "input_size": [5, 6], "kernel_size": [3, 3], "stride": [1, 1],
        "dilation": [1, 1], "padding": "same", "bias": True, "dtype": "float32", "layout": "channels_last",
        "op": "conv", "out_channels": 8, "groups": 4}
    assert (layers["sep"]["op"], layers["sep"]["depth_multiplier"], layers["sep"]["in_channels"]) == ("separable", 2, 8)
    assert (layers["cf"]["layout"], layers["cf"]["in_channels"], layers["cf"]["input_size"]) == (
        "channels_first", 3, [10, 12])
    assert (layers["t2"]["output_padding"], layers["causal"]["padding"]) == ([1, 1], "causal")
    assert "output_padding" not in layers["t1"]  # Keras' None: absent, not 0


def _layout(x: np.ndarray, layout: str) -> np.ndarray:
    return np.moveaxis(x, 1, -1) if layout == "channels_last" else x


def test_each_case_computes_what_its_layer_computes(every: tuple[Any, Any], tmp_path: Path) -> None:
    """The kernels' transposition checked against the layers themselves, not the harness's Keras adapter."""
    model, extraction = every
    for name, (case, x, want) in written(extraction, tmp_path).items():
        got = keras.ops.convert_to_numpy(model.get_layer(name)(_layout(x.astype(np.float32), case.layout)))
        assert close(_layout(got, case.layout), want) if case.layout == "channels_first" else \
            close(np.moveaxis(got, -1, 1), want), name


def test_input_shape_gives_the_sizes_a_call_on_it_gives() -> None:
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, strides=2, name="c")(inputs))
    unsized = extract(model, "m", "test")
    assert unsized.layers == [] and "give --input-shape" in unsized.unexpressed[0].why
    [layer] = extract(model, "m", "test", [(2, 9, 7, 3)]).layers
    assert (layer.fields["batch"], layer.fields["input_size"]) == (2, [9, 7])


def test_a_recurrent_convolution_is_listed_with_why() -> None:
    inputs = keras.Input((2, 8, 8, 1))
    model = keras.Model(inputs, keras.layers.ConvLSTM2D(2, 3, name="lstm")(inputs))
    extraction = extract(model, "m", "test")
    assert [(u.name, u.kind) for u in extraction.unexpressed] == [("lstm", "ConvLSTM2D")]


APPLICATIONS = {"MobileNetV2": (52, 17), "ResNet50": (53, 0), "EfficientNetB0": (81, 16)}  # convolutions, depthwise


@pytest.fixture(scope="module")
def applications() -> dict[str, tuple[Any, Any]]:
    """Each application (weights=None: no download) and its extraction, built once for the tests below."""
    built = {}
    for name in APPLICATIONS:
        model = getattr(keras.applications, name)(weights=None)
        built[name] = (model, extract(model, model.name, name))
    return built


@pytest.mark.parametrize("application", list(APPLICATIONS))
def test_applications_give_their_known_convolution_counts(application: str,
                                                          applications: dict[str, tuple[Any, Any]]) -> None:
    count, depthwise = APPLICATIONS[application]
    model, extraction = applications[application]
    assert len(extraction.layers) == count and extraction.unexpressed == []
    assert sum(layer.kind == "DepthwiseConv2D" for layer in extraction.layers) == depthwise
    own = {layer.name: layer for layer in model._flatten_layers(include_self=False, recursive=True)}
    for layer in extraction.layers:  # every kernel is the layer's own: (*k, in, m) regrouped, or (*k, in, out) moved
        kernel = keras.ops.convert_to_numpy(own[layer.name].kernel)
        if layer.kind == "DepthwiseConv2D":
            expected = np.moveaxis(kernel.reshape(*kernel.shape[:2], -1), -1, 0)[:, None]
        else:
            expected = np.transpose(kernel, (3, 2, 0, 1))
        assert np.array_equal(layer.arrays["weights"], expected), layer.name


def test_three_applications_have_88_distinct_configurations(applications: dict[str, tuple[Any, Any]]) -> None:
    found = {configuration(case_fields(layer)) for _, extraction in applications.values() for layer in extraction.layers}
    assert len(found) == 88


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_saved_model_file_reads_as_the_model(suffix: str, every: tuple[Any, Any], tmp_path: Path) -> None:
    from harness.intake.sources import read

    model, extraction = every
    path = tmp_path / f"every{suffix}"
    model.save(path)
    again = read(str(path))
    assert [(a.name, a.fields) for a in again.layers] == [(b.name, b.fields) for b in extraction.layers]
    assert all(np.array_equal(a.arrays["weights"], b.arrays["weights"])
               for a, b in zip(again.layers, extraction.layers, strict=True))


def test_input_shape_sizes_an_unbuilt_sequential_and_a_subclassed_model() -> None:
    sequential = keras.Sequential([keras.layers.Conv2D(2, 3, name="a"), keras.layers.Conv2D(2, 3, name="b")])
    assert [u.name for u in extract(sequential, "s", "test").unexpressed] == ["a", "b"]  # never called: no size
    assert [layer.fields["input_size"] for layer in extract(sequential, "s", "test", [(1, 9, 8, 3)]).layers] == [
        [9, 8], [7, 6]]

    class Sub(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.conv = keras.layers.Conv1D(4, 3, name="inner")

        def call(self, x: Any) -> Any:
            return self.conv(x)

    [layer] = extract(Sub(), "sub", "test", [(2, 11, 3)]).layers
    assert (layer.name, layer.fields["batch"], layer.fields["input_size"], layer.fields["in_channels"]) == (
        "inner", 2, [11], 3)
    with pytest.raises(ValueError, match="ValueError"):  # sizes that do not fit: the model's own message
        extract(keras.Sequential([keras.layers.Conv2D(2, 5)]), "s", "test", [(1, 3, 3, 1)])


def test_a_shared_layer_is_one_case_per_input_size() -> None:
    small, large = keras.Input((8, 8, 2)), keras.Input((16, 16, 2))
    shared = keras.layers.Conv2D(3, 3, name="shared")
    model = keras.Model([small, large], [shared(small), shared(large)])
    assert [(layer.name, layer.fields["input_size"]) for layer in extract(model, "m", "test").layers] == [
        ("shared", [8, 8]), ("shared_call2", [16, 16])]


def test_transposed_layers_are_written_as_the_output_keras_computes(tmp_path: Path) -> None:
    """valid with a stride above the kernel (in*s long) and same with an output_padding and an even kernel
    (one row short of the adjoint): the case is the layer, checked against the layer itself."""
    keras.utils.set_random_seed(1)
    line, image = keras.Input((5, 3)), keras.Input((4, 5, 2))
    wide = keras.layers.Conv1DTranspose(2, 2, strides=3, name="wide")
    even = keras.layers.Conv2DTranspose(2, (2, 3), strides=2, padding="same", output_padding=1, name="even")
    model = keras.Model([line, image], [wide(line), even(image)])
    extraction = extract(model, "m", "test")
    fields = {layer.name: layer.fields for layer in extraction.layers}
    assert (fields["wide"]["padding"], fields["wide"]["output_padding"]) == ("valid", [1])
    assert isinstance(fields["even"]["padding"], list)  # explicit crops
    for name, (case, x, want) in written(extraction, tmp_path).items():
        got = keras.ops.convert_to_numpy(model.get_layer(name)(_layout(x.astype(np.float32), case.layout)))
        assert close(np.moveaxis(got, -1, 1), want), name


def test_a_subclass_that_changes_its_convolution_is_listed() -> None:
    class Standardised(keras.layers.Conv2D):
        def convolution_op(self, inputs: Any, kernel: Any) -> Any:
            return super().convolution_op(inputs, kernel - keras.ops.mean(kernel))

    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, Standardised(2, 3, name="ws")(inputs))
    extraction = extract(model, "m", "test")
    assert extraction.layers == [] and "overrides its convolution" in extraction.unexpressed[0].why
