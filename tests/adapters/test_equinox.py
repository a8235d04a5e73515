"""Equinox layers through the harness: eqx.nn.Conv with its own padding modes, eqx.nn.ConvTranspose with
the kernel recipe that makes it torch's transposed convolution."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("equinox")

from battery import HALF, VALID_CONFIGS, assert_matches, run
from helpers import make_case

UNSUPPORTED = {n for n, f in VALID_CONFIGS.items() if f.get("op") == "separable"}
EMULATED = {"convolve-2d-asymmetric", "convolve-1d-full", "convolve-1-tap"}  # a conv on flipped weights
REFUSED = {"in-channels-0"}  # Equinox's initialiser divides by in_channels * prod(kernel) (cases/edge_cases.yaml)


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in UNSUPPORTED | REFUSED])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("equinox", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


def test_zero_input_channels_fail_in_the_initialiser() -> None:
    row = run("equinox", **VALID_CONFIGS["in-channels-0"])
    assert (row.status, row.error_type) == ("error", "ZeroDivisionError")


def test_conv_transpose_needs_the_flipped_and_swapped_kernel() -> None:
    """Equinox's ConvTranspose convolves the stride-dilated input with its weight as it is: torch's kernel
    handed over unchanged computes something else (equinox #728); the adapter's recipe computes torch's."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from harness.adapters.registry import get_adapter
    from harness.export.script import load, port_program
    from harness.model.data import make_tensors
    from harness.truth.reference import reference

    case = make_case(op="conv_transpose", in_channels=2, out_channels=4, groups=2, stride=2, padding=1,
                     output_padding=1, dtype="float64", layout="channels_first")
    t = make_tensors(case, 1)
    ref = reference(case, t).out
    text = port_program(case, get_adapter("equinox"))
    assert "jnp.flip" in text and "swapaxes(1, 2)" in text
    np.testing.assert_allclose(load(text)(t.input, t.weights, t.bias), ref, rtol=1e-10, atol=1e-10)
    with jax.enable_x64(True):
        layer = eqx.nn.ConvTranspose(2, 2, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=jnp.float64,
                                     key=jax.random.PRNGKey(0))
        as_is = eqx.tree_at(lambda m: (m.weight, m.bias), layer, (jnp.asarray(t.weights.reshape(4, 1, 3, 3)),
                                                                   jnp.asarray(t.bias.reshape(4, 1, 1))))
        y = np.asarray(jax.vmap(as_is)(jnp.asarray(t.input)))
    assert y.shape == ref.shape and not np.allclose(y, ref, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in UNSUPPORTED | REFUSED | set(HALF)])
def test_gradients_match(name: str) -> None:
    from battery import assert_gradients_match

    assert_gradients_match("equinox", VALID_CONFIGS[name])


@pytest.mark.parametrize("name", HALF)
def test_half_precision_bias_gradients_are_summed_in_half_precision(name: str) -> None:
    """As for jax.lax (cases/gradients.yaml): the bias add's transpose sums db in float16 / bfloat16."""
    from battery import assert_half_accumulation

    assert_half_accumulation("equinox", VALID_CONFIGS[name], "db")
