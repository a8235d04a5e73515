"""The documented default rules, against hand-computed bounds and fans (no framework)."""

from __future__ import annotations

import math

import pytest
from helpers import make_case

from harness.adapters.defaults import RULES, keras_fans
from harness.model.distributions import TRUNCATED_STD

SEED = make_case(in_channels=16, out_channels=33, kernel_size=3, stride=2, input_size=[16, 16])
TRANSPOSED = make_case(op="conv_transpose", in_channels=4, out_channels=8, kernel_size=3, stride=2)
DEPTHWISE = make_case(in_channels=6, out_channels=12, groups=6, kernel_size=3)
GROUPED_3D = make_case(in_channels=8, out_channels=12, groups=4, kernel_size=[2, 3, 3], input_size=[5, 6, 6])


def test_torch_kaiming_uniform_a_sqrt5_is_one_over_root_fan_in() -> None:
    """gain sqrt(2/(1+5)) times sqrt(3/fan_in) is 1/sqrt(fan_in); the bias shares the bound."""
    kernel, bias = RULES["torch"](SEED)
    assert kernel.fan == 16 * 9 and kernel.distribution.scale == pytest.approx(1 / 12)
    assert kernel.distribution.scale == pytest.approx(math.sqrt(2 / (1 + 5)) * math.sqrt(3 / 144))
    assert bias is not None and bias.distribution == kernel.distribution


def test_torch_transposed_fan_counts_output_channels() -> None:
    kernel, _ = RULES["torch"](TRANSPOSED)
    assert kernel.fan == 8 * 9 and kernel.fan_name.startswith("fan_in = out/groups")
    assert RULES["torch"](GROUPED_3D)[0].fan == 2 * 18


def test_keras_glorot_counts_the_last_two_kernel_axes() -> None:
    assert keras_fans(SEED)[:2] == (16 * 9, 33 * 9)  # (3, 3, 16, 33)
    assert keras_fans(TRANSPOSED)[:2] == (8 * 9, 4 * 9)  # (3, 3, 8, 4): out, then in
    assert keras_fans(DEPTHWISE)[:2] == (6 * 9, 2 * 9)  # DepthwiseConv2D (3, 3, 6, 2)
    assert keras_fans(GROUPED_3D)[:2] == (2 * 18, 12 * 18)  # Conv3D(groups=4) (2, 3, 3, 2, 12)
    kernel, bias = RULES["keras"](SEED)
    assert kernel.distribution.scale == pytest.approx(math.sqrt(6 / (144 + 297)))
    assert bias is not None and (bias.family, bias.distribution.scale) == ("constant", 0.0)


def test_flax_lecun_normal_has_standard_deviation_one_over_root_fan_in() -> None:
    kernel, bias = RULES["flax"](SEED)
    assert kernel.family == "truncated_normal" and kernel.distribution.scale == pytest.approx(1 / 12)
    assert kernel.distribution.frozen().std() == pytest.approx(1 / 12)  # after the cut at 2 / 0.8796
    assert kernel.distribution.frozen().kwds["scale"] == pytest.approx(1 / 12 / TRUNCATED_STD)
    assert RULES["flax"](TRANSPOSED)[0].fan == 8 * 9  # transpose_kernel=True: (3, 3, out, in)
    assert bias is not None and bias.distribution.scale == 0


def test_equinox_counts_input_channels_for_both_layers() -> None:
    assert RULES["equinox"](SEED)[0].fan == 144
    assert RULES["equinox"](TRANSPOSED)[0].fan == 4 * 9
    assert RULES["equinox"](make_case(bias=False))[1] is None


def test_the_inverse_gives_the_fan_back() -> None:
    for name in ("torch", "keras", "flax", "equinox"):
        kernel, _ = RULES[name](SEED)
        assert kernel.fan_of_scale(kernel.distribution.scale) == pytest.approx(kernel.fan)
