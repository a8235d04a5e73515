"""torch.nn.functional through the harness: like the modules, but padding modes need F.pad."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from battery import TORCH_HALF_DX, VALID_CONFIGS, assert_matches, run

EMULATED = {"same-lower", "asymmetric-pads", "channels-first", "reflect", "reflect-asymmetric", "replicate",
            "circular", "reflect-same", "1d-causal", "convolve-2d-asymmetric", "convolve-1d-full", "convolve-1-tap",
            "transpose-1d-same", "transpose-3d-same", "separable-1d-strided-dilated", "separable-reflect-no-bias"}
DIFFERS = {"in-channels-0": "shape"}  # like the modules: 0 output channels for 0 input channels


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in DIFFERS])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("torch-functional", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


def test_strided_same_raises_runtime_error_not_value_error() -> None:
    """The module raises ValueError at construction; the function RuntimeError at the call."""
    row = run("torch-functional", padding="same", stride=2)
    assert (row.status, row.error_type) == ("error", "RuntimeError")
    assert "padding='same' is not supported for strided convolutions" in row.error_message


def test_parameter_count_is_the_arrays_passed() -> None:
    row = run("torch-functional", bias=False, kernel_size=[2, 3])
    assert row.param_count == row.expected_param_count == 3 * 2 * 2 * 3


GRADIENT_DIFFERS = {"in-channels-0"}  # the forward output has 0 channels, so g does not fit it
GRADIENT_DIFFERS |= set(TORCH_HALF_DX)  # torch's CPU dx keeps partial sums in the half precision


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in GRADIENT_DIFFERS])
def test_gradients_match(name: str) -> None:
    from battery import assert_gradients_match

    assert_gradients_match("torch-functional", VALID_CONFIGS[name])


@pytest.mark.skipif(not TORCH_HALF_DX, reason="oneDNN has float16 and bfloat16 kernels on this CPU: no half "
                    "precision takes the slow path")
@pytest.mark.parametrize("name", TORCH_HALF_DX or ("float16",))
def test_half_precision_gradients_are_summed_in_half_precision(name: str) -> None:
    from battery import assert_half_accumulation

    assert_half_accumulation("torch-functional", VALID_CONFIGS[name], "dx")


def test_a_flipped_single_tap_kernel_is_accepted() -> None:
    """Found by the fuzzer: convolve with a 1-tap kernel handed torch a negative-stride array."""
    row = run("torch-functional", op="convolve", in_channels=1, out_channels=1, input_size=[1], kernel_size=1)
    assert row.status == "match", row
