"""torch models in: nn.Conv* modules and F.conv* calls alike, layer for layer, with the module's own weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

import torch
from extracted import close, written
from models import TORCH_LAYERS, torch_every

from harness.intake.torch_graph import extract_module


@pytest.fixture(scope="module")
def every() -> tuple[object, object]:
    torch.manual_seed(0)
    model = torch_every()
    return model, extract_module(model, "Every", "models:torch_every", [torch.randn(1, 3, 12, 12)])


def test_every_convolution_comes_out_in_forward_order(every: tuple[object, object]) -> None:
    _, extraction = every
    assert [(layer.name, layer.kind) for layer in extraction.layers] == TORCH_LAYERS
    assert extraction.unexpressed == []


def test_fields_are_the_calls_arguments(every: tuple[object, object]) -> None:
    layers = {layer.name: layer.fields for layer in every[1].layers}
    assert layers["features.0.conv2d"] == {
        "op": "conv", "batch": 1, "in_channels": 6, "input_size": [6, 6], "out_channels": 4, "kernel_size": [3, 3],
        "stride": [2, 2], "dilation": [1, 1], "groups": 2, "dtype": "float32", "padding": [[1, 1], [1, 1]],
        "bias": False}
    assert layers["features.0.conv"]["padding"] == "same" and layers["features.0.conv"]["groups"] == 6
    assert (layers["reflect"]["padding_mode"], layers["reflect"]["padding"]) == ("reflect", [[2, 2], [2, 2]])
    assert layers["conv1d"]["padding"] == [[2, 0]] and layers["conv1d"]["input_size"] == [24]  # the F.pad folded in
    assert (layers["up"]["op"], layers["up"]["output_padding"]) == ("conv_transpose", [1, 1])
    assert (layers["t1"]["groups"], layers["t1"]["out_channels"]) == (2, 4)


def test_weights_are_the_models_own(every: tuple[object, object]) -> None:
    model, extraction = every
    arrays = {layer.name: layer.arrays for layer in extraction.layers}
    assert np.array_equal(arrays["features.0.conv2d"]["weights"], model.features[0].kernel.detach().numpy())
    assert np.array_equal(arrays["up"]["weights"], model.up.weight.detach().numpy())
    assert np.array_equal(arrays["up"]["bias"], model.up.bias.detach().numpy())
    assert "bias" not in arrays["stem"]


def test_each_case_computes_what_its_module_computes(every: tuple[object, object], tmp_path: Path) -> None:
    model, extraction = every
    modules = dict(model.named_modules())
    for name, (_case, x, want) in written(extraction, tmp_path).items():
        if name in modules:
            with torch.no_grad():
                got = modules[name](torch.from_numpy(x.astype(np.float32))).numpy()
            assert close(got, want), name


def test_computed_weights_are_read_as_forward_computes_them(tmp_path: Path) -> None:
    conv = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv2d(2, 3, 3))
    extraction = extract_module(conv, "WeightNorm", "test", [torch.randn(1, 2, 5, 5)])
    [layer] = extraction.layers
    assert np.allclose(layer.arrays["weights"], conv.weight.detach().numpy())


def test_a_model_torch_export_refuses_is_a_clear_error() -> None:
    class DataDependent(torch.nn.Module):
        def forward(self, x: object) -> object:
            return x if x.sum() > 0 else -x  # type: ignore[attr-defined, operator]

    with pytest.raises(ValueError, match="torch.export could not trace DataDependent"):
        extract_module(DataDependent(), "DataDependent", "test", [torch.randn(1, 2, 3, 3)])


def test_an_exported_program_file_reads_as_its_module(tmp_path: Path) -> None:
    from harness.intake.sources import read
    from harness.problems import BadInput

    torch.manual_seed(0)
    model = torch_every().eval()
    path = tmp_path / "every.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(1, 3, 12, 12),)), str(path))
    extraction = read(str(path))  # the sizes come from the program's own inputs
    assert [(layer.name, layer.kind) for layer in extraction.layers] == TORCH_LAYERS
    assert np.array_equal(extraction.layers[0].arrays["weights"], model.stem.weight.detach().numpy())
    with pytest.raises(BadInput, match=r"every.pt2: running the program on inputs of shape \(2, 3, 12, 12\) failed"):
        read(str(path), [(2, 3, 12, 12)])  # exported without dynamic_shapes: its sizes are fixed


def test_a_convolution_in_a_no_grad_region_is_not_dropped() -> None:
    class Frozen(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = torch.nn.Conv2d(2, 2, 3), torch.nn.Conv2d(2, 2, 3)

        def forward(self, x: object) -> object:
            y = self.a(x)
            with torch.no_grad():  # torch.export wraps this region in a higher-order op
                return self.b(y)

    extraction = extract_module(Frozen(), "Frozen", "test", [torch.randn(1, 2, 9, 9)])
    assert [layer.fields["input_size"] for layer in extraction.layers] == [[9, 9], [7, 7]]


def test_a_functional_call_in_a_module_named_like_a_convolution_is_functional() -> None:
    class ConvNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.kernel = torch.nn.Parameter(torch.randn(3, 2, 3, 3))

        def forward(self, x: object) -> object:
            return torch.nn.functional.conv2d(x, self.kernel)  # type: ignore[arg-type]

    [layer] = extract_module(ConvNet(), "ConvNet", "test", [torch.randn(1, 2, 6, 6)]).layers
    assert (layer.name, layer.kind) == ("conv2d", "F.conv2d")
