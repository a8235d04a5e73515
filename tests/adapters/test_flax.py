"""Flax nnx layers through the harness: nnx.Conv with its own padding words, nnx.ConvTranspose with the
transpose_kernel recipe that makes it torch's transposed convolution, and the layers called directly."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("flax")

from battery import HALF, VALID_CONFIGS, assert_matches, pads_of, run
from helpers import make_case

UNSUPPORTED = {n for n, f in VALID_CONFIGS.items() if f.get("op") == "separable"}
EMULATED = {"reflect", "reflect-asymmetric", "replicate", "circular", "convolve-2d-asymmetric", "convolve-1d-full",
            "convolve-1-tap"}  # jnp.pad first; a conv on flipped weights
REFUSED = {"in-channels-0"}  # jax's variance_scaling divides by in_channels (cases/edge_cases.yaml)
WORD = {"reflect-same"}  # flax's own 'REFLECT': its pads are not probed


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in UNSUPPORTED | REFUSED | WORD])
def test_valid_configurations_match(name: str) -> None:
    assert_matches("flax", VALID_CONFIGS[name], "emulated" if name in EMULATED else "native")


def test_reflect_same_at_stride_1_is_the_layer_word_and_matches() -> None:
    row = run("flax", **VALID_CONFIGS["reflect-same"])
    assert (row.status, row.realization, pads_of(row)) == ("match", "native", None)


def test_zero_input_channels_fail_in_the_initialiser() -> None:
    row = run("flax", **VALID_CONFIGS["in-channels-0"])
    assert (row.status, row.error_type) == ("error", "ZeroDivisionError")


def test_grouped_transposed_convolution_is_unsupported() -> None:
    row = run("flax", op="conv_transpose", in_channels=4, out_channels=6, groups=2, stride=2)
    assert row.status == "unsupported" and "feature_group_count" in row.error_message


def test_unbatched_input_is_native() -> None:
    row = run("flax", batch="none", padding="same")
    assert (row.status, row.realization) == ("match", "native")


def test_reflect_word_pads_the_stride_1_rule_at_every_stride() -> None:
    """'REFLECT' is flax's own: ((k-1)//2, k//2) whatever the stride (cases/padding_modes.yaml), so a
    strided 'same' reflect case is one pixel off on the axis where TensorFlow's SAME pads (0, 1);
    the pads are not probed (the probe would read reflected values)."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    fields = {"padding": "same", "padding_mode": "reflect", "stride": 2, "input_size": [7, 8]}
    row = run("flax", **fields)
    assert (row.status, row.realization, row.mismatch_on, pads_of(row)) == ("mismatch", "native", "values", None)
    x = np.random.default_rng(0).standard_normal((1, 7, 8, 2)).astype(np.float32)
    layer = nnx.Conv(2, 3, (3, 3), strides=2, padding="REFLECT", use_bias=False, rngs=nnx.Rngs(0))
    padded = jnp.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")  # the stride-1 rule on both axes
    direct = jax.lax.conv_general_dilated(padded, layer.kernel[...], (2, 2), "VALID",
                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(direct), rtol=1e-6, atol=1e-6)
    assert run("flax", **{**fields, "stride": 1}).status == "match"


def test_transposed_recipe_is_transpose_kernel_with_explicit_pairs() -> None:
    """torch's ConvTranspose2d(padding=p, output_padding=op) in flax: transpose_kernel=True, the kernel's
    axes moved, pads (d*(k-1) - p, d*(k-1) - p + op) (flax #1872); torch's p handed over as flax's padding
    computes something else, as flax's docstring warns."""
    import jax.numpy as jnp
    from flax import nnx

    from harness.adapters.registry import get_adapter
    from harness.export.script import load, port_program
    from harness.model.data import make_tensors
    from harness.truth.reference import reference

    case = make_case(op="conv_transpose", in_channels=2, out_channels=3, stride=2, padding=1, output_padding=1,
                     dilation=2, dtype="float32", layout="channels_first")
    t = make_tensors(case, 1)
    ref = reference(case, t).out
    text = port_program(case, get_adapter("flax"))
    assert "transpose_kernel=True" in text and "((3, 4), (3, 4))" in text
    np.testing.assert_allclose(load(text)(t.input, t.weights, t.bias), ref, rtol=1e-5, atol=1e-5)
    naive = nnx.ConvTranspose(2, 3, (3, 3), strides=2, padding=1, kernel_dilation=2, transpose_kernel=True,
                              rngs=nnx.Rngs(0))
    naive.kernel = nnx.Param(jnp.asarray(t.weights.transpose(2, 3, 1, 0)))
    naive.bias = nnx.Param(jnp.asarray(t.bias))
    y = np.moveaxis(np.asarray(naive(jnp.asarray(np.moveaxis(t.input, 1, -1)))), -1, 1)
    assert y.shape != ref.shape or not np.allclose(y, ref, atol=1e-4)


@pytest.mark.parametrize("name", [n for n in VALID_CONFIGS if n not in UNSUPPORTED | REFUSED | set(HALF)])
def test_gradients_match(name: str) -> None:
    from battery import assert_gradients_match

    assert_gradients_match("flax", VALID_CONFIGS[name])


@pytest.mark.parametrize("name", HALF)
def test_half_precision_bias_gradients_are_summed_in_half_precision(name: str) -> None:
    """As for jax.lax (cases/gradients.yaml): the bias add's transpose sums db in float16 / bfloat16."""
    from battery import assert_half_accumulation

    assert_half_accumulation("flax", VALID_CONFIGS[name], "db")
