"""torch.nn modules through the harness: what they match, how they pad and crop, what they refuse."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from battery import TORCH_HALF_DX, VALID_CONFIGS, assert_matches, pads_of, run

EMULATED = {"same-lower", "asymmetric-pads", "channels-first", "reflect-asymmetric", "circular", "1d-causal",
            "convolve-2d-asymmetric", "convolve-1d-full", "convolve-1-tap", "transpose-1d-same", "transpose-3d-same",
            "separable-1d-strided-dilated"}
DIFFERS = {"in-channels-0": "shape"}  # torch returns 0 output channels for 0 input channels


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in DIFFERS])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("torch", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


def test_zero_input_channels_give_zero_output_channels() -> None:
    row = run("torch", in_channels=0)
    assert (row.status, row.mismatch_on, row.out_shape, row.ref_shape) == (
        "mismatch", "shape", "1x0x4x4", "1x3x4x4")


def test_strided_same_is_refused() -> None:
    row = run("torch", padding="same", stride=2)
    assert row.status == "error" and row.error_type == "ValueError"
    assert row.error_message == "padding='same' is not supported for strided convolutions"


def test_same_even_kernel_pads_less_before() -> None:
    row = run("torch", padding="same", kernel_size=4, input_size=7)
    assert pads_of(row) == (1, 2, 1, 2)


def test_kernel_larger_than_input_is_refused() -> None:
    row = run("torch", kernel_size=7)
    assert row.status == "error" and row.expected == "error" and row.passed
    assert "Kernel size can't be greater than actual input size" in row.error_message


def test_reflect_pad_larger_than_input_is_refused() -> None:
    row = run("torch", padding=6, padding_mode="reflect")
    assert row.status == "error" and "Padding size should be less than the corresponding input dimension" in row.error_message


def test_transposed_same_is_cut_from_the_full_output() -> None:
    row = run("torch", op="conv_transpose", input_size=[5], kernel_size=4, stride=2, padding="same")
    assert (row.status, row.realization, row.out_shape, pads_of(row)) == ("match", "emulated", "1x3x10", (1, 1))


def test_output_padding_not_below_stride_is_refused() -> None:
    row = run("torch", op="conv_transpose", stride=2, output_padding=2)
    assert row.status == "error" and "output padding must be smaller than either stride or dilation" in row.error_message


def test_version_and_flags() -> None:
    from harness.adapters.registry import get_adapter

    adapter = get_adapter("torch")
    adapter.ensure_setup()
    assert adapter.version() == "torch 2.13.0+cpu"
    assert adapter.precision_flags()["torch.backends.cudnn.allow_tf32"].startswith("False (precision: highest)")


@pytest.mark.parametrize(("precision", "tf32"), [("highest", False), ("default", True)])
def test_the_program_sets_the_tf32_switch_it_reports(precision: str, tf32: bool) -> None:
    import torch

    torch.backends.cudnn.allow_tf32 = not tf32
    assert run("torch", precision=precision).status == "match"
    assert torch.backends.cudnn.allow_tf32 is tf32 and not torch.backends.cuda.matmul.allow_tf32


def test_precision_allowed_follows_the_case_and_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers import make_case

    from harness.adapters.device import requested_device
    from harness.adapters.registry import get_adapter

    adapter = get_adapter("torch")
    adapter.ensure_setup()
    assert adapter.allowed_precision(make_case(precision="default")) == "float32"  # no TF32 on a CPU
    monkeypatch.setattr(adapter, "tf32_by_default", lambda: True)
    assert adapter.allowed_precision(make_case(precision="default")) == "tf32"
    assert adapter.allowed_precision(make_case(precision="highest")) == "float32"
    assert adapter.allowed_precision(make_case(precision="default", dtype="float16")) == "float16"
    for text, parsed in (("cpu", ("cpu", 0)), ("cuda", ("cuda", 0)), ("cuda:1", ("cuda", 1)), ("GPU:2", ("cuda", 2))):
        monkeypatch.setenv("HARNESS_DEVICE", text)
        assert requested_device() == parsed
    monkeypatch.setenv("HARNESS_DEVICE", "tpu")
    with pytest.raises(ValueError, match="expected cpu, cuda or cuda:N"):
        requested_device()


GRADIENT_DIFFERS = {"in-channels-0"}  # the forward output has 0 channels, so g does not fit it
GRADIENT_DIFFERS |= set(TORCH_HALF_DX)  # torch's CPU dx keeps partial sums in the half precision


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in GRADIENT_DIFFERS])
def test_gradients_match(name: str) -> None:
    from battery import assert_gradients_match

    assert_gradients_match("torch", VALID_CONFIGS[name])


@pytest.mark.skipif(not TORCH_HALF_DX, reason="oneDNN has float16 and bfloat16 kernels on this CPU: no half "
                    "precision takes the slow path")
@pytest.mark.parametrize("name", TORCH_HALF_DX or ("float16",))
def test_half_precision_gradients_are_summed_in_half_precision(name: str) -> None:
    from battery import assert_half_accumulation

    assert_half_accumulation("torch", VALID_CONFIGS[name], "dx")


@pytest.mark.parametrize("adapter", ["torch", "torch-functional"])
def test_same_with_output_padding_not_below_the_kernel_runs(adapter: str) -> None:
    """The emulated 'same' plan once folded a negative crop into output_padding = op + s - k >= s, which
    torch refuses; the adjoint's crops never need that (issue #20)."""
    row = run(adapter, op="conv_transpose", input_size=[5, 4], kernel_size=[1, 2], stride=3, padding="same",
              output_padding=2)
    assert (row.status, row.realization, row.out_shape) == ("match", "emulated", "1x3x15x12"), row


def test_output_size_is_passed_to_the_module_as_a_user_would() -> None:
    """ConvTranspose2d(...)(x, output_size=...) where the crops are native; the row matches the adjoint."""
    from helpers import make_case

    from harness.adapters.registry import get_adapter
    from harness.model.geometry import output_padding_for

    case = make_case(op="conv_transpose", input_size=[4, 3], kernel_size=3, stride=2, padding=1, output_size=[8, 5])
    case = case.model_copy(update={"output_padding": output_padding_for(case, [8, 5])})
    adapter = get_adapter("torch")
    assert "layer(x, output_size=[8, 5])" in adapter.program(case, adapter.plan(case))
    row = run("torch", op="conv_transpose", input_size=[4, 3], kernel_size=3, stride=2, padding=1, output_padding=[1, 0])
    assert (row.status, row.out_shape) == ("match", "1x3x8x5")


@pytest.mark.parametrize("op", ["conv", "conv_transpose", "convolve"])
@pytest.mark.parametrize("adapter", ["torch", "torch-functional"])
def test_unbatched_inputs_are_passed_as_torch_takes_them(adapter: str, op: str) -> None:
    """batch: none: torch gets C x H x W (no batch axis) and returns one; the row is native (jax's is emulated)."""
    from helpers import make_case

    from harness.adapters.registry import get_adapter

    case = make_case(op=op, batch=None, padding=1)
    chosen = get_adapter(adapter)
    assert "(x[0]" in chosen.program(case, chosen.plan(case))
    row = run(adapter, op=op, batch=None, padding=1)
    assert row.status == "match" and row.out_shape.startswith("1x3x"), row
    assert row.realization == ("emulated" if op == "convolve" else "native")
    assert "N=none" in row.case
