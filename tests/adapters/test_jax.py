"""jax.lax convolutions through the harness: matches, pads and crops, what they do not refuse."""

from __future__ import annotations

import pytest

pytest.importorskip("jax")

from battery import HALF, VALID_CONFIGS, assert_matches, pads_of, run

EMULATED = {"reflect", "reflect-asymmetric", "replicate", "circular", "reflect-same", "convolve-2d-asymmetric",
            "convolve-1d-full", "convolve-1-tap", "separable-reflect-no-bias"}


@pytest.mark.parametrize("name", list(VALID_CONFIGS))
def test_valid_configurations_match(name: str) -> None:
    assert_matches("jax", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


def test_same_lower_is_native_and_pads_more_before() -> None:
    row = run("jax", padding="same_lower", kernel_size=4, stride=2, input_size=7)
    assert row.realization == "native" and pads_of(row) == (2, 1, 2, 1)


def test_kernel_larger_than_input_returns_an_empty_output() -> None:
    row = run("jax", kernel_size=7)
    assert (row.status, row.expected, row.mismatch_on, row.out_shape) == ("mismatch", "error", "shape", "1x3x0x0")


def test_float64_does_not_leak_x64_into_other_cases() -> None:
    import jax.numpy as jnp

    assert run("jax", dtype="float64").status == "match"
    with pytest.warns(UserWarning, match="truncated to dtype float32"):  # JAX says so when x64 is off
        assert jnp.zeros(1, dtype="float64").dtype == jnp.float32  # x64 stays off outside the case


def test_stride_0_is_refused() -> None:
    row = run("jax", stride=0)
    assert row.status == "error" and row.passed
    assert row.error_message.endswith("but got 0.")  # without XLA's location trailer (our call sites)


def test_transposed_valid_with_stride_above_kernel_keeps_in_times_stride() -> None:
    row = run("jax", op="conv_transpose", input_size=[4, 4], kernel_size=2, stride=3)
    assert (row.status, row.mismatch_on, row.out_shape, pads_of(row)) == ("mismatch", "shape", "1x3x12x12", (0, -1, 0, -1))


def test_grouped_transposed_runs_one_call_per_group() -> None:
    row = run("jax", op="conv_transpose", in_channels=4, out_channels=6, groups=2, stride=2, padding=[[0, 1], [2, 0]])
    assert (row.status, row.realization) == ("match", "emulated")


GRADIENT_DIFFERS = set()
GRADIENT_DIFFERS |= set(HALF)  # JAX sums db in the half precision (cases/gradients.yaml)


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in GRADIENT_DIFFERS])
def test_gradients_match(name: str) -> None:
    from battery import assert_gradients_match

    assert_gradients_match("jax", VALID_CONFIGS[name])


@pytest.mark.parametrize("name", HALF)
def test_half_precision_gradients_are_summed_in_half_precision(name: str) -> None:
    from battery import assert_half_accumulation

    assert_half_accumulation("jax", VALID_CONFIGS[name], "db")


def test_an_unbatched_case_runs_as_a_batch_of_one_and_says_so() -> None:
    row = run("jax", batch="none", padding="same")
    assert (row.status, row.realization, row.out_shape) == ("match", "emulated", "1x3x6x6"), row
