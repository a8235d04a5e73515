"""Each framework's documented default initialisers for a case's layer: the declared side of the init pass.

A rule is what the framework's documentation and source say (cited per rule); the init pass measures the
layer's real draws and tests them against it, and against torch's (the reference, as the seeds walk
through torch's `reset_parameters`). Fans are counted on each framework's own weight layout, which is
where they differ: torch's ConvTranspose weight is (in, out/groups, *k), so its "fan_in" counts output
channels; Keras and flax count the last two kernel axes; Equinox counts in_channels/groups for both
of its layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..model.distributions import Distribution
from ..model.schema import Conv


@dataclass(frozen=True)
class Rule:
    """One parameter's documented default: a family whose scale is a function of one fan."""

    family: str
    formula: str  # the scale in words, e.g. 'U(±1/sqrt(fan_in))'
    fan_name: str  # what the fan counts, e.g. 'fan_in = in/groups x k'
    fan: int
    scale_of_fan: Callable[[float], float]
    fan_of_scale: Callable[[float], float]  # the inverse: the fan a measured scale implies

    @property
    def distribution(self) -> Distribution:
        return Distribution(self.family, self.scale_of_fan(self.fan))

    def text(self) -> str:
        return f"{self.formula}, {self.fan_name} = {self.fan}: {self.distribution.text()}"


def _root(numerator: float) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """scale = sqrt(numerator / fan) and its inverse."""
    return (lambda fan: math.sqrt(numerator / fan) if fan > 0 else 0.0,
            lambda scale: numerator / scale**2 if scale > 0 else math.inf)


def _uniform(name: str, fan: int, numerator: float = 1.0, formula: str = "U(±1/sqrt(fan_in))") -> Rule:
    return Rule("uniform", formula, name, fan, *_root(numerator))


ZEROS = Rule("constant", "zeros", "no fan", 0, lambda fan: 0.0, lambda scale: math.nan)


def receptive(conv: Conv) -> int:
    return math.prod(conv.kernel_size)


def torch_rule(conv: Conv) -> tuple[Rule, Rule | None]:
    """reset_parameters: kaiming_uniform_(weight, a=sqrt(5)), i.e. U(±gain*sqrt(3/fan_in)) with gain
    sqrt(2/(1+5)), which is U(±1/sqrt(fan_in)); the bias U(±1/sqrt(fan_in)) with the same fan
    (torch/nn/modules/conv.py). fan_in = weight.size(1) x k: out/groups for ConvTranspose."""
    channels = conv.out_channels if conv.op == "conv_transpose" else conv.in_channels
    fan = channels // max(conv.groups, 1) * receptive(conv)
    side = "out" if conv.op == "conv_transpose" else "in"
    rule = _uniform(f"fan_in = {side}/groups x k", fan)
    return rule, rule if conv.bias else None


def keras_fans(conv: Conv) -> tuple[int, int, str]:
    """fan_in and fan_out as keras.initializers count them on the layer's kernel: the last two axes times
    the receptive field. Conv (*k, in/groups, out); ConvnDTranspose (*k, out, in); DepthwiseConv1D/2D
    (*k, in, multiplier)."""
    k = receptive(conv)
    if conv.op == "conv_transpose":
        return conv.out_channels * k, conv.in_channels * k, "(out + in) x k"
    if conv.rank < 3 and conv.groups == conv.in_channels > 1:
        return conv.in_channels * k, conv.out_channels // conv.in_channels * k, "(in + multiplier) x k"
    return conv.in_channels // max(conv.groups, 1) * k, conv.out_channels * k, "(in/groups + out) x k"


def keras_rule(conv: Conv) -> tuple[Rule, Rule | None]:
    """kernel_initializer='glorot_uniform': U(±sqrt(6/(fan_in + fan_out))); bias_initializer='zeros'
    (keras/src/layers/convolutional/base_conv.py, keras/src/initializers/random_initializers.py)."""
    fan_in, fan_out, words = keras_fans(conv)
    rule = _uniform(f"fan_in + fan_out = {words}", fan_in + fan_out, 6.0, "U(±sqrt(6/(fan_in + fan_out)))")
    return rule, ZEROS if conv.bias else None


def flax_rule(conv: Conv) -> tuple[Rule, Rule | None]:
    """nnx.Conv and nnx.ConvTranspose: kernel_init lecun_normal, variance_scaling(1, 'fan_in',
    'truncated_normal'), standard deviation sqrt(1/fan_in) after the cut at ±2; bias zeros
    (flax/nnx/nn/linear.py). fan_in counts the kernel's axis -2: in/groups for Conv, and out for the
    ConvTranspose this harness builds (transpose_kernel=True: kernel (*k, out, in))."""
    channels = conv.out_channels if conv.op == "conv_transpose" else conv.in_channels // max(conv.groups, 1)
    side = "out" if conv.op == "conv_transpose" else "in/groups"
    rule = Rule("truncated_normal", "N(0, 1/fan_in) cut at ±2σ₀", f"fan_in = {side} x k", channels * receptive(conv),
                *_root(1.0))
    return rule, ZEROS if conv.bias else None


def equinox_rule(conv: Conv) -> tuple[Rule, Rule | None]:
    """eqx.nn.Conv and eqx.nn.ConvTranspose: weight and bias U(±lim), lim = 1/sqrt(in/groups x k), for
    both layers (equinox/nn/_conv.py)."""
    rule = _uniform("fan_in = in/groups x k", conv.in_channels // max(conv.groups, 1) * receptive(conv))
    return rule, rule if conv.bias else None


RULES: dict[str, Callable[[Conv], tuple[Rule, Rule | None]]] = {
    "torch": torch_rule, "keras": keras_rule, "flax": flax_rule, "equinox": equinox_rule}
REFERENCE_RULE = "torch"  # what the init pass compares every framework with
