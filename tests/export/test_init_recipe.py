"""`port`'s initialiser recipes, measured: the printed code draws the source framework's default distribution
for the layer (KS at the init pass's ALPHA, family named from the draws), in the target framework."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import make_case

from harness.adapters.defaults import RULES
from harness.adapters.registry import get_adapter
from harness.export.init_recipe import recipe
from harness.export.script import port_program
from harness.model.distributions import ALPHA, fit, p_value

SEED = {"in_channels": 16, "out_channels": 33, "kernel_size": 3, "stride": 2, "input_size": [16, 16]}
TRANSPOSED = {"op": "conv_transpose", "in_channels": 4, "out_channels": 8, "kernel_size": 3, "stride": 2,
              "input_size": [5, 5]}
DEPTHWISE = {"in_channels": 6, "out_channels": 12, "groups": 6, "kernel_size": 3, "input_size": [9, 9]}


def namespace(fields: dict[str, Any], target: str, source: str) -> tuple[Any, dict[str, Any]]:
    case = make_case(**fields, layout="channels_first")
    ns: dict[str, Any] = {"__name__": "ported"}
    exec(compile(port_program(case, get_adapter(target), source), "<port>", "exec"), ns)
    return case, ns


def assert_draws(case: Any, source: str, kernel: np.ndarray, bias: np.ndarray) -> None:
    wanted_kernel, wanted_bias = RULES[source](case)
    for values, rule in ((kernel, wanted_kernel), (bias, wanted_bias)):
        assert rule is not None
        assert fit(values).family == rule.distribution.family or rule.distribution.scale == 0
        assert p_value(values, rule.distribution) >= ALPHA, (rule.text(), fit(values))


def keras_draws(ns: dict[str, Any], case: Any) -> tuple[np.ndarray, np.ndarray]:
    keras = pytest.importorskip("keras")
    shape = (*case.kernel_size, case.in_channels // case.groups, case.out_channels)
    draw = ns.get("kernel_initializer") or ns["depthwise_initializer"]
    kernel = np.concatenate([keras.ops.convert_to_numpy(draw(shape)).ravel() for _ in range(45)])
    bias = np.concatenate([keras.ops.convert_to_numpy(ns["bias_initializer"]((case.out_channels,))) for _ in range(1000)])
    return kernel.astype(np.float64), bias.astype(np.float64)


@pytest.mark.parametrize("fields", [SEED, TRANSPOSED, DEPTHWISE], ids=["conv", "transposed", "depthwise"])
def test_torch_defaults_in_keras(fields: dict[str, Any]) -> None:
    pytest.importorskip("tensorflow")
    case, ns = namespace(fields, "keras", "torch")
    assert_draws(case, "torch", *keras_draws(ns, case))


@pytest.mark.parametrize("source", ["flax", "equinox"])
def test_jax_layers_defaults_in_keras(source: str) -> None:
    """flax's truncated normal (keras.random.truncated_normal cuts at two deviations too) and Equinox's bounds."""
    pytest.importorskip("tensorflow")
    case, ns = namespace(TRANSPOSED, "keras", source)
    assert_draws(case, source, *keras_draws(ns, case))


def test_keras_defaults_in_flax() -> None:
    pytest.importorskip("flax")
    import jax

    case, ns = namespace(SEED, "flax", "keras")
    keys = jax.random.split(jax.random.key(2), 45)
    kernel = np.concatenate([np.asarray(ns["kernel_init"](k, (3, 3, 16, 33))).ravel() for k in keys])
    bias = np.asarray(ns["bias_init"](keys[0], (33,)))
    assert_draws(case, "keras", kernel.astype(np.float64), bias.astype(np.float64))


@pytest.mark.parametrize("fields", [SEED, TRANSPOSED], ids=["conv", "transposed"])
def test_torch_defaults_in_flax(fields: dict[str, Any]) -> None:
    pytest.importorskip("flax")
    import jax

    case, ns = namespace(fields, "flax", "torch")
    keys = jax.random.split(jax.random.key(0), 1000)
    kernel = np.concatenate([np.asarray(ns["kernel_init"](k, (3, 3, 16, 33))).ravel() for k in keys[:40]])
    bias = np.asarray(jax.vmap(lambda k: ns["bias_init"](k, (case.out_channels,)))(keys)).ravel()
    assert_draws(case, "torch", kernel.astype(np.float64), bias.astype(np.float64))


def test_torch_defaults_in_equinox_transposed_layer() -> None:
    """Equinox's ConvTranspose bound counts in_channels: the recipe replaces its weight and bias."""
    pytest.importorskip("equinox")
    import jax

    case, ns = namespace(TRANSPOSED, "equinox", "torch")
    layers = jax.vmap(lambda k: ns["initialise"](ns["build"](k), k))(jax.random.split(jax.random.key(1), 700))
    assert_draws(case, "torch", np.asarray(layers.weight, np.float64).ravel(), np.asarray(layers.bias, np.float64).ravel())


@pytest.mark.parametrize("source", ["keras", "flax", "equinox"])
def test_other_defaults_in_torch(source: str) -> None:
    """keras' glorot and zeros, flax's truncated lecun normal and zeros, Equinox's transposed bound, in torch."""
    pytest.importorskip("torch")
    case, ns = namespace(TRANSPOSED, "torch", source)
    kernels, biases = [], []
    for _ in range(700):
        ns["initialise"](ns["layer"])
        kernels.append(ns["layer"].weight.detach().double().numpy().ravel())
        biases.append(ns["layer"].bias.detach().double().numpy())
    assert_draws(case, source, np.concatenate(kernels[:200]), np.concatenate(biases))


def test_keras_depthwise_layers_take_the_recipe_as_depthwise_initializer() -> None:
    """Keras users write DepthwiseConv2D for groups == in_channels; it has no kernel_initializer argument."""
    keras = pytest.importorskip("keras")
    case, ns = namespace(DEPTHWISE, "keras", "torch")
    assert "kernel_initializer" not in ns
    layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer=ns["depthwise_initializer"],
                                         bias_initializer=ns["bias_initializer"])
    layer.build((1, 9, 9, 6))
    values = np.asarray(keras.ops.convert_to_numpy(layer.kernel), np.float64).ravel()
    assert np.abs(values).max() <= 1 / 3 and np.abs(values).max() > 0.3  # torch's U(±1/sqrt(9))


def test_a_source_without_such_a_layer_is_refused() -> None:
    from harness.adapters.errors import Unsupported

    grouped = make_case(op="conv_transpose", in_channels=4, out_channels=6, groups=2, kernel_size=3)
    for source in ("keras", "flax"):
        with pytest.raises(Unsupported, match="no groups|feature_group_count"):
            recipe(grouped, get_adapter("torch"), source)
    assert "def initialise" in recipe(grouped, get_adapter("torch"), "equinox")


def test_a_recipe_is_only_written_where_the_defaults_differ() -> None:
    conv = make_case(**SEED)
    assert "already" in recipe(conv, get_adapter("equinox"))  # Equinox's Conv bounds are torch's
    assert "already" in recipe(conv, get_adapter("torch"))
    assert recipe(conv, get_adapter("jax")) == "" and recipe(conv, get_adapter("torch-functional")) == ""
    assert "def initialise" in recipe(make_case(**TRANSPOSED), get_adapter("equinox"))
