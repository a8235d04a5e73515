"""Layers written as a case file and its .npz: shortest spellings, explicit data, captured inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from harness.cases.loading import load_cases
from harness.intake.casewriter import case_fields, configuration, write
from harness.intake.layer import Extraction, Layer

FIELDS = {"op": "conv", "batch": 1, "in_channels": 2, "input_size": [5, 4], "out_channels": 3, "kernel_size": [3, 3],
          "stride": [1, 1], "dilation": [1, 1], "padding": [[1, 1], [1, 1]], "groups": 1, "bias": True,
          "dtype": "float32", "layout": "channels_last"}


def _layer(name: str, **fields: object) -> Layer:
    rng = np.random.default_rng(len(name))
    merged = {**FIELDS, **fields}
    arrays = {"weights": rng.standard_normal((3, 2, 3, 3)).astype(np.float32)}
    if merged["bias"]:
        arrays["bias"] = rng.standard_normal(3).astype(np.float32)
    return Layer(name=name, kind="Conv2D", fields=merged, arrays=arrays)


def test_case_fields_take_the_shortest_spelling_and_drop_defaults() -> None:
    assert case_fields(_layer("a"))["padding"] == [1, 1]
    assert case_fields(_layer("a", padding=[[0, 0], [0, 0]]))["padding"] == "valid"
    assert case_fields(_layer("a", padding=[[2, 0], [1, 1]]))["padding"] == [[2, 0], [1, 1]]
    assert "groups" not in case_fields(_layer("a")) and case_fields(_layer("a", groups=2))["groups"] == 2


def test_configuration_ignores_the_weights_only() -> None:
    assert configuration(case_fields(_layer("a"))) == configuration(case_fields(_layer("bb")))
    assert configuration(case_fields(_layer("a"))) != configuration(case_fields(_layer("a", stride=[2, 1])))


def test_written_cases_load_with_the_layers_arrays(tmp_path: Path) -> None:
    layers = [_layer("Conv1"), _layer("conv1", bias=False)]
    extraction = Extraction(model="m", source="m.keras", layers=layers)
    captured = np.arange(40, dtype=np.float32).reshape(1, 5, 4, 2)  # channels_last, as the model holds it
    ids = write(extraction, tmp_path / "m.yaml", {"conv1": captured})
    assert ids == ["conv1", "conv1-2"]
    document = yaml.safe_load((tmp_path / "m.yaml").read_text())
    assert document["cases"][0]["data"] == {"weights": "m.npz:conv1.weights", "bias": "m.npz:conv1.bias"}
    loaded = load_cases([tmp_path / "m.yaml"])
    assert not loaded.problems and [c.id for c in loaded.cases] == ids
    with np.load(tmp_path / "m.npz") as archive:
        assert np.array_equal(archive["conv1.weights"], layers[0].arrays["weights"])
        assert np.array_equal(archive["conv1-2.input"], np.moveaxis(captured, -1, 1))  # N, C, H, W
    assert loaded.cases[1].data.input.endswith("m.npz:conv1-2.input")
