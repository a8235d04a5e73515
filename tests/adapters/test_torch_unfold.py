"""Convolution as im2col + matmul (F.unfold) and conv_transpose as matmul + col2im (F.fold), through the
harness: unfold's and fold's own padding, stride and dilation arguments against the reference."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from battery import HALF, VALID_CONFIGS, assert_matches, run

UNSUPPORTED = {n for n, f in VALID_CONFIGS.items()  # no separable, no 3-D (unfold and fold take images)
               if f.get("op") == "separable" or (isinstance(f.get("input_size"), list) and len(f["input_size"]) == 3)}
EMULATED = {"same-even-kernel", "same-nonsquare", "same-lower", "asymmetric-pads", "channels-first", "reflect",
            "reflect-asymmetric", "replicate", "circular", "reflect-same", "1d-same-even", "1d-causal",
            "convolve-2d-asymmetric", "convolve-1d-full", "convolve-1-tap", "transpose-1d-same"}
REFUSED = {"in-channels-0"}  # F.unfold refuses zero channels (cases/edge_cases.yaml)


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in UNSUPPORTED | REFUSED])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("torch-unfold", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_3d_and_separable_are_unsupported(name: str) -> None:
    assert run("torch-unfold", **VALID_CONFIGS[name]).status == "unsupported"


def test_unfold_refuses_zero_input_channels() -> None:
    row = run("torch-unfold", **VALID_CONFIGS["in-channels-0"])
    assert (row.status, row.error_type) == ("error", "RuntimeError")
    assert "non-zero dimensions" in row.error_message


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in UNSUPPORTED | REFUSED | set(HALF)])
def test_gradients_match(name: str) -> None:
    from battery import assert_gradients_match

    assert_gradients_match("torch-unfold", VALID_CONFIGS[name])


@pytest.mark.parametrize("name", HALF)
def test_half_precision_input_gradients_are_summed_in_half_precision(name: str) -> None:
    """As torch's own convolutions (cases/gradients.yaml): dx (the transposed matmul, then col2im) keeps
    parts of its sums in float16 / bfloat16: out of the float32-accumulation bound, within half's."""
    from battery import assert_half_accumulation

    assert_half_accumulation("torch-unfold", VALID_CONFIGS[name], "dx")


def test_same_with_symmetric_pads_is_unfolds_own_padding() -> None:
    row = run("torch-unfold", padding="same", kernel_size=3, dilation=2, input_size=8)
    assert (row.status, row.realization) == ("match", "native")
